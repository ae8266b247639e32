"""Crash-safe incremental indexing: journal, embed new chunks, build BM25, commit the manifest, clean up.

The order of one run, under the index's write lock:

1. recover from an earlier run that died (delete the orphans its journal lists);
2. plan: read and chunk new or changed files (unchanged files cost a hash);
3. journal the ids about to be written or deleted;
4. write new vectors and changed spans; build a new BM25 version from exactly the committed chunks;
5. commit: write the manifest (new generation, naming that BM25 version), atomically;
6. delete stale vectors and old BM25 versions; remove the journal.

A crash before 5 leaves the old commit intact and only orphans that step 1 removes next time; a
crash after 5 leaves stale vectors the manifest no longer lists, which readers ignore (they only
answer from committed ids) and step 1 removes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rag.core.errors import IndexBusyError, RagError
from rag.core.settings import Settings
from rag.core.types import Chunk, IngestReport
from rag.index.access import disk_full, require_writable
from rag.index.bm25 import BM25Index, remove_versions
from rag.index.manifest import SCHEMA, Manifest, require_manifest
from rag.index.vector_store import VectorStore
from rag.ingestion import journal
from rag.ingestion.loaders import LoadOptions
from rag.ingestion.plan import Plan, find_files, plan_file, prune
from rag.ingestion.recovery import finish_reset, recover, reset_index, settle
from rag.ingestion.refresh import refresh_metadata
from rag.models.embedder import Embedder

Progress = Callable[[int, int, str], None]  # (done, total, message)
_EMBED_BATCH = 64


@contextmanager
def index_lock(index_dir: Path, timeout: float = 10.0) -> Iterator[None]:
    """Hold the index's write lock: Chroma's PersistentClient is unsafe with several writers.

    An OSError from the work done under it (a full disk, say, while the manifest or BM25 is written)
    becomes a RagError with the cause and the fix; the last commit stays as it was.
    """
    from filelock import FileLock, Timeout

    require_writable(index_dir, "write to it")
    index_dir.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(index_dir / ".write.lock"), timeout=timeout):
            yield
    except Timeout:
        raise IndexBusyError(
            f"Another process is writing to the index at {index_dir} (ingest or remove). Wait for it "
            "to finish and run this again."
        ) from None
    except OSError as exc:
        full = disk_full(index_dir)
        raise RagError(
            f"Writing the index at {index_dir} failed ({exc}). "
            + (f"{full}: free some space" if full else "Check the folder (disk space, permissions)")
            + ", then run rag check --repair (the last commit is unchanged)."
        ) from exc


def _embed_all(
    chunks: list[Chunk], embedder: Embedder, store: VectorStore, progress: Progress | None, show_bar: bool
) -> None:
    """Embed and upsert chunks in batches, with a progress bar on long runs."""
    from tqdm import tqdm

    with tqdm(
        total=len(chunks), unit="chunk", desc="Embedding", disable=not show_bar or len(chunks) < 64
    ) as bar:
        for i in range(0, len(chunks), _EMBED_BATCH):
            batch = chunks[i : i + _EMBED_BATCH]
            store.upsert(batch, embedder.embed([c.text for c in batch]))
            bar.update(len(batch))
            if progress:
                progress(bar.n, len(chunks), "embedding")


def build_bm25(
    index_dir: Path,
    store: VectorStore,
    manifest: Manifest,
    fresh: Iterable[Chunk] = (),
    partial: bool = False,
) -> str:
    """Build and save a BM25 version over exactly the manifest's chunks; return its folder name.

    Texts come from ``fresh`` (chunks of this run, still in memory) or else from the vector store;
    ``partial`` (a repair keeping chunks whose texts are lost) leaves out those the store lacks.
    """
    known = {c.id: c for c in fresh}
    wanted = sorted(manifest.chunk_ids())
    known.update((c.id, c) for c in store.get([i for i in wanted if i not in known]))
    lost = len(wanted) - len(known.keys() & set(wanted))
    if partial:
        wanted = [i for i in wanted if i in known]
    elif lost:
        raise RagError(
            f"The vector store lacks {lost} of the {len(wanted)} chunks the index lists (was it emptied, "
            "or is another collection or server configured?). Run `rag check --repair` to re-embed "
            "them, or rebuild: rag ingest --rebuild PATH..."
        )
    return BM25Index.build([known[i] for i in wanted]).save(index_dir)


def commit(
    index_dir: Path,
    store: VectorStore,
    manifest: Manifest,
    stale: list[str],
    fresh: list[Chunk],
    partial: bool = False,
) -> int:
    """Build BM25, write the manifest (the commit point), delete stale vectors; return the generation."""
    manifest.bm25 = build_bm25(index_dir, store, manifest, fresh, partial)
    manifest.save(index_dir)
    if stale:
        store.delete(stale)
    remove_versions(index_dir, keep=manifest.bm25)
    journal.end(index_dir)
    return manifest.generation


def run_ingest(
    paths: Iterable[Path],
    settings: Settings,
    embedder: Embedder,
    store: VectorStore,
    prune_missing: bool = False,
    progress: Progress | None = None,
    show_bar: bool = True,
    collection: str | None = None,
    prune_under: Sequence[Path] = (),
) -> IngestReport:
    """Bring the index up to date with the given files and folders.

    Args:
        paths: Files and folders (searched recursively) to ingest.
        settings: Chunking and index settings.
        embedder: Embeds new chunks.
        store: Receives vectors; stale chunks are deleted from it.
        prune_missing: Also remove documents whose files no longer exist.
        progress: Called with (done, total, message) as work proceeds.
        show_bar: Show a tqdm progress bar on stderr.
        collection: Put the files in this collection (None: documents keep theirs).
        prune_under: Remove the documents at or under these paths whose files are gone (a watched
            folder's deleted or renamed files), in the same commit.

    Returns:
        Counts of what was seen, embedded, skipped and removed, and problems per file.

    """
    started = time.perf_counter()
    index_dir = settings.index_dir
    with index_lock(index_dir):
        finish_reset(index_dir, store)
        found = Manifest.load(index_dir)
        manifest = found or Manifest(embedder.name, embedder.dim)
        manifest.check_embedder(embedder.name, embedder.dim, index_dir)
        manifest.store_collection = settings.store.collection
        files, problems = find_files(paths, skip=[index_dir])
        plan = Plan(problems=problems)
        options = LoadOptions(settings.ocr, show_bar, progress)
        _, unlisted = recover(index_dir, store, manifest, trust_journal=found is not None)
        placed = settle(unlisted, store, manifest, plan, settings, embedder)
        for n, path in enumerate(files, 1):
            plan_file(path, settings, embedder, manifest, plan, collection=collection, options=options)
            if progress:
                progress(n, len(files), f"reading {path.name}")
        removed_docs = prune(manifest, plan) if prune_missing else prune(manifest, plan, prune_under)
        apply(index_dir, store, embedder, manifest, plan, progress, show_bar, force=bool(placed.documents))
    notes = placed.describe() + (
        [
            f"{len(placed.unplaced)} vectors in the store belong to no document and were kept; "
            "`rag check --repair --force` deletes them"
        ]
        if placed.unplaced
        else []
    )
    return IngestReport(
        documents_seen=len(files),
        documents_changed=plan.changed_docs,
        chunks_embedded=len(plan.to_embed),
        chunks_skipped=plan.skipped,
        chunks_removed=len(plan.to_delete),
        documents_removed=removed_docs,
        seconds=round(time.perf_counter() - started, 3),
        problems=tuple(plan.problems),
        generation=manifest.generation,
        notes=tuple(notes),
    )


def apply(
    index_dir: Path,
    store: VectorStore,
    embedder: Embedder,
    manifest: Manifest,
    plan: Plan,
    progress: Progress | None = None,
    show_bar: bool = False,
    force: bool = False,
    partial: bool = False,
) -> None:
    """Carry out a plan: journal, write vectors and spans, commit (if anything changed, or when forced).

    ``partial``: a repair keeps listed chunks whose vectors and texts are lost; BM25 leaves them out.
    """
    if manifest.schema < SCHEMA or plan.to_refresh:  # older metadata or a new collection: no embedding
        refresh_metadata(manifest, store, plan)
    if not (force or plan.to_embed or plan.to_update or plan.to_delete or not manifest.bm25):
        return
    journal.begin(index_dir, [c.id for c in plan.to_embed + plan.to_update] + plan.to_delete)
    _embed_all(plan.to_embed, embedder, store, progress, show_bar)
    if plan.to_update:
        store.update_spans(list({c.id: c for c in plan.to_update}.values()))  # Chroma refuses repeated ids
    commit(index_dir, store, manifest, plan.to_delete, plan.to_embed, partial)


def remove_from_index(index_dir: Path, store: VectorStore, doc_id: str) -> tuple[int, int]:
    """Remove one document's chunks (vectors, BM25, manifest); return (chunks removed, generation)."""
    with index_lock(index_dir):
        manifest = require_manifest(index_dir)
        recover(index_dir, store, manifest)  # vectors it does not list are left for the next ingest
        entry = manifest.documents.pop(doc_id, None)
        if entry is None:
            return 0, manifest.generation
        journal.begin(index_dir, entry.chunks)
        return len(entry.chunks), commit(index_dir, store, manifest, list(entry.chunks), [])


def empty_index(index_dir: Path, store: VectorStore) -> None:
    """Empty the index (vectors, BM25, manifest) under the write lock, for ``rag ingest --rebuild``."""
    with index_lock(index_dir):
        reset_index(index_dir, store)
