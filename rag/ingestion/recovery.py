"""Finish or undo what a run that died left behind, under the index's write lock.

- An ingest that died before its commit left vectors its journal lists and the manifest does not:
  they were never answered from, and are deleted; listed ids the manifest holds get its spans back.
- A ``--rebuild`` that died while emptying the index is finished (its journal says so).
- Vectors the manifest does not list for another reason (a damaged journal, a manifest deleted or
  restored from an older copy) are placed, not deleted: ``adopt.place`` gives their documents back.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rag.core.settings import Settings
from rag.index.bm25 import remove_versions
from rag.index.manifest import MANIFEST, Manifest
from rag.index.vector_store import VectorStore
from rag.ingestion import journal
from rag.ingestion.adopt import Placed, place
from rag.ingestion.plan import Plan
from rag.models.embedder import Embedder


def finish_reset(index_dir: Path, store: VectorStore) -> bool:
    """Empty the index if a ``--rebuild`` died while emptying it; return True when it did."""
    if not journal.resetting(index_dir):
        return False
    reset_index(index_dir, store)
    return True


def reset_index(index_dir: Path, store: VectorStore) -> None:
    """Empty the index (vectors, BM25, manifest), e.g. to change embedder (under the write lock).

    The journal says a reset is under way before anything goes, so a crash part way is finished by
    the next run instead of leaving vectors that a missing manifest would make it rebuild from.
    """
    journal.begin_reset(index_dir)
    (index_dir / MANIFEST).unlink(missing_ok=True)
    store.clear()
    remove_versions(index_dir, keep="")
    journal.end(index_dir)


def recover(
    index_dir: Path, store: VectorStore, manifest: Manifest, trust_journal: bool = True
) -> tuple[int, list[str]]:
    """Undo a run that died (see the module's docstring); return (vectors deleted, unlisted ids left).

    Args:
        index_dir: The index folder.
        store: Its vector store.
        manifest: The committed manifest.
        trust_journal: False when the manifest is not the one the journal was written against (it
            was lost and is being rebuilt): then nothing is deleted on the journal's word.

    """
    unfinished = (index_dir / journal.JOURNAL).exists()
    committed = manifest.chunk_ids()
    before = store.count()
    if unfinished and trust_journal:
        listed = journal.pending(index_dir)
        if listed is not None:
            store.delete(sorted(listed - committed))
            restore_metadata(store, manifest, listed & committed)
    unlisted = sorted(set(store.ids()) - committed) if store.count() != len(committed) else []
    if unfinished:
        if manifest.bm25:
            remove_versions(index_dir, keep=manifest.bm25)
        journal.end(index_dir)
    return before - store.count(), unlisted


def settle(
    unlisted: list[str],
    store: VectorStore,
    manifest: Manifest,
    plan: Plan,
    settings: Settings,
    embedder: Embedder,
    force: bool = False,
) -> Placed:
    """Place unlisted vectors; delete stale versions of listed documents (unplaceable ones if ``force``)."""
    if not unlisted:
        return Placed()
    placed = place(store.get(unlisted), manifest, plan, settings, embedder)
    store.delete(placed.stale + (placed.unplaced if force else []))
    return placed


def restore_metadata(store: VectorStore, manifest: Manifest, ids: Iterable[str]) -> int:
    """Give stored chunks the spans, title, path and date the manifest commits; return how many changed."""
    owners = manifest.owners()
    wanted = sorted(i for i in ids if i in owners)
    fixed = [
        want
        for c in store.get(wanted)
        if (want := manifest.documents[owners[c.id]].committed(owners[c.id], c)) != c
    ]
    if fixed:
        store.update_spans(fixed)
    return len(fixed)
