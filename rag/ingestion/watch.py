"""Keep the index in step with folders: new and changed files ingested, deleted ones pruned, renames seen.

``watch_folders`` first ingests the folders (catching up on what changed while nothing watched,
and finishing what a killed run left: ingest recovers under the index lock), then follows their
changes with watchfiles. A changed path waits until it has been quiet for ``settle`` seconds, so
a file still being written is not read half way; then every ready path goes through one
``ingest`` (one commit). Each change is reported as a ``WatchEvent``, one line of output.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from rag.core.errors import RagError
from rag.core.settings import Settings
from rag.core.types import IngestReport, WatchEvent
from rag.index.manifest import DocEntry, Manifest
from rag.ingestion.loaders import SUFFIXES, display_path
from rag.ingestion.plan import gone_documents

OnEvent = Callable[[WatchEvent], None]


class Indexer(Protocol):
    """What watching needs from the pipeline that owns the index (``rag.pipeline.Pipeline``)."""

    settings: Settings

    def ingest(
        self, paths: Iterable[str | Path], *, show_bar: bool = True, prune_under: Sequence[Path] = ()
    ) -> IngestReport:
        """Add or update documents, and remove those under ``prune_under`` whose files are gone."""
        ...


def _entries(index_dir: Path) -> dict[str, DocEntry]:
    """Return the committed documents by id (none before the first ingest)."""
    manifest = Manifest.load(index_dir)
    return dict(manifest.documents) if manifest else {}


def _count(chunks: dict[str, list[int]]) -> str:
    return f"{len(chunks)} chunk{'' if len(chunks) == 1 else 's'}"


def changes(
    before: dict[str, DocEntry], after: dict[str, DocEntry], report: IngestReport
) -> list[WatchEvent]:
    """Describe what one ingest changed: documents added, updated, removed or renamed, and failures.

    A document removed and one added with the same content hash in the same ingest is a rename.
    """
    added = {k: e for k, e in after.items() if k not in before}
    removed = [e for k, e in before.items() if k not in after]
    events: list[WatchEvent] = []
    for old in removed:
        new_id = next((k for k, e in added.items() if e.hash == old.hash), None)
        if new_id is None:
            events.append(WatchEvent("removed", old.display, _count(old.chunks)))
        else:
            events.append(WatchEvent("renamed", added.pop(new_id).display, old.display))
    events += [WatchEvent("added", e.display, _count(e.chunks)) for e in added.values()]
    events += [
        WatchEvent("updated", e.display, _count(e.chunks))
        for k, e in after.items()
        if k in before and before[k].hash != e.hash
    ]
    events += [WatchEvent("failed", display_path(Path(p.path)), p.reason) for p in report.problems]
    return events


class FolderWatcher:
    """Follows folders (and single files) and brings the index in step with them."""

    def __init__(self, indexer: Indexer, paths: Sequence[str | Path], on_event: OnEvent, settle: float = 1.0):
        """Watch ``paths`` for ``indexer``, reporting each change to ``on_event``.

        Raises:
            RagError: A path does not exist.

        """
        missing = [str(p) for p in paths if not Path(p).exists()]
        if missing or not paths:
            raise RagError(f"Cannot watch {', '.join(missing) or 'nothing'}: give existing folders or files.")
        self.indexer, self.on_event, self.settle = indexer, on_event, settle
        self.roots = [Path(p).resolve() for p in paths]
        self.index_dir = indexer.settings.index_dir.resolve()

    def wanted(self, change: Any, name: str) -> bool:
        """Return True for a path worth a look: a document type or a folder, not hidden, not the index."""
        path = Path(name)
        if path.is_relative_to(self.index_dir):
            return False
        root = next((r for r in self.roots if path.is_relative_to(r)), None)
        parts = path.relative_to(root).parts if root else (path.name,)
        if any(part.startswith(".") for part in parts):
            return False
        deleted = getattr(change, "name", "") == "deleted"  # a folder too: its documents are pruned
        return deleted or path.suffix.lower() in SUFFIXES or path.is_dir()

    def apply(self, paths: Iterable[Path], initial: bool = False) -> None:
        """Ingest the paths that exist and prune the documents of those that are gone, in one commit."""
        before = _entries(self.index_dir)
        present = [p for p in paths if p.exists() and (p.is_dir() or p.suffix.lower() in SUFFIXES)]
        gone = list(self.roots) if initial else [p for p in paths if gone_documents(before, [p])]
        if not present and not gone:
            return
        report = self.indexer.ingest(present, show_bar=False, prune_under=gone)
        for event in changes(before, _entries(self.index_dir), report):
            self.on_event(event)

    def run(self, stop: threading.Event | None = None) -> None:
        """Catch up with the folders, then follow their changes until ``stop`` is set (or Ctrl-C).

        A batch that cannot be written (another process holds the index) is tried again.
        """
        import watchfiles

        stop = stop or threading.Event()
        pending: dict[Path, float] = {}
        started = False
        tick = max(50, int(self.settle * 250))
        for batch in watchfiles.watch(
            *self.roots,
            watch_filter=self.wanted,
            stop_event=stop,
            debounce=int(self.settle * 1000),
            step=50,
            rust_timeout=tick,
            yield_on_timeout=True,
            raise_interrupt=False,
        ):
            if not started:  # the first yield: the folders are watched now, so the catch-up misses nothing
                started = True
                self.on_event(WatchEvent("watching", ", ".join(str(r) for r in self.roots)))
                self.apply(self.roots, initial=True)
            now = time.monotonic()
            pending.update((Path(name), now) for _, name in batch)
            ready = sorted(p for p, seen in pending.items() if now - seen >= self.settle)
            if not ready:
                continue
            try:
                self.apply(ready)
            except RagError as exc:  # e.g. another process holds the index: kept, tried again later
                self.on_event(WatchEvent("error", ", ".join(str(p) for p in ready), str(exc)))
                continue
            except Exception as exc:  # a bug must not end the watch: say so and go on with later changes
                self.on_event(WatchEvent("error", ", ".join(str(p) for p in ready), repr(exc)))
            for path in ready:
                del pending[path]
        self.on_event(WatchEvent("stopped", ", ".join(str(r) for r in self.roots)))


def watch_folders(
    indexer: Indexer,
    paths: Sequence[str | Path],
    on_event: OnEvent,
    stop: threading.Event | None = None,
    settle: float = 1.0,
) -> None:
    """Keep the index in step with folders until ``stop`` is set; see ``FolderWatcher``.

    Args:
        indexer: The pipeline whose index is kept (``Pipeline``): its ingest holds the index lock.
        paths: Folders (followed recursively) and files.
        on_event: Called with each change, from the watching thread.
        stop: Set it to stop watching (from another thread or a signal handler).
        settle: Seconds a changed file must stay unchanged before it is read.

    """
    FolderWatcher(indexer, paths, on_event, settle).run(stop)


def background_watch(
    indexer: Indexer, paths: Sequence[str | Path], on_event: OnEvent, settle: float = 1.0
) -> Callable[[], None]:
    """Run ``watch_folders`` in a daemon thread; return the function that stops it (and waits).

    An error that ends the watch is passed to ``on_event`` as an "error" event rather than raised
    in a thread nobody joins.
    """
    stop = threading.Event()

    def run() -> None:
        try:
            watch_folders(indexer, paths, on_event, stop, settle)
        except Exception as exc:
            on_event(WatchEvent("error", ", ".join(map(str, paths)), f"watching stopped: {exc}"))

    thread = threading.Thread(target=run, name="rag-watch", daemon=True)
    thread.start()

    def stop_watching(timeout: float = 30.0) -> None:
        stop.set()
        thread.join(timeout)

    return stop_watching
