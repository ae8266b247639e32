"""Open an index's vector store for one purpose, with the checks that purpose needs.

- ``read`` (questions) and ``check`` (`rag check`): nothing is written. A read-only index is read
  from a copy; a folder with no vector store yet gets an empty stand-in rather than a new Chroma.
- ``write`` (ingest, remove): the folder must be writable; the store must exist when the manifest
  lists chunks (an empty new one would silently answer nothing).
- ``rebuild`` (`rag ingest --rebuild`) and ``repair`` (`rag check --repair`): a store that cannot be
  opened is moved aside (never deleted) and an empty one takes its place.

Every purpose but ``rebuild`` refuses a collection name other than the one the manifest records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rag.core.errors import IndexDamagedError, StoreDamagedError
from rag.core.settings import StoreSettings
from rag.core.types import Chunk, ChunkFilter
from rag.index.access import move_aside, read_only_reason, require_writable
from rag.index.chroma_open import SQLITE, cause
from rag.index.manifest import Manifest
from rag.index.vector_store import VectorStore, make_store

Purpose = Literal["read", "check", "write", "rebuild", "repair"]
WRITING: tuple[Purpose, ...] = ("write", "rebuild", "repair")


@dataclass
class Opened:
    """A vector store as opened for a purpose, and what opening it had to do."""

    store: VectorStore
    writable: bool  # False for a read-only copy or the empty stand-in: reopen before writing
    note: str = ""  # e.g. where a damaged store was moved


class EmptyStore:
    """The vector store of an index that has none yet, read without creating one on disk."""

    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        """Refuse: this stand-in is only read (writers open the real store)."""
        raise TypeError("EmptyStore is read-only")

    def update_spans(self, chunks: Sequence[Chunk]) -> None:
        """Refuse: this stand-in is only read."""
        raise TypeError("EmptyStore is read-only")

    def delete(self, ids: Sequence[str]) -> None:
        """Refuse: this stand-in is only read."""
        raise TypeError("EmptyStore is read-only")

    def query(
        self, vector: Sequence[float], n: int, max_day: int | None = None, within: ChunkFilter | None = None
    ) -> list[tuple[Chunk, float]]:
        """Find nothing."""
        return []

    def get(self, ids: Sequence[str]) -> list[Chunk]:
        """Return nothing."""
        return []

    def all_chunks(self) -> list[Chunk]:
        """Return nothing."""
        return []

    def ids(self) -> list[str]:
        """Return nothing."""
        return []

    def count(self) -> int:
        """Return 0."""
        return 0

    def clear(self) -> None:
        """Nothing to clear."""

    def close(self) -> None:
        """Nothing to close."""


def _listed(index_dir: Path) -> tuple[Manifest | None, int]:
    """Return the manifest (None if absent or damaged) and how many chunks it lists (-1: damaged)."""
    try:
        manifest = Manifest.load(index_dir)
    except IndexDamagedError:
        return None, -1
    return manifest, len(manifest.chunk_ids()) if manifest else 0


def open_for(
    purpose: Purpose, settings: StoreSettings, index_dir: Path, embedder_name: str, dim: int
) -> Opened:
    """Open the vector store of the index at ``index_dir`` for ``purpose`` (see the module's docstring).

    Raises:
        ReadOnlyIndexError: A writing purpose on an index that cannot be written.
        CollectionMismatchError: The settings name another collection than the index's.
        StoreDamagedError: The store cannot be opened, or is gone while the manifest lists chunks
            (for ``read``, ``check`` and ``write``: the message gives the command that repairs it).

    """
    if purpose in WRITING:
        require_writable(
            index_dir, {"rebuild": "rebuild it", "repair": "repair it"}.get(purpose, "change it")
        )
    manifest, listed = _listed(index_dir)
    if manifest is not None and purpose != "rebuild":
        manifest.check_collection(settings.collection, index_dir)
    embedded = settings.backend == "embedded"
    exists = (index_dir / "chroma" / SQLITE).exists()
    if embedded and not exists and purpose not in WRITING and listed <= 0:
        return Opened(EmptyStore(), writable=False)
    if embedded and not exists and listed and purpose in ("read", "check", "write"):
        raise StoreDamagedError(
            f"The vector store {index_dir / 'chroma'} is missing, while the manifest lists "
            f"{listed if listed > 0 else 'its'} chunks. Run `rag check --repair` (re-embeds them from their "
            "files) or rag ingest --rebuild PATH..."
        )
    read_only = embedded and purpose not in WRITING and read_only_reason(index_dir) is not None
    create = purpose in ("rebuild", "repair") or listed == 0
    try:
        store = make_store(settings, index_dir, embedder_name, dim, create=create, read_only=read_only)
        return Opened(store, writable=not read_only)
    except StoreDamagedError as exc:
        if purpose not in ("rebuild", "repair") or not embedded or not (index_dir / "chroma").exists():
            raise
        why = cause(exc.__cause__) if exc.__cause__ is not None else str(exc)
        moved = move_aside(index_dir / "chroma")
        store = make_store(settings, index_dir, embedder_name, dim, create=True)
        note = f"The vector store could not be opened ({why}): kept it as {moved}, started an empty one."
        return Opened(store, True, note)
