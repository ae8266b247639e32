"""The VectorStore protocol, and ``make_store`` opening the one the settings choose (Chroma)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from rag.core.settings import StoreSettings
from rag.core.types import Chunk, ChunkFilter
from rag.index.chroma_store import HNSW_EF_SEARCH, ChromaStore

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
__all__ = ["HNSW_EF_SEARCH", "ChromaStore", "VectorStore", "make_store"]


class VectorStore(Protocol):
    """Stores chunk vectors by id and finds the nearest ones."""

    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        """Insert or replace chunks with their vectors."""
        ...

    def update_spans(self, chunks: Sequence[Chunk]) -> None:
        """Update the metadata (spans, title, date) of chunks already stored."""
        ...

    def delete(self, ids: Sequence[str]) -> None:
        """Remove chunks by id."""
        ...

    def query(
        self, vector: Sequence[float], n: int, max_day: int | None = None, within: ChunkFilter | None = None
    ) -> list[tuple[Chunk, float]]:
        """Return up to ``n`` chunks with cosine similarity, best first, among those filters allow.

        None is dated after ``max_day``; ``within`` (a resolved scope) narrows the chunks further.
        """
        ...

    def get(self, ids: Sequence[str]) -> list[Chunk]:
        """Return the stored chunks with these ids, in the given order (unknown ids are left out)."""
        ...

    def all_chunks(self) -> list[Chunk]:
        """Return every stored chunk."""
        ...

    def ids(self) -> list[str]:
        """Return the ids of every stored chunk (for consistency checks)."""
        ...

    def count(self) -> int:
        """Return the number of stored chunks."""
        ...

    def clear(self) -> None:
        """Remove every chunk (for a rebuild)."""
        ...

    def close(self) -> None:
        """Release the connection; the object is unusable afterwards."""
        ...


def make_store(
    settings: StoreSettings,
    index_dir: Path,
    embedder_name: str,
    dim: int,
    create: bool = True,
    read_only: bool = False,
) -> VectorStore:
    """Open the vector store the settings choose (see ``ChromaStore`` for ``create`` and ``read_only``)."""
    return ChromaStore(settings, index_dir, embedder_name, dim, create=create, read_only=read_only)
