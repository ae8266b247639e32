"""Rewrite stored chunks' metadata from the manifest without re-embedding: schema upgrades, new collections.

An index built before chunk metadata carried pages, headings and collections is upgraded in place:
each unchanged file is read again (not embedded) for its pages and headings, and every stored chunk
gets the metadata the manifest commits. A file that changed since keeps no page until it is ingested
again (its hash differs, so the next ingest of it redoes it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from rag.core.types import Chunk
from rag.index.manifest import SCHEMA, DocEntry, Manifest
from rag.index.vector_store import VectorStore
from rag.ingestion.loaders import content_hash, load_document
from rag.ingestion.plan import MAX_FILE_BYTES, Plan


def _add_structure(entry: DocEntry, stored: Sequence[Chunk]) -> bool:
    """Record an older entry's pages and headings from its file, if the file still reads as indexed."""
    path = Path(entry.path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return False
        data = path.read_bytes()
        if content_hash(data) != entry.hash:
            return False
        doc, _ = load_document(path, data)
    except Exception:  # gone, unreadable, or a parser's own error (LoadError...): leave the entry as it was
        return False
    spans = entry.chunks
    if any(doc.text[spans[c.id][0] : spans[c.id][1]] != c.text for c in stored if c.id in spans):
        return False  # the text no longer matches the committed spans: attribute no pages to it
    entry.pages = [list(p) for p in doc.pages]
    entry.sections = [list(s) for s in doc.sections]
    return True


def refresh_metadata(manifest: Manifest, store: VectorStore, plan: Plan) -> None:
    """Queue the metadata rewrites a plan needs: its ``to_refresh`` ids, or every chunk of an older index.

    Args:
        manifest: The manifest about to be committed (older entries gain pages and headings here).
        store: The vector store whose chunks are rewritten.
        plan: Receives the chunks, in their committed form, in ``to_update``.

    """
    planned = {c.id for c in plan.to_update}
    upgrade = manifest.schema < SCHEMA
    wanted = manifest.chunk_ids() if upgrade else set(plan.to_refresh) & manifest.chunk_ids()
    stored = store.get(sorted(wanted - planned))
    owners = manifest.owners()
    if upgrade:
        by_doc: dict[str, list[Chunk]] = defaultdict(list)
        for c in stored:
            by_doc[owners[c.id]].append(c)
        for doc_id, entry in manifest.documents.items():
            if entry.pages is None:
                _add_structure(entry, by_doc[doc_id])
        manifest.schema = SCHEMA
    plan.to_update.extend(manifest.documents[owners[c.id]].committed(owners[c.id], c) for c in stored)
    plan.to_refresh.clear()
