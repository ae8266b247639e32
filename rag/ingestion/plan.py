"""Plan an ingest: which files are new or changed, their chunks, and what must be embedded or deleted."""

from __future__ import annotations

import errno
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.core.settings import Settings
from rag.core.types import Chunk, Document, FileProblem
from rag.index.manifest import DocEntry, Manifest
from rag.ingestion.chunking import chunk_document, chunk_spans
from rag.ingestion.loaders import SUFFIXES, LoadError, LoadOptions, content_hash, doc_id_for, load_document
from rag.models.embedder import Embedder

MAX_FILE_BYTES = 200 * 1024 * 1024


def find_files(paths: Iterable[Path], skip: Sequence[Path] = ()) -> tuple[list[Path], list[FileProblem]]:
    """Expand folders recursively into supported files; report paths that do not exist or broken links.

    Hidden files and folders (a name starting with ".") and the folders in ``skip`` (the index's
    own, whose .json files are not documents) are left out of a folder; a file named alone is kept.
    """
    files: list[Path] = []
    problems: list[FileProblem] = []
    skipped = [s.resolve() for s in skip]
    for path in paths:
        if path.is_dir():
            inside = [s for s in skipped if s.is_relative_to(path.resolve())]  # else no file is resolved
            for p in sorted(path.rglob("*")):
                if (
                    p.suffix.lower() not in SUFFIXES
                    or any(part.startswith(".") for part in p.relative_to(path).parts)
                    or (inside and any(p.resolve().is_relative_to(s) for s in inside))
                ):
                    continue
                if p.is_file():
                    files.append(p)
                elif p.is_symlink() and not p.exists():
                    problems.append(_broken_link(p))
        elif path.is_file():
            files.append(path)
        elif path.is_symlink():
            problems.append(_broken_link(path))
        else:
            problems.append(FileProblem(str(path), "does not exist"))
    return list(dict.fromkeys(files)), list(dict.fromkeys(problems))


def _broken_link(path: Path) -> FileProblem:
    """Describe a symbolic link that leads to no file: its target is gone, or the links go round in a loop."""
    try:
        path.resolve(strict=True)
    except RuntimeError:  # Python 3.11 raises this for a loop
        return FileProblem(
            str(path), "symbolic link loop (the links lead back to themselves); fix or delete it"
        )
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return FileProblem(
                str(path), "symbolic link loop (the links lead back to themselves); fix or delete it"
            )
    return FileProblem(
        str(path), f"broken symbolic link (its target {os.readlink(path)} does not exist); fix or delete it"
    )


@dataclass
class Plan:
    """What one ingest run will change."""

    to_embed: list[Chunk] = field(default_factory=list)
    to_update: list[Chunk] = field(default_factory=list)
    to_delete: list[str] = field(default_factory=list)
    to_refresh: list[str] = field(default_factory=list)  # stored chunks whose metadata the manifest changed
    skipped: int = 0
    changed_docs: int = 0
    problems: list[FileProblem] = field(default_factory=list)


