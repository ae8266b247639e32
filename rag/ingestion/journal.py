"""The ingest journal: chunk ids a run is about to write or delete, so a crash can be undone.

An ingest writes vectors before it commits the manifest. If it dies (kill -9, power loss) in between,
the vectors it wrote are not in the manifest: orphans. The journal is written, and synced, before the
first write to the vector store and removed after the run's clean-up, so recovery only has to look
at the ids it lists: whatever of them the manifest does not hold is deleted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

JOURNAL = "ingest-journal.json"


def begin(index_dir: Path, ids: Iterable[str]) -> None:
    """Record the ids about to be written or deleted (atomically, synced to disk)."""
    _write(index_dir, sorted(set(ids)))


def begin_reset(index_dir: Path) -> None:
    """Record that the index is being emptied (``--rebuild``): a crash part way is finished next run."""
    _write(index_dir, {"reset": True})


def resetting(index_dir: Path) -> bool:
    """Return True when a run that was emptying the index died before it finished."""
    try:
        data = json.loads((index_dir / JOURNAL).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("reset") is True


def _write(index_dir: Path, data: object) -> None:
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = index_dir / (JOURNAL + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / JOURNAL)


def pending(index_dir: Path) -> set[str] | None:
    """Return the ids an unfinished run listed: empty when the last run finished, None when unreadable.

    None (a damaged journal) means the caller must compare the whole store with the manifest.
    """
    try:
        data = json.loads((index_dir / JOURNAL).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return set()
    except ValueError:
        return None
    return {str(i) for i in data} if isinstance(data, list) else None


def end(index_dir: Path) -> None:
    """Remove the journal: the run committed and cleaned up."""
    (index_dir / JOURNAL).unlink(missing_ok=True)
