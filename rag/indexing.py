"""Incremental indexing: load files, chunk, embed only new chunks, drop stale ones, rebuild BM25."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .chunking import chunk_document, chunk_spans
from .embed import Embedder
from .errors import RagError
from .lexical import POINTER, BM25Index
from .loaders import SUFFIXES, LoadError, content_hash, doc_id_for, load_document
from .manifest import MANIFEST, DocEntry, Manifest, require_manifest
from .settings import Settings
from .store import VectorStore
from .types import Chunk, Document, FileProblem, IngestReport

Progress = Callable[[int, int, str], None]  # (done, total, message)
MAX_FILE_BYTES = 200 * 1024 * 1024


@contextmanager
def index_lock(index_dir: Path, timeout: float = 10.0) -> Iterator[None]:
    """Hold the index's write lock: Chroma's PersistentClient is unsafe with several writers."""
    from filelock import FileLock, Timeout

    index_dir.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(index_dir / ".write.lock"), timeout=timeout):
            yield
    except Timeout:
        raise RagError(
            f"Another process is writing to the index at {index_dir} (ingest or remove). Wait for it "
            "to finish and run this again."
        ) from None


def find_files(paths: Iterable[Path]) -> tuple[list[Path], list[FileProblem]]:
    """Expand folders recursively into supported files; report paths that do not exist."""
    files: list[Path] = []
    problems: list[FileProblem] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and p.suffix.lower() in SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            files.append(path)
        else:
            problems.append(FileProblem(str(path), "does not exist"))
    return list(dict.fromkeys(files)), problems


@dataclass
class _Plan:
    """What one ingest run will change."""

    to_embed: list[Chunk] = field(default_factory=list)
    to_update: list[Chunk] = field(default_factory=list)
    to_delete: list[str] = field(default_factory=list)
    skipped: int = 0
    changed_docs: int = 0
    problems: list[FileProblem] = field(default_factory=list)


def _read(path: Path, manifest: Manifest, plan: _Plan) -> tuple[Document, str | None] | None:
    """Load a new or changed file; None when it is unchanged or cannot be read (recorded in plan)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise LoadError(f"larger than {MAX_FILE_BYTES // 2**20} MiB; split it first")
        data = path.read_bytes()
        old = manifest.documents.get(doc_id_for(path))
        if old is not None and old.hash == content_hash(data):
            plan.skipped += len(old.chunks)
            return None
        return load_document(path, data)
    except (LoadError, OSError) as exc:
        plan.problems.append(FileProblem(str(path), str(exc)))
    except Exception as exc:  # a parser's own error (XML, encryption, ...): skip this file, keep going
        plan.problems.append(FileProblem(str(path), f"cannot be read ({type(exc).__name__}: {exc})"))
    return None


