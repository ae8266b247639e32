"""What the last finished ingest committed, as a reader sees it: manifest, BM25 version, chunk ids."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import RagError
from .lexical import BM25Index
from .manifest import Manifest, stamp
from .store import VectorStore


@dataclass(frozen=True)
class Snapshot:
    """One committed state of an index; readers answer only from its chunk ids."""

    stamp: tuple[int, int, int] | None
    manifest: Manifest | None
    bm25: BM25Index
    committed: frozenset[str]

    @property
    def generation(self) -> int:
        """The commit number (0 for an empty or missing index)."""
        return self.manifest.generation if self.manifest else 0

    def is_current(self, index_dir: Path) -> bool:
        """Return True while no ingest has committed since this snapshot was read (one ``stat``)."""
        return stamp(index_dir) == self.stamp


def load_snapshot(index_dir: Path, attempts: int = 5) -> Snapshot:
    """Read the manifest and the BM25 version it names, retrying when a commit lands in between.

    Raises:
        RagError: The manifest is damaged (the message says how to rebuild).

    """
    for _ in range(attempts):
        before = stamp(index_dir)
        manifest = Manifest.load(index_dir)
        try:
            bm25 = BM25Index.load(index_dir, manifest.bm25 if manifest else "")
        except FileNotFoundError:  # a newer commit removed this version after we read the manifest
            continue
        if stamp(index_dir) == before:
            committed = frozenset(manifest.chunk_ids()) if manifest else frozenset()
            return Snapshot(before, manifest, bm25, committed)
    raise RagError(
        f"The index at {index_dir} kept changing while being read ({attempts} tries). Try again when "
        "the running ingest has finished."
    )


class IndexHandle:
    """A reader's view of one index: its vector store and current snapshot, shared by pipelines.

    Each question calls ``current()``; when another process (or thread) has committed since, the
    snapshot is re-read and the vector store reopened, so answers see what the last finished ingest
    committed and never a handle the ingest invalidated.
    """

    def __init__(self, index_dir: Path, open_store: Callable[[], VectorStore]) -> None:
        """Remember how to (re)open the store; nothing is opened until the first question."""
        self.index_dir, self._open = index_dir, open_store
        self._lock = threading.Lock()
        self._state: tuple[VectorStore, Snapshot] | None = None
        self._store: VectorStore | None = None

    def store(self) -> VectorStore:
        """Return the open vector store without reading the manifest (writers use this)."""
        state = self._state
        if state is not None:
            return state[0]
        with self._lock:
            if self._store is None:
                self._store = self._open()
            return self._store

    def current(self) -> tuple[VectorStore, Snapshot]:
        """Return the store and snapshot, refreshed if a commit happened since the last call."""
        state = self._state
        if state is not None and state[1].is_current(self.index_dir):
            return state
        with self._lock:
            state = self._state
            if state is None or not state[1].is_current(self.index_dir):
                snapshot = load_snapshot(self.index_dir)
                changed = state is not None and state[1].generation != snapshot.generation
                if changed or self._store is None:
                    self._store = self._open()
                self._state = state = (self._store, snapshot)
            return state

    def reopen(self) -> tuple[VectorStore, Snapshot]:
        """Drop the handles (e.g. after a store error) and open them again."""
        with self._lock:
            self._state, self._store = None, None
        return self.current()
