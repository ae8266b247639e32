"""embed.backend = "openai": vectors from llama.cpp's HTTP server in embedding mode (SmolLM2's GGUF).

The vectors' quality does not matter here (a 135M chat model is no embedder); that they flow through
ingest, retrieval and the index's identity check does.
"""

from __future__ import annotations

import math
import subprocess
import time

import pytest
from conftest import free_port, make_settings
from serving import RAG, serve_env
from test_backends import start_llama_server

from rag import ask, ingest
from rag.core.errors import EmbedderMismatchError, ModelServerError
from rag.core.settings import EmbedSettings, Settings
from rag.index.manifest import Manifest
from rag.models.bundled import bundled_gguf_path
from rag.models.served_embedder import ServedEmbedder

NAME = "smollm2-135m-mean"
MEETING = "How long did the meeting between Zelenskyy and Trump last?"


@pytest.fixture(scope="module")
def embedding_server(tmp_path_factory):
    """llama.cpp's server on SmolLM2 in embedding mode, on a free loopback port; yields its /v1 URL."""
    port = free_port()
    proc = start_llama_server(bundled_gguf_path("smollm2-135m", "~/.cache/rag/models"), port, embedding=True)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(10)


def served(settings: Settings, url: str, **embed: object) -> Settings:
    cfg = EmbedSettings(backend="openai", name=NAME, base_url=url, batch_size=8, **embed)  # type: ignore[arg-type]
    return settings.model_copy(update={"embed": cfg})


def test_ingest_and_ask_with_vectors_from_the_server(tmp_path, corpus, embedding_server) -> None:
    s = served(make_settings(tmp_path / "index"), embedding_server)
    report = ingest([corpus], s, show_bar=False)
    assert report.chunks_embedded > 10 and not report.failures
    manifest = Manifest.load(s.index_dir)
    assert manifest is not None and (manifest.embedder, manifest.dim) == (NAME, 576), (
        "name and dimension recorded"
    )
    assert ingest([corpus], s, show_bar=False).chunks_embedded == 0, "unchanged files cost nothing"
    answer = ask(MEETING, s)
    assert answer.passages and any("50 minutes" in p.chunk.text for p in answer.passages)
    assert all(p.dense_score is not None for p in answer.passages if p.source != "bm25")

    local = make_settings(tmp_path / "index")  # the bundled in-process embedder: 384-d, another name
    with pytest.raises(EmbedderMismatchError, match="rebuild"):
        ask(MEETING, local)
    with pytest.raises(EmbedderMismatchError):
        ingest([corpus], local, show_bar=False, prune=True)


def test_batches_keep_their_order_and_vectors_are_unit_length(embedding_server) -> None:
    e = ServedEmbedder(EmbedSettings(backend="openai", name=NAME, base_url=embedding_server, batch_size=4))
    texts = [f"Line {i}: the {word} crossed the river at dawn." for i, word in enumerate("abcdefghijk")]
    together = e.embed(texts)  # three requests
    assert len(together) == len(texts) and e.dim == 576
    assert all(math.isclose(sum(x * x for x in v), 1.0, rel_tol=1e-6) for v in together)
    for i in (0, 5, 10):
        alone = e.embed([texts[i]])[0]
        sims = [sum(a * b for a, b in zip(alone, v, strict=True)) for v in together]
        assert max(range(len(sims)), key=sims.__getitem__) == i and sims[i] > 0.999
    assert e.count_tokens("the river") == len(e.tokenize("the river")) + 2


def test_a_server_that_is_down_is_one_clear_line(tmp_path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    e = ServedEmbedder(EmbedSettings(backend="openai", name=NAME, base_url=url, retries=1))
    started = time.monotonic()
    with pytest.raises(ModelServerError) as err:
        e.embed(["anything"])
    message = str(err.value)
    assert "not reachable" in message and "RAG_EMBED__BASE_URL" in message and "\n" not in message
    assert time.monotonic() - started < 30, "a retry with a short backoff, then the error"

    env = serve_env(tmp_path / "index", tmp_path, RAG_EMBED__BACKEND="openai", RAG_EMBED__NAME=NAME)
    env["RAG_EMBED__BASE_URL"], env["RAG_EMBED__RETRIES"] = url, "0"
    done = subprocess.run(
        [RAG, "serve", "--port", str(free_port())], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2 and "not reachable" in done.stderr and "RAG_EMBED__BASE_URL" in done.stderr
    missing = subprocess.run(
        [RAG, "ingest", str(tmp_path)],
        env={**env, "RAG_EMBED__NAME": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2 and "RAG_EMBED__NAME" in missing.stderr
