"""The shared vocabulary: frozen dataclasses that flow from ingest to retrieval, answer, UI and eval."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

Source = Literal["dense", "bm25", "fused"]


@dataclass(frozen=True)
class Document:
    """One source file as text, with its metadata.

    ``text`` is the extracted body; chunk spans index into it. ``body_offset`` is where the body
    starts in the raw file for plain-text formats (after a leading ``date YYYY-MM-DD`` header).
    """

    id: str
    path: str
    title: str
    date: str | None
    text: str
    content_hash: str
    body_offset: int = 0
    pages: tuple[tuple[int, int, int], ...] = ()  # (page number, start, end) in ``text``; () if unpaged
    sections: tuple[tuple[int, str], ...] = ()  # (start in ``text``, heading path) in order; () if none
    # (start, end) of units kept in one chunk where they fit and never merged with a neighbour: a
    # table, a spreadsheet row, a slide, a notebook cell, a mail message; a longer one is cut at lines.
    blocks: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A span of a document: ``document.text[start:end] == text``.

    ``file_offset`` is where the document text starts in its source file (after a date header or
    front matter), so ``start + file_offset`` is the position a user finds in the file. ``page`` is
    the PDF page (or slide) holding most of the span, ``section`` the heading path ("Costs > 2024")
    of a Markdown, HTML or .docx file, or where else it is: "Sheet1 > row 12", a mail's subject and
    date, "cell 4" of a notebook; None when the format has none. ``collection`` is the name given at
    ingest (``rag ingest --collection``), "" for none. ``source_path`` (the file as resolved at
    ingest) and ``source_hash`` (its sha256 then) let ``rag check --repair`` rebuild a lost manifest
    from the vector store; "" in an older index.
    """

    id: str
    doc_id: str
    start: int
    end: int
    text: str
    title: str = ""
    path: str = ""
    date: str | None = None
    file_offset: int = 0
    page: int | None = None
    section: str | None = None
    collection: str = ""
    source_path: str = ""
    source_hash: str = ""

    @property
    def file_span(self) -> tuple[int, int]:
        """Return (start, end) as character positions in the source file."""
        return self.start + self.file_offset, self.end + self.file_offset


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its scores; ``rank`` is 1-based within one retrieval.

    ``flags`` marks passages to distrust, e.g. ``"instructions"`` for text that addresses the model
    ("ignore previous instructions", "answer with ..."): shown to the user, never evidence.
    """

    chunk: Chunk
    score: float
    rank: int
    source: Source
    dense_score: float | None = None
    lexical_score: float | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class DateWindow:
    """Days a question refers to ("this week", "in March"), as inclusive ISO dates."""

    start: str
    end: str
    text: str


@dataclass(frozen=True)
class Scope:
    """Which documents a question may use (``ask(..., where=Scope(...))``, ``rag ask --in``).

    Each field that is set narrows the scope (they combine with AND); within a field any value may
    match (OR). Retrieval applies the scope inside Chroma and BM25, never to a finished top-k.
    """

    paths: tuple[str, ...] = ()  # globs on the path ``rag docs`` shows or the absolute path; a folder
    titles: tuple[str, ...] = ()  # case-insensitive globs on the title, e.g. "*contract*"
    collections: tuple[str, ...] = ()  # names given with ``rag ingest --collection``
    doc_ids: tuple[str, ...] = ()  # document ids (``rag docs --json``; the UI's selection)
    since: str | None = None  # ISO date, inclusive; a date range leaves undated documents out
    until: str | None = None  # ISO date, inclusive

    def __bool__(self) -> bool:
        """Return True when the scope narrows anything."""
        return any((self.paths, self.titles, self.collections, self.doc_ids, self.since, self.until))


@dataclass(frozen=True)
class Query:
    """A question as retrieval and the prompt see it: text, the day it is asked, the dates it names."""

    text: str
    as_of: str  # ISO date; passages dated later are not used
    windows: tuple[DateWindow, ...] = ()
    recent: bool = (
        False  # it asks about the present ("recently", "the latest", "new"): evidence must be recent
    )
    scope: Scope | None = None  # the documents it may use (None: all)


@dataclass(frozen=True)
class Conflict:
    """Two passages about the question that state different figures: the older one is set aside."""

    older: Passage
    newer: Passage
    older_says: str  # the stretch of each that states its figure
    newer_says: str


@dataclass(frozen=True)
class Citation:
    """A ``[n]`` marker in the answer, resolved to the passage it names and checked against it.

    ``quote`` is the sentence's best-supported stretch of the passage, located by ``quote_start`` and
    ``quote_end`` (offsets into the document text). ``inferred`` marks citations the model left out
    and the checker attached because the passage supports the sentence.
    """

    n: int
    passage: Passage
    sentence: str
    supported: bool
    quote: str
    quote_start: int
    quote_end: int
    inferred: bool = False


@dataclass(frozen=True)
class SentenceCheck:
    """One answer sentence and whether its cited passages support it."""

    text: str
    cited: tuple[int, ...]
    supported: bool
    reason: str = ""


@dataclass(frozen=True)
class Timings:
    """Seconds per stage of one answer, and token counts; ``load`` is one-time model loading."""

    load: float = 0.0
    retrieve: float = 0.0
    prompt: float = 0.0
    first_token: float = 0.0
    generate: float = 0.0
    check: float = 0.0
    total: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class Answer:
    """What ``ask()`` returns; the CLI, UI and eval all read this one type."""

    question: str
    text: str
    citations: tuple[Citation, ...]
    passages: tuple[Passage, ...]
    abstained: bool
    timings: Timings
    sentences: tuple[SentenceCheck, ...] = ()
    draft: str = ""
    rewritten: str = ""  # the self-contained question searched for, when a follow-up was rewritten
    abstain_reason: str = ""
    invalid_citations: tuple[int, ...] = ()
    as_of: str = ""  # the day the question was asked (ISO); later documents were not used
    # The answer's estimated probability of being right: the fitted confidence model over ``signals``
    # (rag.verify.confidence); None when no answer was drafted or no model is shipped.
    confidence: float | None = None
    scope: Scope | None = None  # the documents it was asked within (None: all)
    signals: tuple[tuple[str, float], ...] = ()  # what the confidence was computed from (rag.verify.signals)
    conflicts: tuple[Conflict, ...] = ()  # passages a newer one contradicts (set aside, listed last)


@dataclass(frozen=True)
class FileProblem:
    """A file that could not be ingested, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class IngestReport:
    """Summary of one ingest run (``rag ingest --json`` prints it)."""

    documents_seen: int = 0
    documents_changed: int = 0
    chunks_embedded: int = 0
    chunks_skipped: int = 0
    chunks_removed: int = 0
    documents_removed: int = 0
    seconds: float = 0.0
    problems: tuple[FileProblem, ...] = field(default_factory=tuple)
    generation: int = 0  # the index's commit number after this run
    notes: tuple[str, ...] = ()  # what the run had to do first (a damaged store moved aside, ...)

    @property
    def failures(self) -> tuple[FileProblem, ...]:
        """The files that could not be ingested (warnings, e.g. a cp1252 fallback, are not failures)."""
        return tuple(p for p in self.problems if not p.reason.startswith("warning"))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


