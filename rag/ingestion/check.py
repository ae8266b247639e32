"""`rag check`: compare the vector store, the manifest and BM25, naming each part that is missing or damaged.

The manifest is the truth (it is what the last finished ingest committed); ``repair.py`` brings the
rest into agreement with it, or rebuilds it from the vector store when it is lost. The check itself
writes nothing, so it also runs on a read-only index.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.core.errors import IndexDamagedError, StoreError
from rag.core.settings import Settings
from rag.core.types import Chunk, IndexCheck
from rag.index.access import read_only_reason
from rag.index.bm25 import BM25Index, saved_ids, stale_versions
from rag.index.manifest import MANIFEST, SCHEMA, Manifest
from rag.index.vector_store import VectorStore
from rag.ingestion import journal
from rag.ingestion.writer import index_lock
from rag.models.embedder import Embedder


@dataclass
class Found:
    """The disagreements of one inspection, by id, for a repair to act on."""

    orphans: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    mismatched: list[Chunk] = field(default_factory=list)  # in their committed form
    bm25_ok: bool = True


def _mismatched(stored: list[Chunk], manifest: Manifest) -> list[Chunk]:
    """Return the stored chunks whose metadata differs from what the manifest commits (committed form)."""
    owners, out = manifest.owners(), []
    for c in stored:
        if c.id in owners:
            want = manifest.documents[owners[c.id]].committed(owners[c.id], c)
            if manifest.schema < SCHEMA:  # an older index: its missing source fields are `outdated_metadata`
                want = replace(want, source_path=c.source_path, source_hash=c.source_hash)
            if want != c:
                out.append(want)
    return out


def _bm25_state(index_dir: Path, manifest: Manifest) -> tuple[list[str] | None, bool, bool]:
    """Return the BM25 version's row ids (None if unreadable), and whether it is missing or damaged."""
    committed = bool(manifest.documents)
    if manifest.bm25 and not (index_dir / manifest.bm25).is_dir():
        return None, True, False
    rows = saved_ids(index_dir, manifest.bm25)
    if rows is None:
        return None, bool(manifest.bm25 or committed), False
    try:
        BM25Index.load(index_dir, manifest.bm25)
    except Exception:  # bm25s and numpy raise many types on a garbled file
        return rows, False, True
    return rows, False, False


def _searchable(store: VectorStore, dim: int) -> str:
    """Return why dense search is broken (an error, or fewer hits than vectors), or "" when it works."""
    n = min(10, store.count())
    if not n:
        return ""
    try:
        hits = store.query([1 / math.sqrt(dim)] * dim, n)
    except StoreError as exc:
        return str(exc)
    if len(hits) < n:
        return (
            f"a search for {n} of its {store.count()} vectors found {len(hits)}: its vector index (HNSW "
            "files) is damaged or missing"
        )
    return ""


