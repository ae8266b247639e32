"""Cut a Document into Chunks that fit the embedder's window, with exact character spans.

The work is linear in the text's length. A paragraph that fits is one chunk; a longer one is cut at
sentence ends, else at whitespace, else anywhere, and the pieces are packed by the embedder's own
token counts. LlamaIndex's SentenceSplitter is not used for this: it runs nltk's sentence regex
under a timeout guard, which raised TimeoutError on a 20 MB single-line text (after 50 s and
3.7 GB of memory) and did not finish a 2 MB line in 170 s; it also returns text rather than
spans, so each piece had to be searched for again. The scans below are plain linear regexes
(one character class each, no nested repetition) and every tokenizer call sees a bounded string.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence

from rag.core.text import page_of, section_of
from rag.core.types import Chunk, Document

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
# One end mark, closing quotes or brackets, then whitespace; or a CJK end mark (no space follows).
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s)|[。！？]")
_SPACE = re.compile(r"\s+")
# A chunk holds at most this many characters per token of budget: a tokenizer may read a long
# run of letters as one [UNK], so a token count alone does not bound a chunk's size.
CHARS_PER_TOKEN_CAP = 32

Span = tuple[int, int]
Counter = Callable[[str], int]


def paragraph_spans(text: str) -> list[Span]:
    """Return (start, end) of each blank-line separated paragraph, whitespace trimmed."""
    spans, pos = [], 0
    for brk in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = brk.start() if brk else len(text)
        span = _trim(text, pos, end)
        if span:
            spans.append(span)
        pos = brk.end() if brk else end
    return spans


def _trim(text: str, start: int, end: int) -> Span | None:
    """Return ``(start, end)`` without surrounding whitespace, or None when only whitespace is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


class _Budget:
    """Whether a span fits one chunk: at most ``max_tokens`` tokens and a bounded number of characters."""

    def __init__(self, text: str, count_tokens: Counter, max_tokens: int) -> None:
        self.text, self.count, self.max_tokens = text, count_tokens, max_tokens
        self.max_chars = max_tokens * CHARS_PER_TOKEN_CAP
        self.overhead = count_tokens("")  # [CLS] and [SEP]: counted once per chunk

    def tokens(self, start: int, end: int) -> int | None:
        """Return the bare token count of a span, or None when it is too long to be counted cheaply."""
        if end - start > self.max_chars:
            return None
        return self.count(self.text[start:end]) - self.overhead

    def fits(self, start: int, end: int) -> bool:
        """Return True when the span fits one chunk."""
        n = self.tokens(start, end)
        return n is not None and n + self.overhead <= self.max_tokens


def _sentences(text: str, start: int, end: int) -> Iterator[Span]:
    """Yield trimmed sentence spans of ``text[start:end]`` (cut after an end mark and its closers)."""
    pos = start
    for mark in _SENTENCE_END.finditer(text, start, end):
        span = _trim(text, pos, mark.end())
        if span:
            yield span
        pos = mark.end()
    span = _trim(text, pos, end)
    if span:
        yield span


