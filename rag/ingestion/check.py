"""`rag check`: compare the vector store, the manifest and BM25; with ``repair``, bring them into agreement.

The manifest is the truth (it is what the last finished ingest committed). A repair deletes vectors
it does not list, re-embeds committed chunks whose vectors are missing (from their files, when the
files are unchanged; otherwise it forgets those chunks and the document's hash, so the next ingest
of the file redoes it), puts the committed spans back, rebuilds BM25 and commits.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.core.settings import Settings
from rag.core.types import Chunk, IndexCheck
from rag.index.bm25 import saved_ids, stale_versions
from rag.index.manifest import SCHEMA, Manifest
from rag.index.vector_store import VectorStore
from rag.ingestion import journal
from rag.ingestion.loaders import content_hash
from rag.ingestion.plan import Plan, plan_file
from rag.ingestion.writer import apply, index_lock, recover
from rag.models.embedder import Embedder


@dataclass
class _Found:
    """The disagreements of one inspection, by id, for a repair to act on."""

    orphans: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    mismatched: list[Chunk] = field(default_factory=list)  # in their committed form
    bm25_ok: bool = True


def _inspect(index_dir: Path, store: VectorStore, manifest: Manifest) -> tuple[IndexCheck, _Found]:
    """Compare every stored vector with the manifest and the BM25 version it names."""
    stored = store.all_chunks()
    committed = manifest.owners()
    found = _Found(
        orphans={c.id for c in stored} - set(committed),
        missing=set(committed) - {c.id for c in stored},
        mismatched=[
            want
            for c in stored
            if c.id in committed
            and (want := manifest.documents[committed[c.id]].committed(committed[c.id], c)) != c
        ],
    )
    bm25 = saved_ids(index_dir, manifest.bm25)
    version_missing = bm25 is None and bool(manifest.bm25 or committed)
    rows = set(bm25 or ())
    bm25_missing = 0 if bm25 is None else len(set(committed) - rows)
    bm25_extra = 0 if bm25 is None else len(rows - set(committed)) + len(bm25) - len(rows)
    found.bm25_ok = not (version_missing or bm25_missing or bm25_extra)
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
        stale_bm25_versions=len(stale_versions(index_dir, manifest.bm25)),
        unfinished_journal=(index_dir / journal.JOURNAL).exists(),
        outdated_metadata=manifest.schema < SCHEMA and bool(committed),
    ), found


def _refill(
    doc_id: str, ids: set[str], manifest: Manifest, plan: Plan, settings: Settings, embedder: Embedder
) -> str:
    """Plan the re-embedding of a document's missing chunks, or forget them; return what was done."""
    entry = manifest.documents[doc_id]
    path = Path(entry.path)
    try:
        unchanged = path.is_file() and content_hash(path.read_bytes()) == entry.hash
    except OSError:
        unchanged = False
    if unchanged:
        entry.hash = ""  # so the planner reads the file again
        plan_file(path, settings, embedder, manifest, plan, absent=frozenset(ids))
        if manifest.documents[doc_id] is not entry:  # planned: the file's chunks are as committed
            return f"re-embedded {len(ids)} missing chunks of {entry.display} from the file"
    for i in ids:
        entry.chunks.pop(i, None)
    entry.hash = ""
    return (
        f"{entry.display}: the file changed or is gone since it was indexed; forgot its {len(ids)} "
        "chunks without vectors (the next `rag ingest` of the file redoes it)"
    )


def _repair(
    index_dir: Path, store: VectorStore, manifest: Manifest, settings: Settings, embedder: Embedder
) -> list[str]:
    """Fix every disagreement (under the write lock); return what was done."""
    done = []
    if (index_dir / journal.JOURNAL).exists():
        done.append("finished the clean-up of an interrupted ingest (its journal and BM25 folders)")
    if n := recover(index_dir, store, manifest):
        done.append(f"deleted {n} orphan vectors")
    _, found = _inspect(index_dir, store, manifest)
    if found.orphans:
        store.delete(sorted(found.orphans))
        done.append(f"deleted {len(found.orphans)} orphan vectors")
    plan = Plan(to_update=list(found.mismatched))
    by_doc: dict[str, set[str]] = defaultdict(set)
    owners = manifest.owners()
    for i in found.missing:
        by_doc[owners[i]].add(i)
    done.extend(_refill(d, ids, manifest, plan, settings, embedder) for d, ids in sorted(by_doc.items()))
    if found.mismatched:
        done.append(f"restored the committed spans of {len(found.mismatched)} chunks")
    if outdated := manifest.schema < SCHEMA and bool(owners):
        done.append("rewrote the chunk metadata of an older index (pages, sections, collections)")
    if by_doc or found.mismatched or not found.bm25_ok or outdated:
        apply(index_dir, store, embedder, manifest, plan, force=True)
        done.append(f"rebuilt BM25 and committed generation {manifest.generation}")
    if stale := stale_versions(index_dir, manifest.bm25):
        for path in stale:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        done.append(f"removed {len(stale)} stale BM25 versions")
    journal.end(index_dir)
    return done


def inspect_index(
    settings: Settings, store: VectorStore, embedder: Embedder, repair: bool = False
) -> IndexCheck:
    """Report where the vector store, the manifest and BM25 disagree; with ``repair``, fix it first.

    Args:
        settings: Where the index is, and how to chunk files for a re-embedding.
        store: The index's vector store.
        embedder: Re-embeds missing chunks; must be the embedder the index was built with.
        repair: Fix the disagreements, then report the state after the repair.

    Returns:
        The counts of each disagreement (after the repair, with what it did in ``repairs``).

    Raises:
        RagError: Another process is writing the index, or the manifest is damaged.
        EmbedderMismatchError: The index was built with another embedder.

    """
    index_dir = settings.index_dir
    with index_lock(index_dir):
        manifest = Manifest.load(index_dir) or Manifest(embedder.name, embedder.dim)
        manifest.check_embedder(embedder.name, embedder.dim, index_dir)
        done = _repair(index_dir, store, manifest, settings, embedder) if repair else []
        report, _ = _inspect(index_dir, store, manifest)
    return replace(report, repairs=tuple(done))
