"""`rag check --repair`: make the vector store, the manifest and BM25 agree, losing nothing it can keep.

In order, under the write lock: finish an interrupted ``--rebuild``; keep a damaged manifest aside
and rebuild it from the vector store (as a lost one); undo an interrupted ingest; give documents back
to the manifest from vectors it does not list (``adopt.place``); re-embed listed chunks whose vectors
are missing, from their files; put the committed spans back; rebuild BM25 and commit.

Nothing that cannot be re-created is deleted without ``force``: vectors that belong to no document,
and listed chunks whose vectors and files are both gone, are reported and kept until the user says so.
(A vector store that cannot be opened at all was kept aside when it was opened for the repair.)
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

from rag.core.errors import IndexDamagedError
from rag.core.settings import Settings
from rag.index.access import move_aside
from rag.index.bm25 import stale_versions
from rag.index.manifest import MANIFEST, SCHEMA, Manifest
from rag.index.vector_store import VectorStore
from rag.ingestion import journal
from rag.ingestion.check import Found, inspect
from rag.ingestion.loaders import content_hash
from rag.ingestion.plan import Plan, plan_file
from rag.ingestion.recovery import finish_reset, recover, settle
from rag.ingestion.writer import apply, index_lock
from rag.models.embedder import Embedder


def _refill(
    doc_id: str,
    ids: set[str],
    manifest: Manifest,
    plan: Plan,
    settings: Settings,
    embedder: Embedder,
    force: bool,
) -> tuple[str, int]:
    """Plan re-embedding a document's missing chunks from its file, or forget them; return (what, lost).

    A file that changed has its chunks forgotten (the next ingest of it redoes the document); a file
    that is gone leaves nothing to re-create them from, so they stay listed unless ``force``.
    """
    entry = manifest.documents[doc_id]
    path = Path(entry.path)
    try:
        exists = path.is_file()
        unchanged = exists and content_hash(path.read_bytes()) == entry.hash
    except OSError:
        exists = unchanged = False
    if unchanged:
        entry.hash = ""  # so the planner reads the file again
        plan_file(path, settings, embedder, manifest, plan, absent=frozenset(ids))
        if manifest.documents[doc_id] is not entry:  # planned: the file's chunks are as committed
            return f"re-embedded {len(ids)} missing chunks of {entry.display} from the file", 0
    if not exists and not force:
        return "", len(ids)
    for i in ids:
        entry.chunks.pop(i, None)
    entry.hash = ""
    forced = "" if exists else " (--force)"
    return (
        f"{entry.display}: the file changed or is gone since it was indexed; forgot its {len(ids)} "
        f"chunks without vectors{forced} (the next `rag ingest` of the file redoes it)",
        0,
    )


def _load_manifest(index_dir: Path, embedder: Embedder, done: list[str]) -> tuple[Manifest, bool]:
    """Return the manifest (a damaged one kept aside, an empty one instead) and whether one was found."""
    try:
        manifest = Manifest.load(index_dir)
    except IndexDamagedError:
        moved = move_aside(index_dir / MANIFEST)
        done.append(f"kept the damaged manifest as {moved}")
        manifest = None
    return manifest or Manifest(embedder.name, embedder.dim), manifest is not None


def _place(
    found: Found,
    store: VectorStore,
    manifest: Manifest,
    plan: Plan,
    settings: Settings,
    embedder: Embedder,
    force: bool,
) -> tuple[list[str], int]:
    """Give unlisted vectors back to their documents; return (what was done, vectors left unplaced)."""
    placed = settle(sorted(found.orphans), store, manifest, plan, settings, embedder, force)
    done = placed.describe()
    if placed.stale:
        done.append(f"deleted {len(placed.stale)} stale vectors of documents the manifest holds")
    if placed.unplaced and force:
        done.append(f"deleted {len(placed.unplaced)} vectors that belong to no document (--force)")
    return done, 0 if force else len(placed.unplaced)


def repair_index(
    settings: Settings, store: VectorStore, embedder: Embedder, force: bool = False
) -> tuple[list[str], int, int]:
    """Repair the index (see the module's docstring); return (what was done, vectors unplaced, chunks lost).

    Raises:
        RagError: Another process is writing the index.
        ReadOnlyIndexError: The index cannot be written.
        EmbedderMismatchError: The index was built with another embedder.

    """
    index_dir = settings.index_dir
    done: list[str] = []
    with index_lock(index_dir):
        if finish_reset(index_dir, store):
            done.append("finished emptying the index (a --rebuild died part way)")
        manifest, found_manifest = _load_manifest(index_dir, embedder, done)
        manifest.check_embedder(embedder.name, embedder.dim, index_dir)
        manifest.store_collection = settings.store.collection
        if (index_dir / journal.JOURNAL).exists():
            done.append("finished the clean-up of an interrupted ingest (its journal and BM25 folders)")
        deleted, _ = recover(index_dir, store, manifest, trust_journal=found_manifest)
        if deleted:
            done.append(f"deleted {deleted} vectors an interrupted ingest wrote but never committed")
        _, found = inspect(index_dir, store, manifest, embedder.dim)
        plan = Plan(to_update=list(found.mismatched))
        placing, unplaced = _place(found, store, manifest, plan, settings, embedder, force)
        done += placing
        by_doc: dict[str, set[str]] = defaultdict(set)
        owners = manifest.owners()
        for i in found.missing:
            by_doc[owners[i]].add(i)
        lost = 0
        for doc_id, ids in sorted(by_doc.items()):
            what, n = _refill(doc_id, ids, manifest, plan, settings, embedder, force)
            done += [what] if what else []
            lost += n
        if found.mismatched:
            done.append(f"restored the committed spans of {len(found.mismatched)} chunks")
        if outdated := manifest.schema < SCHEMA and bool(owners):
            done.append(
                "rewrote the chunk metadata of an older index (pages, sections, collections, sources)"
            )
        if by_doc or found.mismatched or not found.bm25_ok or outdated or placing or not found_manifest:
            plan.to_embed = list({c.id: c for c in plan.to_embed}.values())
            apply(index_dir, store, embedder, manifest, plan, force=True, partial=bool(lost))
            done.append(f"rebuilt BM25 and committed generation {manifest.generation}")
        if stale := stale_versions(index_dir, manifest.bm25):
            for path in stale:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
            done.append(f"removed {len(stale)} stale BM25 versions")
        journal.end(index_dir)
    return done, unplaced, lost
