"""Opening Chroma so that every failure is a StoreError naming the real cause.

Three things in chromadb 1.5 turn a damaged or read-only folder into a misleading error, handled here:

- its Rust core reports some damage (a garbled ``chroma.sqlite3``) by panicking, which reaches Python
  as ``pyo3_runtime.PanicException``, a BaseException that ``except Exception`` does not catch;
- a client that fails to start leaves its half-started system cached for that folder, so every later
  open in the process fails with ``'RustBindingsAPI' object has no attribute 'bindings'``;
- it writes to the folder when it opens (its migrations table), so a read-only folder cannot be
  opened in place: a read-only index is read from a private copy, removed when the client closes.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from rag.core.errors import StoreDamagedError, StoreError

T = TypeVar("T")
SQLITE = "chroma.sqlite3"
# Words in Chroma's errors that mean the files are damaged (not a full disk or a missing server).
_DAMAGE = ("not a database", "malformed", "hnsw", "pickle", "deserializ", "corrupt", "no such table")


_COPIES: set[Path] = set()  # private copies of read-only stores, removed on close or at exit


@atexit.register
def _remove_copies() -> None:
    for copy in list(_COPIES):
        remove_copy(copy)


def remove_copy(copy: Path) -> None:
    """Delete the private copy of a read-only store."""
    _COPIES.discard(copy)
    shutil.rmtree(copy, ignore_errors=True)


def is_panic(exc: BaseException) -> bool:
    """Return True for a Rust panic inside Chroma (``pyo3_runtime.PanicException``, not importable)."""
    return type(exc).__name__ == "PanicException"


def looks_damaged(exc: BaseException) -> bool:
    """Return True when Chroma's error says its files are damaged."""
    text = f"{type(exc).__name__} {exc}".lower()
    return is_panic(exc) or any(word in text for word in _DAMAGE)


def cause(exc: BaseException) -> str:
    """Return Chroma's error on one line (a panic's message without the Rust backtrace)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return " ".join(first.split())[:300]


def guarded(fix: Callable[[Any], str]) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Turn Chroma's own errors and panics in a store method into a StoreError with ``fix(self)``."""

    def wrap(method: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(method)
        def call(self: Any, *args: Any, **kwargs: Any) -> T:
            try:
                return method(self, *args, **kwargs)
            except StoreError:
                raise
            except BaseException as exc:
                if not isinstance(exc, Exception) and not is_panic(exc):
                    raise  # KeyboardInterrupt, SystemExit
                kind = StoreDamagedError if looks_damaged(exc) else StoreError
                raise kind(
                    f"The vector store failed during {method.__name__}: {cause(exc)}. {fix(self)}"
                ) from exc

        return call

    return wrap


def _forget_failed_system(path: str) -> None:
    """Drop the system Chroma cached for ``path`` when no client uses it (it failed to start)."""
    from chromadb.api.shared_system_client import SharedSystemClient as Shared

    with Shared._refcount_lock:
        if Shared._identifier_to_refcount.get(path, 0) <= 0:
            Shared._identifier_to_system.pop(path, None)


def open_persistent(folder: Path, read_only: bool, settings: Any) -> tuple[Any, Path | None]:
    """Open embedded Chroma in ``folder``; a read-only one through a private copy.

    Args:
        folder: The ``chroma`` folder of an index.
        read_only: Open a copy (in the temp folder) instead of the folder itself.
        settings: chromadb ``Settings`` for the client.

    Returns:
        The client and the copy's temp folder to delete on close (None when opened in place).

    Raises:
        StoreDamagedError: The files cannot be opened (the message gives Chroma's cause).
        StoreError: Anything else (e.g. the copy does not fit in the temp folder).

    """
    import chromadb

    copy: Path | None = None
    path = folder
    try:
        if read_only:
            copy = Path(tempfile.mkdtemp(prefix="rag-readonly-"))
            _COPIES.add(copy)
            path = copy / "chroma"
            shutil.copytree(folder, path)
        return chromadb.PersistentClient(path=str(path), settings=settings), copy
    except BaseException as exc:
        if not isinstance(exc, Exception) and not is_panic(exc):
            raise
        _forget_failed_system(str(path))
        if copy is not None:
            remove_copy(copy)
        if isinstance(exc, OSError) and copy is not None:
            raise StoreError(f"Cannot copy the read-only vector store {folder} to read it: {exc}.") from exc
        if not looks_damaged(exc):
            raise StoreError(
                f"Cannot open the vector store at {folder}: {cause(exc)}. Check the folder (disk space, "
                "permissions)."
            ) from exc
        raise StoreDamagedError(
            f"The vector store file {folder / SQLITE} is damaged ({cause(exc)}). Run `rag check --repair` "
            "(it keeps the file aside and re-embeds the documents from their files) or "
            "rag ingest --rebuild PATH..."
        ) from exc
