"""`rag watch` in a subprocess: files are created, changed, renamed and deleted while it runs.

After each change the watcher prints one line, and within a few seconds retrieval (in this process,
on the same index) answers from the new state, never from a deleted file or an old version. A file
written slowly is read once, whole. Ctrl-C stops it cleanly; kill -9 in the middle of an ingest
leaves an index that `rag check` finds consistent after the next start (heavy tier).
"""

from __future__ import annotations

import json
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import FARM, cli_env, free_port, make_settings

import rag
from rag.pipeline import Pipeline

RAG = str(Path(sys.executable).with_name("rag"))
QUESTION = "When does the harbour ferry leave in the morning?"
QUICK = 15.0  # seconds from a change on disk to the index answering from it ("a few seconds")


class Watcher:
    """A running `rag watch` whose output lines are read as they come."""

    def __init__(self, folder: Path, index_dir: Path, home: Path, settle: float = 1.0) -> None:
        cmd = [RAG, "watch", "--settle", str(settle), str(folder)]
        self.proc = subprocess.Popen(
            cmd,
            env=cli_env(index_dir, home),
            cwd=folder.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.errors: list[str] = []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, None), daemon=True).start()

    def _read(self, stream, into: queue.Queue[str] | None) -> None:
        for line in stream:
            if into is None:
                self.errors.append(line)
            else:
                into.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, seconds: float) -> str:
        """Return the next output line matching ``pattern``; fail with the output after ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            self.seen.append(line)
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no line /{pattern}/ in {seconds} s; out: {self.seen}; err: {self.errors}")

    def drain(self) -> list[str]:
        """Return the lines printed so far and not yet read."""
        out = []
        while not self.lines.empty():
            out.append(self.lines.get())
        self.seen += out
        return out


@contextmanager
def watching(folder: Path, index_dir: Path, home: Path) -> Iterator[Watcher]:
    """Run `rag watch` on ``folder``; killed at the end if a test left it running."""
    w = Watcher(folder, index_dir, home)
    try:
        yield w
    finally:
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait(30)


def _retrieve(pipeline: Pipeline, question: str) -> list[tuple[str, str]]:
    return [(Path(p.chunk.path).name, p.chunk.text) for p in pipeline.retrieve(question)]


@pytest.mark.heavy  # minutes of subprocesses: CI's heavy tier keeps the default under 12 min
def test_watch_follows_create_change_rename_delete(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "orchard.md").write_text(FARM)
    settings = make_settings(tmp_path / "index")
    pipeline = Pipeline.from_settings(settings)
    with watching(docs, settings.index_dir, tmp_path) as w:
        w.wait_for(r"watching .*docs \(Ctrl-C stops\)", 60)
        w.wait_for(r"added +docs/orchard\.md \(\d+ chunks?\)", 120)  # the catch-up ingest
        assert _retrieve(pipeline, QUESTION)[0][0] == "orchard.md"  # loads the embedder here first

        started = time.monotonic()
        (docs / "ferry.txt").write_text("The harbour ferry leaves at 9:40 every morning from pier 7.")
        w.wait_for(r"added +docs/ferry\.txt \(1 chunk\)", QUICK)
        assert ("ferry.txt", "The harbour ferry leaves at 9:40 every morning from pier 7.") in _retrieve(
            pipeline, QUESTION
        )
        assert time.monotonic() - started < QUICK

        started = time.monotonic()
        (docs / "ferry.txt").write_text("The harbour ferry leaves at 11:15 every morning from pier 7.")
        w.wait_for(r"updated +docs/ferry\.txt", QUICK)
        found = _retrieve(pipeline, QUESTION)
        assert found[0] == ("ferry.txt", "The harbour ferry leaves at 11:15 every morning from pier 7.")
        assert not any("9:40" in text for _, text in found), "the old version is gone"
        assert time.monotonic() - started < QUICK

        (docs / "ferry.txt").rename(docs / "boats.txt")
        w.wait_for(r"renamed +docs/boats\.txt \(was docs/ferry\.txt\)", QUICK)
        names = [name for name, _ in _retrieve(pipeline, QUESTION)]
        assert names[0] == "boats.txt" and "ferry.txt" not in names

        (docs / "boats.txt").unlink()
        w.wait_for(r"removed +docs/boats\.txt", QUICK)
        assert all(name == "orchard.md" for name, _ in _retrieve(pipeline, QUESTION))
        answer = rag.ask(QUESTION, settings)
        assert not any(p.chunk.path.endswith("boats.txt") for p in answer.passages)
        assert "11:15" not in answer.text, "never answered from a deleted file"

        _write_slowly(docs / "log.txt", ["The lock keeper", " logged 31 barges", " on Tuesday."], pause=0.4)
        w.wait_for(r"added +docs/log\.txt", QUICK)
        assert ("log.txt", "The lock keeper logged 31 barges on Tuesday.") in _retrieve(
            pipeline, "lock keeper"
        )

        w.proc.send_signal(signal.SIGINT)
        assert w.proc.wait(60) == 0
        w.wait_for(r"stopped +.*docs", 5)
        assert not [line for line in w.drain() if "log.txt" in line], "the slowly written file was read once"
        assert sorted(d.path for d in rag.list_documents(settings)) == ["docs/log.txt", "docs/orchard.md"]


@pytest.mark.parametrize(
    ("command", "started"),
    [("ui", r"rag UI: open http://127\.0\.0\.1:\d+"), ("serve", None)],
)
def test_rag_ui_and_serve_watch_keep_the_index_in_step_in_the_background(
    tmp_path: Path, command: str, started: str | None
) -> None:
    """The page prints its URL on stdout; rag serve on stderr, so only its watch lines are awaited."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "orchard.md").write_text(FARM)
    index_dir = tmp_path / "index"
    cmd = [RAG, command, "--port", str(free_port()), "--watch", str(docs)]
    # PYTHONFAULTHANDLER: a process that will not stop is sent SIGABRT below and prints every thread
    env = cli_env(index_dir, tmp_path, GRADIO_ANALYTICS_ENABLED="False", PYTHONFAULTHANDLER="1")
    w = Watcher.__new__(Watcher)
    w.proc = subprocess.Popen(
        cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    w.lines, w.seen, w.errors = queue.Queue(), [], []
    threading.Thread(target=w._read, args=(w.proc.stdout, w.lines), daemon=True).start()
    threading.Thread(target=w._read, args=(w.proc.stderr, None), daemon=True).start()
    try:
        if started:
            w.wait_for(started, 120)
        w.wait_for(r"added +docs/orchard\.md", 120)
        (docs / "ferry.txt").write_text("The harbour ferry leaves at 9:40 every morning from pier 7.")
        w.wait_for(r"added +docs/ferry\.txt", QUICK)
        assert sorted(Path(d.path).name for d in rag.list_documents(make_settings(index_dir))) == [
            "ferry.txt",
            "orchard.md",
        ]
        w.proc.send_signal(signal.SIGINT)
        try:
            w.proc.wait(90)
        except subprocess.TimeoutExpired as exc:
            w.proc.send_signal(signal.SIGABRT)
            w.proc.wait(30)
            time.sleep(1)  # let the reader thread take the tracebacks
            raise AssertionError(
                f"rag {command} did not stop on Ctrl-C; its threads: {''.join(w.errors)}"
            ) from exc
    finally:
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait(30)


def _write_slowly(path: Path, pieces: list[str], pause: float) -> None:
    """Write a file piece by piece with pauses shorter than the watcher's settle time."""
    with path.open("w") as fh:
        for piece in pieces:
            fh.write(piece)
            fh.flush()
            time.sleep(pause)


def _paragraphs(rng: random.Random, tag: str) -> str:
    words = [
        "harbour",
        "ferry",
        "lantern",
        "orchard",
        "granite",
        "meadow",
        "copper",
        "beacon",
        "willow",
        "kiln",
    ]
    return "\n\n".join(
        " ".join(f"{rng.choice(words)}" for _ in range(40)) + f" {tag}-{i}."
        for i in range(rng.randint(12, 20))
    )


@pytest.mark.heavy
def test_kill_9_of_the_watcher_mid_ingest_then_restart_leaves_a_consistent_index(tmp_path: Path) -> None:
    rng = random.Random(20)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "orchard.md").write_text(FARM)
    index_dir = tmp_path / "index"
    journal = index_dir / "ingest-journal.json"
    with watching(docs, index_dir, tmp_path) as w:
        w.wait_for(r"added +docs/orchard\.md", 120)
        for i in range(60):
            (docs / f"n{i:02d}.txt").write_text(_paragraphs(rng, f"n{i:02d}"))
        deadline = time.monotonic() + 120
        while not journal.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert journal.exists(), f"the watcher never started the ingest: {w.seen} {w.errors}"
        time.sleep(rng.uniform(0.2, 1.5))  # somewhere in the embedding
        w.proc.kill()
        w.proc.wait(30)
        assert not any("n59.txt" in line for line in w.drain()), "killed before it committed"
    (docs / "n00.txt").unlink()  # and a change while nothing watched
    with watching(docs, index_dir, tmp_path) as w:
        w.wait_for(r"added +docs/n59\.txt", 300)  # the restart catches up on the killed batch
        time.sleep(2)
        w.proc.send_signal(signal.SIGINT)
        assert w.proc.wait(60) == 0
    env = cli_env(index_dir, tmp_path)
    check = subprocess.run([RAG, "check", "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    assert json.loads(check.stdout)["clean"] is True
    listed = subprocess.run([RAG, "docs", "--json"], env=env, capture_output=True, text=True, timeout=300)
    names = sorted(Path(d["path"]).name for d in json.loads(listed.stdout))
    assert names == sorted(["orchard.md", *(f"n{i:02d}.txt" for i in range(1, 60))])


@pytest.mark.fast
def test_changes_name_renames_by_content_and_list_failures() -> None:
    from rag.core.types import FileProblem, IngestReport
    from rag.index.manifest import DocEntry
    from rag.ingestion.watch import changes

    def entry(name: str, digest: str, n: int) -> DocEntry:
        return DocEntry(f"/d/{name}", f"d/{name}", digest, name, None, {f"c{i}": [0, 1] for i in range(n)})

    before = {"a": entry("a.txt", "h1", 2), "b": entry("b.txt", "h2", 1), "c": entry("c.txt", "h3", 1)}
    after = {"c": entry("c.txt", "h4", 3), "e": entry("e.txt", "h1", 2), "f": entry("f.txt", "h9", 1)}
    report = IngestReport(problems=(FileProblem("/nowhere/x.pdf", "corrupt or unreadable PDF"),))
    lines = {(e.kind, e.path, e.detail) for e in changes(before, after, report)}
    assert lines == {
        ("renamed", "d/e.txt", "d/a.txt"),  # same content, other name
        ("removed", "d/b.txt", "1 chunk"),
        ("added", "d/f.txt", "1 chunk"),
        ("updated", "d/c.txt", "3 chunks"),
        ("failed", "/nowhere/x.pdf", "corrupt or unreadable PDF"),
    }
