"""Place vectors the manifest does not list: rebuild their documents' entries from the chunk metadata.

A manifest that was deleted, damaged or restored from an old copy does not list documents whose
vectors are still in the store, with their text and metadata (document id, source path and hash,
title, date, spans, collection). Before any such vector is deleted it is placed:

- a vector of a document the manifest lists is a stale version of it (its committed version lives):
  deleting it loses nothing;
- a vector of a document the manifest does not list gets its document back: when its file is still
  the indexed one it is read again (not embedded) for an exact entry, and chunks the store lacks are
  embedded; otherwise the entry is rebuilt from the metadata alone, so its chunks stay answerable;
- a vector with no document id or path cannot be placed: only ``rag check --repair --force`` deletes it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.core.settings import Settings
from rag.core.types import Chunk
from rag.index.manifest import COLLECTION_SCHEMA, DocEntry, Manifest
from rag.ingestion.loaders import content_hash, doc_id_for
from rag.ingestion.plan import MAX_FILE_BYTES, Plan, plan_file
from rag.models.embedder import Embedder


@dataclass
class Placed:
    """What placing the unlisted vectors found."""

    documents: int = 0  # documents given back to the manifest
    chunks: int = 0  # their chunks found in the store
    stale: list[str] = field(default_factory=list)  # other versions of listed documents: safe to delete
    unplaced: list[str] = field(default_factory=list)  # no document to put them in

    def describe(self) -> list[str]:
        """Return what was placed, in words (nothing when nothing was found)."""
        done = []
        if self.documents:
            done.append(
                f"rebuilt the manifest entries of {self.documents} documents from the {self.chunks} "
                "chunks the vector store holds for them"
            )
        return done


def _source(doc_id: str, chunk: Chunk) -> str:
    """Return the file a document was read from: its recorded path, else its shown path if it fits."""
    if chunk.source_path:
        return chunk.source_path
    shown = Path(chunk.path).expanduser()
    for candidate in (shown, Path.cwd() / shown):  # an older index records only the shown path
        if doc_id_for(candidate) == doc_id:
            return str(candidate.resolve())
    return chunk.path


def _entry(doc_id: str, chunks: Sequence[Chunk]) -> DocEntry:
    """Rebuild one document's manifest entry from its stored chunks (no pages or headings: kept per chunk)."""
    ordered = sorted(chunks, key=lambda c: (c.start, c.end, c.id))
    first = ordered[0]
    hashes = {c.source_hash for c in ordered}
    return DocEntry(
        path=_source(doc_id, first),
        display=first.path,
        hash=hashes.pop() if len(hashes) == 1 else "",  # mixed versions: the next ingest reads it again
        title=first.title,
        date=first.date,
        chunks={c.id: [c.start, c.end] for c in ordered},
        offset=first.file_offset,
        collection=first.collection,
    )


def _still_indexed(entry: DocEntry) -> bool:
    """Return True when the entry's file is there and is the version indexed (or no hash is known)."""
    path = Path(entry.path)
    try:
        if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            return False
        return not entry.hash or content_hash(path.read_bytes()) == entry.hash
    except OSError:
        return False


def place(
    stored: Sequence[Chunk], manifest: Manifest, plan: Plan, settings: Settings, embedder: Embedder
) -> Placed:
    """Place stored chunks the manifest does not list (see the module's docstring).

    Args:
        stored: The unlisted chunks, as the vector store holds them.
        manifest: Receives the rebuilt entries.
        plan: Receives the chunks to embed (missing from a document read again), to update and to
            delete (chunks its file no longer yields).
        settings: Chunking settings, for a file read again.
        embedder: Its tokenizer sizes the chunks of a file read again.

    Returns:
        What was placed, and the ids that are stale or cannot be placed.

    """
    placed = Placed()
    by_doc: dict[str, list[Chunk]] = defaultdict(list)
    for c in stored:
        if c.doc_id in manifest.documents:
            placed.stale.append(c.id)
        elif not c.doc_id or not (c.path or c.source_path):
            placed.unplaced.append(c.id)
        else:
            by_doc[c.doc_id].append(c)
    if any(not c.source_hash for cs in by_doc.values() for c in cs):  # rows of an older rag: the
        manifest.schema = min(manifest.schema, COLLECTION_SCHEMA)  # commit rewrites their metadata
    for doc_id, chunks in sorted(by_doc.items()):
        entry = _entry(doc_id, chunks)
        manifest.documents[doc_id] = entry
        placed.documents += 1
        placed.chunks += len(chunks)
        if _still_indexed(entry) and doc_id_for(Path(entry.path)) == doc_id:
            entry.hash = ""  # so the planner reads the file again and rebuilds the entry exactly
            plan_file(Path(entry.path), settings, embedder, manifest, plan, collection=entry.collection)
            _keep_shown_path(manifest, plan, doc_id, entry.display)
    return placed


def _keep_shown_path(manifest: Manifest, plan: Plan, doc_id: str, shown: str) -> None:
    """Keep the path the document was shown by (read again from another folder, it would change)."""
    new = manifest.documents[doc_id]
    if new.display == shown:
        return
    new.display = shown
    for chunks in (plan.to_embed, plan.to_update):
        chunks[:] = [replace(c, path=shown) if c.doc_id == doc_id else c for c in chunks]