def _read(
    path: Path, manifest: Manifest, plan: Plan, max_text_mb: float, options: LoadOptions
) -> tuple[Document, str | None] | None:
    """Load a new or changed file; None when it is unchanged (counted in the plan)."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise LoadError(f"larger than {MAX_FILE_BYTES // 2**20} MiB; split it first")
    data = path.read_bytes()
    old = manifest.documents.get(doc_id_for(path))
    if old is not None and old.hash == content_hash(data):
        plan.skipped += len(old.chunks)
        return None
    doc, warning = load_document(path, data, options)
    if len(doc.text) > max_text_mb * 1e6:
        raise LoadError(
            f"its text is {len(doc.text) / 1e6:.1f} MB, over the limit of {max_text_mb:g} MB "
            f"(chunk.max_text_mb); split the file, or raise the limit, e.g. "
            f"RAG_CHUNK__MAX_TEXT_MB={math.ceil(len(doc.text) / 1e6)}"
        )
    return doc, warning


def plan_file(
    path: Path,
    settings: Settings,
    embedder: Embedder,
    manifest: Manifest,
    plan: Plan,
    absent: frozenset[str] = frozenset(),
    collection: str | None = None,
    options: LoadOptions | None = None,
) -> None:
    """Compare one file with the manifest and record what must change; any failure is that file's problem.

    Args:
        path: The file.
        settings: Chunking settings.
        embedder: Its tokenizer sizes the chunks.
        manifest: Updated in place with the file's new entry.
        plan: Receives the chunks to embed, update and delete, or the file's problem.
        absent: Chunk ids the manifest lists but the vector store lacks (re-embedded by a repair).
        collection: Put the document in this collection (None: keep its collection, "" for a new one).
        options: How to read it (OCR, progress); default: ``settings.ocr``, no progress bar.

    """
    old = manifest.documents.get(doc_id_for(path))
    name = (old.collection if old else "") if collection is None else collection
    try:
        loaded = _read(path, manifest, plan, settings.chunk.max_text_mb, options or LoadOptions(settings.ocr))
        if loaded is None:
            if old is not None and old.collection != name:  # unchanged file, new collection: no re-embedding
                old.collection = name
                plan.to_refresh.extend(old.chunks)
            return
        doc, warning = loaded
        chunks = _chunks(doc, settings, embedder, name)
    except LoadError as exc:
        plan.problems.append(FileProblem(str(path), str(exc)))
        return
    except Exception as exc:  # an I/O error, or a parser's or splitter's own: skip this file, keep going
        io_error = isinstance(exc, OSError) and exc.errno  # not TimeoutError, an OSError without errno
        reason = str(exc) if io_error else f"cannot be read ({type(exc).__name__}: {exc})"
        plan.problems.append(FileProblem(str(path), reason))
        return
    if warning:
        plan.problems.append(FileProblem(str(path), f"warning: {warning}"))
    entry = DocEntry(
        str(path.resolve()),
        doc.path,
        doc.content_hash,
        doc.title,
        doc.date,
        {c.id: [c.start, c.end] for c in chunks},
        doc.body_offset,
        name,
        [list(p) for p in doc.pages],
        [list(s) for s in doc.sections],
    )
    known = set(old.chunks) - absent if old else set()
    for c in (entry.committed(doc.id, c) for c in chunks):  # with the source path and hash
        if c.id in known:
            plan.skipped += 1
            plan.to_update.append(c)
        else:
            plan.to_embed.append(c)
    plan.to_delete.extend(set(old.chunks if old else ()) - {c.id for c in chunks})
    plan.changed_docs += 1
    manifest.documents[doc.id] = entry


def _chunks(doc: Document, settings: Settings, embedder: Embedder, collection: str = "") -> list[Chunk]:
    """Cut a document into chunks that fit the embedder's window (a longer one would be cut silently)."""
    cfg = settings.chunk
    budget = min(cfg.max_tokens, embedder.max_tokens)
    overlap = min(cfg.overlap_tokens, budget // 2)
    spans = chunk_spans(doc.text, embedder.count_tokens, budget, cfg.min_tokens, overlap, doc.blocks)
    return chunk_document(doc, spans, collection)


def gone_documents(documents: Mapping[str, DocEntry], under: Sequence[Path] | None = None) -> list[str]:
    """Return the ids of documents whose files are gone (only those at or under ``under``, when given)."""
    roots = None if under is None else [str(p.resolve()) for p in under]
    return [
        key
        for key, e in documents.items()
        if (roots is None or any(e.path == r or e.path.startswith(r.rstrip(os.sep) + os.sep) for r in roots))
        and not Path(e.path).exists()
    ]


def prune(manifest: Manifest, plan: Plan, under: Sequence[Path] | None = None) -> int:
    """Forget documents whose files are gone (only at or under ``under``, when given); return how many."""
    gone = gone_documents(manifest.documents, under)
    for key in gone:
        plan.to_delete.extend(manifest.documents.pop(key).chunks)
    return len(gone)
