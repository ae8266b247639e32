"""Faults of the machine under a real index: a read-only index (finding 6), kill -9, a full file system.

Read-only uses a read-only bind mount when the machine allows it (root: chmod does not stop root),
else chmod for a user who is not root. The full file system is a small tmpfs; both are skipped with
the reason where the machine allows no mount. The kill points are real SIGKILLs of `rag ingest`, and
crashes at exact steps done by running the steps up to that point.
"""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from conftest import cli_env
from faults import RAG, Index, assert_one_line_error, build, mounted

from rag.index.manifest import Manifest
from rag.ingestion import journal

WORDS = [
    "harbour",
    "ferry",
    "lantern",
    "orchard",
    "granite",
    "meadow",
    "copper",
    "beacon",
    "willow",
    "saddle",
    "quarry",
    "thistle",
    "canal",
]


@pytest.fixture
def index(tmp_path: Path) -> Index:
    return build(tmp_path)


def _copies() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("rag-readonly-*")}


def _read_only(index: Index, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Return (an Index on a read-only view of ``index``, undo) or skip with the machine's reason."""
    view = tmp_path / "ro"
    if os.geteuid() != 0:
        for p in [index.dir, *index.dir.rglob("*")]:
            p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        return index, lambda: [
            p.chmod(p.stat().st_mode | stat.S_IWUSR) for p in [index.dir, *index.dir.rglob("*")]
        ]
    mount = mounted("ro", view, index.dir)
    reason = mount.__enter__()
    if reason:
        mount.__exit__(None, None, None)
        pytest.skip(f"no read-only index here: {reason}")
    ro = Index(index.base, index.settings.model_copy(update={"index_dir": view}))
    return ro, lambda: mount.__exit__(None, None, None)


@pytest.mark.heavy  # minutes of subprocesses: CI's heavy tier keeps the default under 12 min
def test_finding6_a_read_only_index_answers_and_writers_say_read_only(index, tmp_path):
    before = _copies()
    ro, undo = _read_only(index, tmp_path)
    try:
        ask = ro.rag("ask", "--json", "Who planted the Bramley apple trees?")
        assert ask.returncode == 0, ask.stderr
        answer = json.loads(ask.stdout)
        assert answer["passages"] and "orchard.md" in json.dumps(answer["passages"]), answer
        check = ro.rag("check")
        assert check.returncode == 0 and "Consistent" in check.stdout, check.stdout + check.stderr
        changed = index.docs / "orchard.md"
        changed.write_text(changed.read_text() + "\nPears came in 2011.\n")
        for command in (["ingest", "docs"], ["ingest", "--rebuild", "docs"], ["check", "--repair"]):
            assert_one_line_error(ro.rag(*command), "read-only", str(ro.dir))
    finally:
        undo()
    assert _copies() == before, "the private copy of the read-only store is removed"
    index.assert_consistent()


def _many_docs(folder: Path, n: int = 24) -> None:
    rng = random.Random(5)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        words = " ".join(f"{rng.choice(WORDS)}{rng.randint(0, 999)}" for _ in range(1200))
        (folder / f"d{i:02d}.txt").write_text(f"Logbook {i}. " + words)


def _wrote_some(index: Index, committed: set[str]) -> bool:
    """True once the running ingest has journaled and written vectors the manifest does not list."""
    if not (index.dir / journal.JOURNAL).exists():
        return False
    try:
        return bool(index.vectors() - committed)
    except Exception:  # the writer holds the database for a moment
        return False


@pytest.mark.heavy
def test_kill_9_while_embedding_leaves_nothing_answerable_and_ingest_recovers(index):
    committed = index.listed()
    _many_docs(index.docs / "many")
    proc = subprocess.Popen(
        [RAG, "ingest", "docs"],
        env=cli_env(index.dir, index.base),
        cwd=index.base,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline and not _wrote_some(index, committed):
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.fail("the ingest finished before it could be killed; give it more documents")
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert index.listed() == committed, "nothing new was committed"
    assert index.vectors() - committed, "the killed run left uncommitted vectors behind"
    assert index.retrieved("Logbook 3 harbour", "orchard") <= committed, "never answered from them"
    again = index.rag("ingest", "docs")
    assert again.returncode == 0, again.stderr
    index.assert_consistent()
    assert committed <= index.listed(), "nothing committed before the kill was lost"


def test_a_rebuild_that_died_while_emptying_is_finished_by_the_next_ingest(index):
    keep = index.docs / "orchard.md"
    journal.begin_reset(index.dir)  # the first steps of `rag ingest --rebuild` ...
    (index.dir / "manifest.json").unlink()  # ... then kill -9 before the store was emptied
    redo = index.rag("ingest", str(keep))
    assert redo.returncode == 0, redo.stderr
    docs = Manifest.load(index.dir)
    assert docs is not None and [e.display for e in docs.documents.values()] == ["docs/orchard.md"]
    index.assert_consistent()


@pytest.mark.heavy
def test_a_full_small_file_system_refuses_with_the_cause_keeps_the_commit_and_repairs(tmp_path):
    disk = tmp_path / "disk"
    with mounted("tmpfs", disk, size="1200k") as reason:
        if reason:
            pytest.skip(f"no small file system here: {reason}")
        index = build(disk / "base")  # docs and index on the small disk
        committed = index.listed()
        _many_docs(tmp_path / "big", n=40)
        full = index.rag("ingest", str(tmp_path / "big"))
        line = assert_one_line_error(full, "is full", "free some space")
        assert "rag check --repair" in line
        assert index.listed() == committed, "the last commit is unchanged"
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)  # space freed
        repaired = index.rag("check", "--repair")
        assert repaired.returncode == 0, repaired.stdout + repaired.stderr
        assert index.listed() == committed and index.vectors() == committed, "nothing was lost"
        index.assert_consistent()
        assert index.rag("ingest", str(tmp_path / "big")).returncode == 0
        index.assert_consistent()