WatchKind = Literal["watching", "added", "updated", "removed", "renamed", "failed", "error", "stopped"]


@dataclass(frozen=True)
class WatchEvent:
    """One change ``rag watch`` made to the index, or could not make: one line of its output.

    ``path`` is the document's path as ``rag docs`` shows it (for "watching", the folders watched);
    ``detail`` is its chunk count, why it failed, or a renamed file's old path.
    """

    kind: WatchKind
    path: str
    detail: str = ""


@dataclass(frozen=True)
class Retrieved:
    """Streaming event: the passages, known before the first token."""

    passages: tuple[Passage, ...]


@dataclass(frozen=True)
class Token:
    """Streaming event: a piece of generated text."""

    text: str


@dataclass(frozen=True)
class Done:
    """Streaming event: the final, checked answer."""

    answer: Answer


StreamEvent = Retrieved | Token | Done


@dataclass(frozen=True)
class DocumentInfo:
    """One indexed document as listed by ``rag docs`` and the UI."""

    doc_id: str
    path: str
    title: str
    date: str | None
    chunks: int
    collection: str = ""


@dataclass(frozen=True)
class GoldItem:
    """One evaluation question: accepted answers (empty = unanswerable) and what supports them."""

    id: str
    question: str
    answers: tuple[str, ...]
    gold_doc_ids: tuple[str, ...] = ()
    evidence: str | None = None
    choices: tuple[str, ...] = ()
    kind: str = ""
    date: str = ""  # the day the question is asked (its "as of"); empty = today
    explanation: str = ""  # a text that states the answer (e.g. a quiz's explanation), for the oracle

    @property
    def answerable(self) -> bool:
        """True when the corpus holds an answer."""
        return bool(self.answers)


