"""Whether an index folder can be written, and keeping a damaged part aside instead of deleting it."""

from __future__ import annotations

import os
import time
from pathlib import Path

from rag.core.errors import ReadOnlyIndexError

_WRITTEN = ("chroma", "chroma/chroma.sqlite3", "manifest.json")  # what every writing command changes


def _existing(path: Path) -> Path:
    """Return ``path``, or its nearest existing parent (an index not created yet is created there)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def read_only_reason(index_dir: Path) -> str | None:
    """Return why rag cannot write the index at ``index_dir`` (a read-only mount, permissions), or None.

    ``os.access`` answers for the real user: root passes permission bits but not a read-only mount.
    """
    folder = _existing(index_dir)
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return f"{folder} is on a read-only file system"
    except OSError:
        pass
    for path in (folder, *(index_dir / part for part in _WRITTEN)):
        if path.exists() and not os.access(path, os.W_OK):
            return f"{path} is not writable by this user"
    return None


def disk_full(path: Path, below: int = 16 * 2**20) -> str:
    """Return "The disk holding PATH is full (N kB free)" when less than ``below`` bytes are free, else ""."""
    try:
        st = os.statvfs(_existing(path))
    except OSError:
        return ""
    free = st.f_bavail * st.f_frsize
    return f"The disk holding {path} is full ({free // 1024:,} kB free)" if free < below else ""


def require_writable(index_dir: Path, doing: str = "change it") -> None:
    """Raise ReadOnlyIndexError, naming the path and the fix, when the index cannot be written.

    Args:
        index_dir: The index folder.
        doing: What the refused command would do, for the message ("ingest", "repair it", ...).

    """
    reason = read_only_reason(index_dir)
    if reason:
        raise ReadOnlyIndexError(
            f"The index at {index_dir} is read-only ({reason}): rag can answer from it but not {doing}. "
            "Make it writable, or copy the folder somewhere writable and point --index (RAG_INDEX_DIR) at it."
        )


def move_aside(path: Path, why: str = "damaged") -> Path:
    """Rename a damaged file or folder to ``<name>.<why>-<time>`` beside it and return the new path.

    Nothing is deleted: whatever can still be read from it stays there for the user.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.{why}-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.{why}-{stamp}-{n}")
    path.rename(target)
    return target
