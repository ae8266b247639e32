"""One huge file: bounded work and memory, refused with the setting to raise when over the text limit."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SEED, cli_env

RAG = str(Path(sys.executable).with_name("rag"))


def single_line(path: Path, megabytes: float) -> None:
    """A text of sentences with no newline at all (the shape that broke the old splitter)."""
    words = "the harbour ferry sailed north across grey water while {} gulls circled Kestrel Point"
    size = int(megabytes * 1_000_000)
    with path.open("w") as fh:
        written, n = 0, 0
        while written < size:
            sentence = words.format(n).capitalize() + ". "
            fh.write(sentence)
            written, n = written + len(sentence), n + 1


# Linux carries a parent's peak RSS into a child it forks (the exec inherits the old image's high-water
# mark), so a child of this big pytest process would report at least pytest's own size. A small
# launcher process forks the command instead and reports the command's own peak.
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
open(sys.argv[1], "w").write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(args: list[str], env: dict, cwd: Path) -> tuple[int, str, str, float, float]:
    """Run a command; return its exit code, stdout, stderr, seconds and peak RSS in MB (of that process)."""
    started = time.monotonic()
    peak = cwd / "peak-rss-kb.txt"
    with (cwd / "out.txt").open("w+") as out, (cwd / "err.txt").open("w+") as err:
        command = [sys.executable, "-c", _LAUNCHER, str(peak), *args]
        code = subprocess.run(command, env=env, cwd=cwd, stdout=out, stderr=err, check=False).returncode
        out.seek(0)
        err.seek(0)
        return code, out.read(), err.read(), time.monotonic() - started, int(peak.read_text()) / 1024


def test_a_20_mb_single_line_is_refused_with_the_limit_in_bounded_memory(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    single_line(docs / "huge.txt", 20)
    (docs / SEED.name).write_text(SEED.read_text())
    code, out, err, seconds, rss = run_measured(
        [RAG, "ingest", str(docs), "--json"], cli_env(tmp_path / "idx", tmp_path), tmp_path
    )
    print(f"\n20 MB single line: exit {code} after {seconds:.0f} s, peak RSS {rss:.0f} MB")
    assert code == 3, err
    report = json.loads(out)
    reasons = {Path(p["path"]).name: p["reason"] for p in report["problems"]}
    assert "its text is 20.0 MB, over the limit of 10 MB" in reasons["huge.txt"]
    assert re.search(r"RAG_CHUNK__MAX_TEXT_MB=2[01]\b", reasons["huge.txt"])
    assert report["documents_changed"] == 1 and report["chunks_embedded"] > 10, "the other file is ingested"
    assert rss < 1500, f"peak RSS {rss:.0f} MB"


@pytest.mark.heavy
def test_a_2_mb_single_line_is_ingested(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    single_line(docs / "long.txt", 2)
    code, out, err, seconds, rss = run_measured(
        [RAG, "ingest", str(docs), "--json"], cli_env(tmp_path / "idx", tmp_path), tmp_path
    )
    report = json.loads(out)
    print(f"\n2 MB single line: {report['chunks_embedded']} chunks in {seconds:.0f} s, peak RSS {rss:.0f} MB")
    assert code == 0, err
    assert report["chunks_embedded"] > 1500 and not report["problems"]
    assert seconds < 1200


CHUNK_20MB = """
import resource, sys, time
from pathlib import Path
from rag.index.manifest import Manifest
from rag.components import shared_embedder
from rag.ingestion.plan import Plan, plan_file
from rag.core.settings import ChunkSettings, EmbedSettings, Settings

embedder = shared_embedder(EmbedSettings())
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
settings = Settings(index_dir=Path(sys.argv[2]), chunk=ChunkSettings(max_text_mb=25))
plan = Plan()
started = time.monotonic()
plan_file(Path(sys.argv[1]), settings, embedder, Manifest(embedder.name, embedder.dim), plan)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(len(plan.to_embed), len(plan.problems), round(time.monotonic() - started), round(before), round(peak))
"""


@pytest.mark.heavy
def test_a_20_mb_single_line_is_chunked_in_bounded_memory_when_the_limit_allows(tmp_path):
    """With chunk.max_text_mb raised, reading and chunking 20 MB is linear and adds little memory."""
    single_line(tmp_path / "huge.txt", 20)
    done = subprocess.run(
        [sys.executable, "-c", CHUNK_20MB, str(tmp_path / "huge.txt"), str(tmp_path / "idx")],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        timeout=1200,
    )
    assert done.returncode == 0, done.stderr
    chunks, problems, seconds, before, peak = map(int, done.stdout.split())
    print(f"\n20 MB single line planned: {chunks} chunks in {seconds} s, RSS {before} -> {peak} MB")
    assert problems == 0 and chunks > 15_000
    assert peak - before < 600