def inspect(index_dir: Path, store: VectorStore, manifest: Manifest, dim: int) -> tuple[IndexCheck, Found]:
    """Compare every stored vector with the manifest and the BM25 version it names."""
    stored = store.all_chunks()
    committed = manifest.owners()
    found = Found(
        orphans={c.id for c in stored} - set(committed),
        missing=set(committed) - {c.id for c in stored},
        mismatched=_mismatched(stored, manifest),
    )
    bm25, version_missing, bm25_damaged = _bm25_state(index_dir, manifest)
    rows = set(bm25 or ())
    bm25_missing = 0 if bm25 is None else len(set(committed) - rows)
    bm25_extra = 0 if bm25 is None else len(rows - set(committed)) + len(bm25) - len(rows)
    found.bm25_ok = not (version_missing or bm25_damaged or bm25_missing or bm25_extra)
    broken = _searchable(store, dim)
    notes = [f"The vector store cannot be searched: {broken}. Fix: rag check --repair"] if broken else []
    if found.orphans:
        unfinished = journal.pending(index_dir) or set()  # an interrupted ingest's: deleted by a repair
        strays = [
            c
            for c in stored
            if c.id in found.orphans and c.doc_id not in manifest.documents and c.id not in unfinished
        ]
        docs = {c.doc_id for c in strays if c.doc_id}
        if docs:
            notes.append(
                f"{len(strays)} vectors belong to {len(docs)} documents the manifest does not list: "
                "rag check --repair gives the documents back (nothing is deleted that can be placed)."
            )
    return IndexCheck(
        documents=len(manifest.documents),
        chunks=len(committed),
        vectors=len(stored),
        generation=manifest.generation,
        orphan_vectors=len(found.orphans),
        missing_vectors=len(found.missing),
        span_mismatches=len(found.mismatched),
        bm25_missing=bm25_missing,
        bm25_extra=bm25_extra,
        bm25_version_missing=version_missing,
        bm25_damaged=bm25_damaged,
        stale_bm25_versions=len(stale_versions(index_dir, manifest.bm25)),
        unfinished_journal=(index_dir / journal.JOURNAL).exists(),
        outdated_metadata=manifest.schema < SCHEMA and bool(committed),
        store_damaged=bool(broken),
        unplaced_vectors=sum(1 for c in stored if c.id in found.orphans and not c.doc_id),
        lost_chunks=_lost_chunks(manifest, found.missing),
        notes=tuple(notes),
    ), found


def _lost_manifest(index_dir: Path, store: VectorStore, damage: str) -> IndexCheck:
    """Report an index whose manifest is gone (``damage`` "") or unreadable (its error), and what is left."""
    n = store.count()
    note = damage or (
        f"The manifest {index_dir / MANIFEST} is missing, while the vector store holds {n} chunks: "
        "rag check --repair rebuilds it from them."
    )
    if damage:
        note += f" The vector store holds {n} chunks to rebuild it from."
    return IndexCheck(vectors=n, manifest_missing=not damage, manifest_damaged=bool(damage), notes=(note,))


def unopenable(index_dir: Path, error: StoreError) -> IndexCheck:
    """Report an index whose vector store cannot be opened (damaged, or gone while chunks are listed)."""
    try:
        manifest = Manifest.load(index_dir)
    except IndexDamagedError:
        manifest = None
    missing = "is missing" in str(error)
    return IndexCheck(
        documents=len(manifest.documents) if manifest else 0,
        chunks=len(manifest.chunk_ids()) if manifest else 0,
        generation=manifest.generation if manifest else 0,
        store_missing=missing,
        store_damaged=not missing,
        notes=(str(error),),
    )


def _lost_chunks(manifest: Manifest, missing: set[str]) -> int:
    """Count listed chunks without a vector whose file is gone too (nothing to re-embed them from)."""
    owners = manifest.owners()
    return sum(1 for i in missing if not Path(manifest.documents[owners[i]].path).is_file())


def inspect_index(settings: Settings, store: VectorStore, embedder: Embedder) -> IndexCheck:
    """Report where the vector store, the manifest and BM25 disagree, and any part missing or damaged.

    Args:
        settings: Where the index is.
        store: The index's vector store (as opened for checking: a copy when read-only).
        embedder: The embedder the settings use (the index must have been built with it).

    Returns:
        The counts of each disagreement, with the cause and fix of each damaged part in ``notes``.

    Raises:
        RagError: Another process is writing the index.
        EmbedderMismatchError: The index was built with another embedder.

    """
    index_dir = settings.index_dir
    writable = read_only_reason(index_dir) is None
    with index_lock(index_dir) if writable else nullcontext():  # a read-only index has no writer
        try:
            manifest = Manifest.load(index_dir)
        except IndexDamagedError as exc:
            return _lost_manifest(index_dir, store, str(exc))
        if manifest is None:
            return _lost_manifest(index_dir, store, "") if store.count() else IndexCheck()
        manifest.check_embedder(embedder.name, embedder.dim, index_dir)
        report, _ = inspect(index_dir, store, manifest, embedder.dim)
    return report
