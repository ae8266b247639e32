"""Chunks as Chroma rows: the metadata written, the Chunk read back, and the ``where`` filter on them."""

from __future__ import annotations

from typing import Any

from rag.core.text import day_number
from rag.core.types import Chunk, ChunkFilter


def metadata_of(chunk: Chunk) -> dict[str, Any]:
    """Return the Chroma metadata of a chunk (Chroma holds no None: 0 and "" stand for none).

    Args:
        chunk: The chunk to store.

    Returns:
        Its metadata; "day" is the date as YYYYMMDD (0 = undated), so Chroma can filter ranges.

    """
    return {
        "doc_id": chunk.doc_id,
        "start": chunk.start,
        "end": chunk.end,
        "title": chunk.title,
        "path": chunk.path,
        "date": chunk.date or "",
        "day": day_number(chunk.date),
        "file_offset": chunk.file_offset,
        "page": chunk.page or 0,
        "section": chunk.section or "",
        "collection": chunk.collection,
        "source_path": chunk.source_path,
        "source_hash": chunk.source_hash,
    }


def chunk_from(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    """Return the Chunk of one Chroma row: the only place Chroma rows are read.

    Args:
        chunk_id: The row's id.
        text: The row's document text.
        meta: The row's metadata (an older index's rows lack page, section, collection and source).

    Returns:
        The chunk, with None for a missing page or section.

    """
    return Chunk(
        id=chunk_id,
        doc_id=str(meta["doc_id"]),
        start=int(meta["start"]),
        end=int(meta["end"]),
        text=text,
        title=str(meta.get("title", "")),
        path=str(meta.get("path", "")),
        date=str(meta.get("date") or "") or None,
        file_offset=int(meta.get("file_offset", 0)),
        page=int(meta.get("page") or 0) or None,
        section=str(meta.get("section") or "") or None,
        collection=str(meta.get("collection") or ""),
        source_path=str(meta.get("source_path") or ""),
        source_hash=str(meta.get("source_hash") or ""),
    )


def where_filter(max_day: int | None, within: ChunkFilter | None) -> dict[str, Any] | None:
    """Return the Chroma ``where`` for an as-of day and a scope (None when nothing is filtered).

    Args:
        max_day: Leave out chunks dated after this YYYYMMDD (undated ones, day 0, stay).
        within: A resolved scope: its documents, collections and date range.

    Returns:
        The filter Chroma applies inside its search, or None.

    """
    until = [d for d in (max_day, within.until_day if within else 0) if d]
    conditions: list[dict[str, Any]] = [{"day": {"$lte": min(until)}}] if until else []
    if within is not None:
        if within.since_day or within.until_day:  # a date range leaves undated chunks (day 0) out
            conditions.append({"day": {"$gte": max(within.since_day, 1)}})
        if within.doc_ids is not None:
            conditions.append({"doc_id": {"$in": sorted(within.doc_ids)}})
        if within.collections:
            conditions.append({"collection": {"$in": list(within.collections)}})
    if len(conditions) > 1:
        return {"$and": conditions}
    return conditions[0] if conditions else None
