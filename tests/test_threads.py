"""Finding 1: settings never go through the process environment, and ``ask()`` is safe from many threads.

The question test runs the real pieces (bundled embedder, embedded Chroma, SmolLM2 on one thread):
eight threads share one Pipeline, and every answer must equal the one the same question gets when
asked alone. The default tier asks 4 threads x 4 questions; the heavy tier 8 threads x 25.
"""

from __future__ import annotations

import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import FARM, LIGHTHOUSE, SEED

import rag
from rag.core.settings import load_settings
from rag.core.types import Answer

QUESTIONS = [
    "What spending target did NATO endorse?",
    "Who planted the Bramley apple trees?",
    "How many crates does the cider press process?",
    "What is the range of the harbour lighthouse?",
    "Who keeps the harbour lighthouse?",
    "How many ships passed the lighthouse in August?",
    "When were the Bramley trees planted?",
    "Where is the cider press?",
    "What did the summit leaders agree on?",
    "Which orchard holds the Bramley trees?",
    "What is the population of Kyiv?",
    "Where is Kestrel Point?",
    "What did Ada Lovell plant?",
    "What is the keeper's name?",
    "When does the cider press run?",
    "What range does the lighthouse at Kestrel Point have?",
    "What did NATO members agree to spend on defence?",
    "Which trees grow in the north orchard?",
    "Who logged the ships passing in August?",
    "What was endorsed at the summit?",
    "How far can the harbour lighthouse be seen?",
    "What happens in the old barn each October?",
    "What is the capital of Australia?",
    "Who is Tomas Brenner?",
    "In which year were the apple trees planted?",
]


@pytest.mark.fast
def test_load_settings_from_eight_threads_reads_its_file_leaves_the_env_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no rag.toml here
    monkeypatch.delenv("RAG_CONFIG", raising=False)
    monkeypatch.delenv("RAG_RETRIEVE__TOP_K", raising=False)
    files = {}
    for k in (3, 7):
        files[k] = tmp_path / f"k{k}.toml"
        files[k].write_text(f"[retrieve]\ntop_k = {k}\n")
    before = dict(os.environ)
    errors: list[BaseException] = []
    seen: list[tuple[int | None, int]] = []

    def work(n: int) -> None:
        for i in range(200):
            which = (3, 7, None)[(n + i) % 3]
            try:
                s = load_settings(files[which] if which else None)
            except BaseException as exc:
                errors.append(exc)
            else:
                seen.append((which, s.retrieve.top_k))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [], f"{len(errors)} of 1600 calls raised, e.g. {errors[0]}"
    assert len(seen) == 1600
    assert {k: top for k, top in seen} == {3: 3, 7: 7, None: 4}, "each call read its own file only"
    assert dict(os.environ) == before, "load_settings wrote to the process environment"


class _Recording(dict):  # type: ignore[type-arg]
    """A stand-in for os.environ that records every write."""

    writes: list[str]

    def __setitem__(self, key: str, value: str) -> None:
        self.writes.append(key)
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.writes.append(key)
        super().__delitem__(key)

    def pop(self, key: str, *default: object) -> object:  # type: ignore[override]
        self.writes.append(key)
        return super().pop(key, *default)


@pytest.mark.fast
def test_load_settings_never_writes_the_process_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "k5.toml"
    config.write_text("[retrieve]\ntop_k = 5\n")
    recording = _Recording({k: v for k, v in os.environ.items() if k != "RAG_CONFIG"})
    recording.writes = []
    monkeypatch.setattr(os, "environ", recording)
    assert load_settings(config).retrieve.top_k == 5
    assert load_settings().retrieve.top_k == 4
    assert recording.writes == [], f"load_settings wrote {recording.writes} to the environment"


def _index(base: Path) -> None:
    docs = base / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    (docs / "orchard.md").write_text(FARM)
    (docs / "lighthouse.html").write_text(LIGHTHOUSE)


def _key(a: Answer) -> tuple[object, ...]:
    """What must not depend on the other threads: the text, the draft, the citations, the passages."""
    return (
        a.text,
        a.draft,
        a.abstained,
        a.abstain_reason,
        tuple((c.n, c.passage.chunk.id, c.supported) for c in a.citations),
        tuple(p.chunk.id for p in a.passages),
    )


def _ask_from_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: int, per_thread: int) -> None:
    """Ask ``per_thread`` questions from each of ``threads`` threads through ``rag.ask()`` (settings
    from the environment, as a notebook or web app calling the API would), then compare each
    answer with the same question asked alone."""
    _index(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAG_CONFIG", raising=False)
    for key, value in {
        "RAG_INDEX_DIR": str(tmp_path / "index"),
        "RAG_MODEL__BACKEND": "bundled",
        "RAG_MODEL__BUNDLED": "smollm2-135m",
        "RAG_MODEL__THREADS": "1",
        "RAG_MODEL__MAX_TOKENS": "48",
        "RAG_MODEL__N_CTX": "2048",
    }.items():
        monkeypatch.setenv(key, value)
    rag.ingest([tmp_path / "docs"], show_bar=False)
    questions = QUESTIONS[:per_thread]
    alone = {q: _key(rag.ask(q, as_of="2025-07-01")) for q in questions}

    def work(n: int) -> list[tuple[str, tuple[object, ...]]]:
        order = questions[n % len(questions) :] + questions[: n % len(questions)]  # threads out of step
        return [(q, _key(rag.ask(q, as_of="2025-07-01"))) for q in order]

    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(work, n) for n in range(threads)]
        errors = [f.exception() for f in futures if f.exception() is not None]
        assert errors == [], f"{len(errors)} of {threads} threads failed, e.g. {errors[0]!r}"
        results = [r for f in futures for r in f.result()]
    assert len(results) == threads * per_thread
    different = [q for q, key in results if key != alone[q]]
    assert different == [], f"{len(different)} answers differ from the same question asked alone"
    assert os.environ.get("RAG_CONFIG") is None


@pytest.mark.heavy  # minutes of subprocesses: CI's heavy tier keeps the default under 12 min
def test_ask_from_four_threads_on_one_pipeline_matches_asking_alone(tmp_path, monkeypatch):
    _ask_from_threads(tmp_path, monkeypatch, threads=4, per_thread=4)


@pytest.mark.heavy
def test_ask_from_eight_threads_times_25_questions_matches_asking_alone(tmp_path, monkeypatch):
    _ask_from_threads(tmp_path, monkeypatch, threads=8, per_thread=25)