@dataclass(frozen=True)
class IndexStatus:
    """What the index holds, for the UI's status line (``embedder`` is "" when nothing is indexed)."""

    index_dir: str
    documents: int = 0
    chunks: int = 0
    embedder: str = ""
    dim: int = 0
    stray_uploads: tuple[str, ...] = ()  # uploaded files that are not in the index (removable)


@dataclass(frozen=True)
class UploadReport:
    """What adding uploaded files did: stored, already there, refused, and removed again after ingest."""

    stored: tuple[str, ...] = ()  # names given to new uploads (numbered when the name was taken)
    duplicates: tuple[str, ...] = ()  # uploads whose content was already there, under this name
    refused: tuple[str, ...] = ()  # why a file was not stored (type, size)
    failed: tuple[FileProblem, ...] = ()  # ingest could not read these; their copies were deleted
    ingest: IngestReport | None = None


@dataclass(frozen=True)
class IndexCheck:
    """What ``rag check`` found: where the vector store, the manifest and BM25 disagree (0: they agree)."""

    documents: int = 0
    chunks: int = 0  # committed chunks (the manifest's)
    vectors: int = 0  # vectors in the store
    generation: int = 0
    orphan_vectors: int = 0  # vectors the manifest does not list (never answered from)
    missing_vectors: int = 0  # committed chunks with no vector (dense search cannot find them)
    span_mismatches: int = 0  # vectors whose spans, title or date differ from the manifest's
    bm25_missing: int = 0  # committed chunks the BM25 version lacks
    bm25_extra: int = 0  # BM25 rows that are not committed chunks, or duplicated
    bm25_version_missing: bool = False  # the BM25 version the manifest names is gone or unreadable
    stale_bm25_versions: int = 0  # BM25 folders the manifest does not name
    unfinished_journal: bool = False  # an ingest died before it cleaned up
    outdated_metadata: bool = False  # chunk metadata predates pages, sections, collections, sources
    manifest_missing: bool = False  # no manifest, but the vector store holds chunks
    manifest_damaged: bool = False  # the manifest cannot be read
    store_damaged: bool = False  # the vector store cannot be opened or searched
    store_missing: bool = False  # no vector store, but the manifest lists chunks
    bm25_damaged: bool = False  # the BM25 folder the manifest names cannot be loaded
    unplaced_vectors: int = 0  # vectors with no document to rebuild them into (deleted only with --force)
    lost_chunks: int = 0  # listed chunks with no vector whose files are gone (forgotten only with --force)
    repairs: tuple[str, ...] = ()  # what ``--repair`` did
    notes: tuple[str, ...] = ()  # what was found, in words: the cause and the command that fixes it

    def problems(self) -> dict[str, int]:
        """Return each disagreement found with its count (empty when the index is consistent)."""
        counts = ("documents", "chunks", "vectors", "generation", "repairs", "notes")
        return {f.name: int(v) for f in fields(self) if f.name not in counts and (v := getattr(self, f.name))}

    @property
    def clean(self) -> bool:
        """True when the vector store, the manifest and BM25 agree."""
        return not self.problems()

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape printed by ``rag check --json``."""
        return {**asdict(self), "clean": self.clean, "problems": self.problems()}


@dataclass(frozen=True)
class ChunkFilter:
    """A scope resolved against the manifest: what retrieval may return."""

    docs: frozenset[str]  # every document in scope (BM25's row mask)
    doc_ids: frozenset[str] | None = None  # Chroma's doc_id list; None when the scope needs none
    collections: tuple[str, ...] = ()
    since_day: int = 0  # YYYYMMDD, 0 = no lower bound
    until_day: int = 0  # YYYYMMDD, 0 = no upper bound


@dataclass(frozen=True)
class Draft:
    """The model's reply with its token probabilities and token counts."""

    text: str
    logprobs: tuple[tuple[str, float], ...] = ()
    prompt_tokens: int = 0
    completion_tokens: int = 0
