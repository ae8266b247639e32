"""What the last finished ingest committed, as a reader sees it: manifest, BM25 version, chunk ids."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rag.core.errors import IndexDamagedError, RagError
from rag.index.access import require_writable
from rag.index.bm25 import BM25Index
from rag.index.manifest import Manifest, stamp
from rag.index.opening import WRITING, Opened, Purpose
from rag.index.vector_store import VectorStore


@dataclass(frozen=True)
class Snapshot:
    """One committed state of an index; readers answer only from its chunk ids."""

    stamp: tuple[int, int, int] | None
    manifest: Manifest | None
    bm25: BM25Index
    committed: frozenset[str]
    newest_day: int = 0  # the latest document date (YYYYMMDD), 0 when nothing is dated

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
        IndexDamagedError: The manifest is damaged, or the BM25 folder it names is gone or damaged
            while no commit is happening (the message names it and says how to repair it).
        RagError: The index kept changing (commits faster than it can be read).

    """
    for _ in range(attempts):
        before = stamp(index_dir)
        manifest = Manifest.load(index_dir)
        version = manifest.bm25 if manifest else ""
        try:
            bm25 = BM25Index.load(index_dir, version)
        except FileNotFoundError:  # a newer commit removed this version after we read the manifest...
            if stamp(index_dir) == before:  # ...or, with no commit since, it is gone
                raise _bm25_error(index_dir, version, "is missing") from None
            continue
        except Exception as exc:  # bm25s and numpy raise many types on a garbled file
            if stamp(index_dir) == before:
                raise _bm25_error(index_dir, version, f"is damaged ({type(exc).__name__}: {exc})") from None
            continue
        if stamp(index_dir) == before:
            days = manifest.chunk_days() if manifest else {}
            bm25.set_rows(days, manifest.owners() if manifest else {})
            newest = max(days.values(), default=0)
            return Snapshot(before, manifest, bm25, frozenset(days), newest)
    raise RagError(
        f"The index at {index_dir} kept changing while being read ({attempts} tries). Try again when "
        "the running ingest has finished."
    )


def _bm25_error(index_dir: Path, version: str, what: str) -> IndexDamagedError:
    return IndexDamagedError(
        f"The BM25 folder {index_dir / version} that the manifest names {what}. Run `rag check --repair`: "
        "it rebuilds BM25 from the vector store."
    )


class IndexHandle:
    """A process's view of one index: its vector store and current snapshot, shared by pipelines.

    Each use checks (one ``stat``) whether an ingest has committed since. A commit by another
    process also means this process's Chroma client is stale (embedded Chroma keeps each process's
    vector index in memory): the client is closed and reopened once no thread is using it. Commits
    made through this process's own client need no reopen.
    """

    def __init__(
        self, index_dir: Path, open_store: Callable[[Purpose], Opened], reopenable: bool = True
    ) -> None:
        """Remember how to (re)open the store; nothing is opened until first use.

        Args:
            index_dir: The index folder (its manifest tells when a commit happened).
            open_store: Opens a new client on the store for a purpose (``rag.index.opening``).
            reopenable: False for a store the caller owns (e.g. in memory): it is never closed.

        """
        self.index_dir, self._open, self._reopenable = index_dir, open_store, reopenable
        self._cond = threading.Condition()
        self._users = 0
        self._store: VectorStore | None = None
        self._writable = False  # the open store may be written (not a read-only copy or stand-in)
        self._snapshot: Snapshot | None = None
        self._fresh_at = -1  # the generation the open store is known to reflect
        self._notes: list[str] = []

    @contextmanager
    def use(self) -> Iterator[tuple[VectorStore, Snapshot]]:
        """Lease the store and the current snapshot (refreshed, and the store reopened, if needed)."""
        with self._cond:
            store, snapshot = self._refresh()
            self._users += 1
        try:
            yield store, snapshot
        finally:
            self._release()

    @contextmanager
    def writing(self, purpose: Purpose = "write") -> Iterator[VectorStore]:
        """Lease the store without reading the snapshot, opened for ``purpose`` (see ``open_for``).

        ``write``, ``rebuild`` and ``repair`` refuse a read-only index; ``check`` only reads.
        """
        with self._cond:
            if purpose in WRITING:
                require_writable(self.index_dir, "change it")
                if self._store is not None and not self._writable:
                    self._close_when_unused()  # a read-only copy or the empty stand-in
            store = self._store or self._open_now(purpose)
            self._users += 1
        try:
            yield store
        finally:
            self._release()

    def take_notes(self) -> tuple[str, ...]:
        """Return and forget what opening the store had to do (e.g. a damaged store moved aside)."""
        with self._cond:
            notes, self._notes = tuple(self._notes), []
            return notes

    def committed(self, generation: int) -> None:
        """Note a commit written through this process's store: that client saw its own writes."""
        with self._cond:
            self._fresh_at = generation

    def close(self) -> None:
        """Close the store once no thread uses it (a store the caller owns is left open)."""
        with self._cond:
            if self._reopenable:
                self._close_when_unused()
            self._snapshot = None

    def reopen(self) -> None:
        """Reopen the store at the next use (after an error from a collection changed elsewhere)."""
        with self._cond:
            self._snapshot, self._fresh_at = None, -2

    def _release(self) -> None:
        with self._cond:
            self._users -= 1
            self._cond.notify_all()

    def _close_when_unused(self) -> None:
        """Close the open store once no thread uses it (under the condition's lock)."""
        self._cond.wait_for(lambda: self._users == 0)
        if self._store is not None:
            self._store.close()
        self._store = None

    def _open_now(self, purpose: Purpose = "read") -> VectorStore:
        """Open the store, noting the generation on disk just before (under the condition's lock)."""
        try:
            manifest = Manifest.load(self.index_dir)
            self._fresh_at = manifest.generation if manifest else 0
        except RagError:
            self._fresh_at = -1
        opened = self._open(purpose)
        self._store, self._writable = opened.store, opened.writable
        if opened.note:
            self._notes.append(opened.note)
        return self._store

    def _refresh(self) -> tuple[VectorStore, Snapshot]:
        """Under the condition's lock: re-read a changed snapshot; reopen a store that is stale."""
        old = self._snapshot
        if old is not None and self._store is not None and old.is_current(self.index_dir):
            return self._store, old
        snapshot = load_snapshot(self.index_dir)
        if self._store is not None and self._reopenable and snapshot.generation != self._fresh_at:
            self._close_when_unused()
        store = self._store or self._open_now("read")
        self._snapshot = snapshot
        return store, snapshot