def _plan_file(path: Path, settings: Settings, embedder: Embedder, manifest: Manifest, plan: _Plan) -> None:
    """Compare one file with the manifest and record what must change."""
    loaded = _read(path, manifest, plan)
    if loaded is None:
        return
    doc, warning = loaded
    if warning:
        plan.problems.append(FileProblem(str(path), f"warning: {warning}"))
    cfg = settings.chunk
    # A chunk longer than the embedder's window would be cut silently.
    budget = min(cfg.max_tokens, embedder.max_tokens)
    try:
        spans = chunk_spans(
            doc.text,
            embedder.count_tokens,
            embedder.tokenize,
            budget,
            cfg.min_tokens,
            min(cfg.overlap_tokens, budget // 2),
        )
    except ValueError as exc:
        plan.problems.append(FileProblem(str(path), f"could not be split into chunks ({exc})"))
        return
    chunks = chunk_document(doc, spans)
    old = manifest.documents.get(doc.id)
    known = old.chunks if old else {}
    for c in chunks:
        if c.id not in known:
            plan.to_embed.append(c)
        else:
            plan.skipped += 1
            plan.to_update.append(c)
    plan.to_delete.extend(set(known) - {c.id for c in chunks})
    plan.changed_docs += 1
    manifest.documents[doc.id] = DocEntry(
        str(path.resolve()),
        doc.path,
        doc.content_hash,
        doc.title,
        doc.date,
        {c.id: [c.start, c.end] for c in chunks},
    )


def _prune(manifest: Manifest, plan: _Plan) -> int:
    """Forget documents whose files are gone; return how many."""
    gone = [k for k, e in manifest.documents.items() if not Path(e.path).exists()]
    for key in gone:
        plan.to_delete.extend(manifest.documents.pop(key).chunks)
    return len(gone)


def _batches(items: list[Chunk], size: int) -> Iterator[list[Chunk]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _embed_all(
    chunks: list[Chunk], embedder: Embedder, store: VectorStore, progress: Progress | None, show_bar: bool
) -> None:
    """Embed and upsert chunks in batches, with a progress bar on long runs."""
    from tqdm import tqdm

    with tqdm(
        total=len(chunks), unit="chunk", desc="Embedding", disable=not show_bar or len(chunks) < 64
    ) as bar:
        for batch in _batches(chunks, 64):
            store.upsert(batch, embedder.embed([c.text for c in batch]))
            bar.update(len(batch))
            if progress:
                progress(bar.n, len(chunks), "embedding")


def run_ingest(
    paths: Iterable[Path],
    settings: Settings,
    embedder: Embedder,
    store: VectorStore,
    prune: bool = False,
    progress: Progress | None = None,
    show_bar: bool = True,
) -> IngestReport:
    """Bring the index up to date with the given files and folders.

    Args:
        paths: Files and folders (searched recursively) to ingest.
        settings: Chunking and index settings.
        embedder: Embeds new chunks.
        store: Receives vectors; stale chunks are deleted from it.
        prune: Also remove documents whose files no longer exist.
        progress: Called with (done, total, message) as work proceeds.
        show_bar: Show a tqdm progress bar on stderr.

    Returns:
        Counts of what was seen, embedded, skipped and removed, and problems per file.

    """
    started = time.perf_counter()
    with index_lock(settings.index_dir):
        return _run(paths, settings, embedder, store, prune, progress, show_bar, started)


def _run(
    paths: Iterable[Path],
    settings: Settings,
    embedder: Embedder,
    store: VectorStore,
    prune: bool,
    progress: Progress | None,
    show_bar: bool,
    started: float,
) -> IngestReport:
    """Plan, embed, delete, rebuild BM25 and save the manifest (under the write lock)."""
    index_dir = settings.index_dir
    manifest = Manifest.load(index_dir) or Manifest(embedder.name, embedder.dim)
    manifest.check_embedder(embedder.name, embedder.dim, index_dir)
    files, problems = find_files(paths)
    plan = _Plan(problems=problems)
    for n, path in enumerate(files, 1):
        _plan_file(path, settings, embedder, manifest, plan)
        if progress:
            progress(n, len(files), f"reading {path.name}")
    removed_docs = _prune(manifest, plan) if prune else 0
    _embed_all(plan.to_embed, embedder, store, progress, show_bar)
    if plan.to_update:
        store.update_spans(plan.to_update)
    if plan.to_delete:
        store.delete(plan.to_delete)
    if plan.to_embed or plan.to_delete or plan.to_update or not (index_dir / POINTER).exists():
        _rebuild_bm25(index_dir, store)
    manifest.save(index_dir)
    return IngestReport(
        documents_seen=len(files),
        documents_changed=plan.changed_docs,
        chunks_embedded=len(plan.to_embed),
        chunks_skipped=plan.skipped,
        chunks_removed=len(plan.to_delete),
        documents_removed=removed_docs,
        seconds=round(time.perf_counter() - started, 3),
        problems=tuple(plan.problems),
    )


def _rebuild_bm25(index_dir: Path, store: VectorStore) -> None:
    """Re-index every stored chunk for BM25, so both retrievers always hold the same ids."""
    BM25Index.build(store.all_chunks()).save(index_dir)


def remove_from_index(index_dir: Path, store: VectorStore, doc_id: str) -> int:
    """Remove one document's chunks (vectors, BM25, manifest); return how many were removed."""
    with index_lock(index_dir):
        manifest = require_manifest(index_dir)
        entry = manifest.documents.pop(doc_id, None)
        if entry is None:
            return 0
        store.delete(list(entry.chunks))
        _rebuild_bm25(index_dir, store)
        manifest.save(index_dir)
    return len(entry.chunks)


def reset_index(index_dir: Path, store: VectorStore) -> None:
    """Empty the index (vectors, BM25, manifest) under the write lock, e.g. to change embedder."""
    with index_lock(index_dir):
        store.clear()
        for stale in [index_dir / MANIFEST, index_dir / POINTER, *index_dir.glob("bm25.*/")]:
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink(missing_ok=True)
