"""Shared fixtures: real Chroma in tmp folders, the bundled embedder, SmolLM2 on one thread."""

from __future__ import annotations

import os
import shutil
import socket
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


class ScriptedModel:
    """A chat model that replies with queued texts, for fast unit tests of the answer logic (like
    simonw/llm's MockModel). The real-model tests stay beside these, never replaced by them."""

    name = "scripted"

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.prompts: list[list[dict[str, str]]] = []

    def enqueue(self, *replies: str) -> None:
        self.replies.extend(replies)

    def stream(self, messages):  # type: ignore[no-untyped-def]
        from rag.models.chat import Delta

        self.prompts.append(messages)
        reply = self.replies.pop(0) if self.replies else ""
        words = reply.split(" ")
        for i, word in enumerate(words):
            yield Delta(word if i == 0 else f" {word}")
        yield Delta(
            "", prompt_tokens=sum(len(m["content"].split()) for m in messages), completion_tokens=len(words)
        )


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