def _longest_fit(budget: _Budget, start: int, end: int, guess: int) -> int:
    """Return ``q`` in (start, end] with ``text[start:q]`` fitting, within 3% of the longest such.

    The search starts from a guess (the previous piece's length), grows by 1/8 until a probe does
    not fit, then bisects: a handful of tokenizer calls on bounded strings per piece.
    """
    lo, hi = start, end + 1  # text[start:lo] fits; text[start:hi] does not (end + 1: not probed yet)
    q = min(end, start + max(1, guess))
    while True:
        if budget.fits(start, q):
            lo = q
        else:
            hi = q
        if lo == end or hi - lo <= max(1, (lo - start) // 32):
            return max(lo, start + 1)
        q = (lo + hi) // 2 if hi <= end else min(end, lo + max(1, (lo - start) // 8))


def _cut(budget: _Budget, start: int, end: int) -> Iterator[Span]:
    """Cut a span too long for one chunk at whitespace (else anywhere) into pieces that fit."""
    guess = budget.max_tokens * 4
    while start < end:
        q = _longest_fit(budget, start, end, guess)
        cut = next_start = q
        if q < end:
            spaces = list(_SPACE.finditer(budget.text, start + 1, q + 1))  # a bounded window
            if spaces:  # cut before the last whitespace run that starts in the piece
                cut, next_start = spaces[-1].start(), spaces[-1].end()
        yield start, cut
        guess = q - start  # the next piece is likely about as long
        start = next_start
        while start < end and budget.text[start].isspace():
            start += 1


def _lines(text: str, start: int, end: int) -> Iterator[Span]:
    """Yield the trimmed non-empty line spans of ``text[start:end]`` (rows of a table, lines of code)."""
    pos = start
    while pos < end:
        brk = text.find("\n", pos, end)
        stop = end if brk < 0 else brk
        span = _trim(text, pos, stop)
        if span:
            yield span
        pos = stop + 1


def _pieces(budget: _Budget, start: int, end: int, by_line: bool = False) -> Iterator[tuple[int, int, int]]:
    """Yield (start, end, bare tokens) of the sentences (or lines) of a span, long ones cut further."""
    for s, e in (_lines if by_line else _sentences)(budget.text, start, end):
        n = budget.tokens(s, e)
        if n is not None and n + budget.overhead <= budget.max_tokens:
            yield s, e, n
        else:
            for a, b in _cut(budget, s, e):
                yield a, b, budget.tokens(a, b) or 0


def _pack(budget: _Budget, start: int, end: int, overlap: int, by_line: bool = False) -> Iterator[Span]:
    """Pack a long paragraph's pieces greedily into chunks; each next one repeats ``overlap`` tokens."""
    pieces = list(_pieces(budget, start, end, by_line))
    limit = budget.max_tokens - budget.overhead
    i = 0
    while i < len(pieces):
        j, total = i + 1, pieces[i][2]
        while (
            j < len(pieces)
            and total + pieces[j][2] <= limit
            and pieces[j][1] - pieces[i][0] <= budget.max_chars
        ):
            total += pieces[j][2]
            j += 1
        while j - i > 1 and not budget.fits(pieces[i][0], pieces[j - 1][1]):  # a non-additive tokenizer
            j -= 1
        yield pieces[i][0], pieces[j - 1][1]
        if j == len(pieces):
            return
        k, carried = j, 0
        while k - 1 > i and carried + pieces[k - 1][2] <= overlap:
            k -= 1
            carried += pieces[k][2]
        i = k


def _block_units(budget: _Budget, paragraphs: Sequence[Span]) -> Iterator[Span]:
    """Keep a block (a table, a row, a cell: its paragraphs) in one unit where it fits, else cut at lines."""
    start, end = paragraphs[0][0], paragraphs[-1][1]
    if budget.fits(start, end):
        yield start, end
        return
    for p_start, p_end in paragraphs:
        if budget.fits(p_start, p_end):
            yield p_start, p_end
        else:
            yield from _pack(budget, p_start, p_end, 0, by_line=True)


def _units(budget: _Budget, overlap: int, blocks: Sequence[Span]) -> list[tuple[int, int, bool]]:
    """Return (start, end, in a block) of each unit: a paragraph that fits, a piece of one, or a block."""
    ordered = sorted(b for b in blocks if 0 <= b[0] < b[1] <= len(budget.text))
    units: list[tuple[int, int, bool]] = []
    group: list[Span] = []  # the paragraphs of the block being read

    def flush() -> None:
        if group:
            units.extend((s, e, True) for s, e in _block_units(budget, group))
            group.clear()

    b = 0
    for start, end in paragraph_spans(budget.text):
        while b < len(ordered) and ordered[b][1] <= start:
            b += 1
            flush()
        if b < len(ordered) and ordered[b][0] <= start:
            group.append((start, end))
            continue
        flush()
        if budget.fits(start, end):
            units.append((start, end, False))
        else:
            units.extend((s, e, False) for s, e in _pack(budget, start, end, overlap))
    flush()
    return units


def chunk_spans(
    text: str,
    count_tokens: Counter,
    max_tokens: int = 200,
    min_tokens: int = 24,
    overlap: int = 24,
    blocks: Sequence[Span] = (),
) -> list[Span]:
    """Return chunk spans: one per paragraph, long ones split by sentences, short ones merged.

    Paragraphs are the unit so an edit re-embeds only the chunks it touches; a short paragraph
    (a heading) joins the following one so it is not retrieved on its own. A block (a table, a
    spreadsheet row, a slide, a notebook cell, a message) is one chunk where it fits, never merged
    with a neighbour, and cut at its line breaks where it does not fit. The work is linear in
    ``len(text)``: no tokenizer call sees more than ``max_tokens * CHARS_PER_TOKEN_CAP`` characters
    (but for a paragraph's sentences, each counted once).

    Args:
        text: The document text.
        count_tokens: Counts the embedder's word-pieces in a string (special tokens included).
        max_tokens: Most word-pieces per chunk as ``count_tokens`` counts them.
        min_tokens: Paragraphs below this join the next one when the result still fits.
        overlap: Tokens of a long paragraph's previous chunk repeated at the start of the next.
        blocks: (start, end) of the document's blocks (``Document.blocks``), on paragraph bounds.

    """
    budget = _Budget(text, count_tokens, max_tokens)
    units = _units(budget, overlap, blocks)
    merged: list[Span] = []
    i = 0
    while i < len(units):
        start, end, in_block = units[i]
        if (
            not in_block
            and i + 1 < len(units)
            and count_tokens(text[start:end]) < min_tokens
            and budget.fits(start, units[i + 1][1])
        ):
            end = units[i + 1][1]
            i += 1
        merged.append((start, end))
        i += 1
    return merged


def chunk_id(doc_id: str, text: str, occurrence: int) -> str:
    """Return a content-addressed chunk id: unchanged text keeps its id across re-ingests."""
    digest = hashlib.sha1(f"{doc_id}\x00{text}".encode()).hexdigest()[:16]
    return f"{doc_id}-{digest}" + (f"-{occurrence}" if occurrence else "")


def chunk_document(doc: Document, spans: list[Span], collection: str = "") -> list[Chunk]:
    """Turn spans of a document into Chunks with content-addressed ids, pages and heading paths."""
    seen: dict[str, int] = {}
    chunks = []
    for start, end in spans:
        text = doc.text[start:end]
        occurrence = seen.get(text, 0)
        seen[text] = occurrence + 1
        chunks.append(
            Chunk(
                id=chunk_id(doc.id, text, occurrence),
                doc_id=doc.id,
                start=start,
                end=end,
                text=text,
                title=doc.title,
                path=doc.path,
                date=doc.date,
                file_offset=doc.body_offset,
                page=page_of(doc.pages, start, end),
                section=section_of(doc.sections, start, end),
                collection=collection,
            )
        )
    return chunks
