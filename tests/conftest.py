"""Shared fixtures: real Chroma in tmp folders, the bundled embedder, SmolLM2 on one thread."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["ANONYMIZED_TELEMETRY"] = "False"

from rag.core.settings import ModelSettings, Settings

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_49f197e31fd5e6ea.txt"
NATO = "What spending target did NATO endorse?"

FARM = """---
title: Orchard notes
date: 2024-04-02
---
# Orchard notes

The Bramley apple trees in the north orchard were planted in 1998 by Ada Lovell.

The cider press in the old barn processes about 40 crates of apples each October.
"""

LIGHTHOUSE = """<html><head><title>Harbour lighthouse</title>
<meta name="date" content="2023-09-14"></head>
<body><h1>Harbour lighthouse</h1>
<p>The harbour lighthouse at Kestrel Point has a range of 18 nautical miles.</p>
<p>Its keeper, Tomas Brenner, logged 212 ships passing in August.</p></body></html>
"""


def make_settings(index_dir: Path, **model: object) -> Settings:
    """Settings for tests: SmolLM2 on one thread, short answers, index in a tmp folder."""
    cfg = {"backend": "bundled", "bundled": "smollm2-135m", "threads": 1, "max_tokens": 64, "n_ctx": 2048}
    cfg.update(model)
    return Settings(index_dir=index_dir, data_dir=index_dir.parent / "data", model=ModelSettings(**cfg))


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A folder with the seed article and two tiny documents of other formats."""
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    (docs / "orchard.md").write_text(FARM)
    (docs / "lighthouse.html").write_text(LIGHTHOUSE)
    return docs


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "index")


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """An index of the seed and two tiny documents, built once per session."""
    from rag import ingest

    base = tmp_path_factory.mktemp("seedindex")
    docs = base / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    (docs / "orchard.md").write_text(FARM)
    (docs / "lighthouse.html").write_text(LIGHTHOUSE)
    s = make_settings(base / "index")
    ingest([docs], s, show_bar=False)
    return s


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    """Wait until ``url`` answers, failing early with the server's stderr when it exits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


@contextmanager
def chroma_server(path: Path) -> Iterator[tuple[int, subprocess.Popen]]:
    """Run `chroma run` on a free loopback port with its data in ``path``; stop it on exit."""
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    cmd = [str(chroma), "run", "--path", str(path), "--port", str(port), "--host", "127.0.0.1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc)
        yield port, proc
    finally:
        proc.terminate()
        proc.wait(10)


def memory_store(dim: int = 384):
    """A real Chroma collection in memory (chromadb.EphemeralClient), unique per call."""
    import uuid

    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from rag.core.settings import StoreSettings
    from rag.index.vector_store import ChromaStore

    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
    name = f"mem-{uuid.uuid4().hex[:10]}"
    return ChromaStore(
        StoreSettings(collection=name), Path("/nonexistent"), "all-MiniLM-L6-v2", dim, client=client
    )


def cli_env(index_dir: Path, home: Path, **extra: str) -> dict[str, str]:
    """Environment for running the `rag` command in a subprocess: offline, this checkout's code, one index."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "RAG_INDEX_DIR": str(index_dir),
        "RAG_MODEL__BUNDLED": "smollm2-135m",
        "RAG_MODEL__MAX_TOKENS": "64",
    }
    if "PYTHONPATH" in os.environ:  # a worktree run: the subprocess must load the same code
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return {**env, **extra}
