"""Chat models: a GGUF model in-process (xllamacpp), or any OpenAI-compatible server (``server_chat``)."""

from __future__ import annotations

import queue
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.core.errors import ModelFileError, ModelServerError, missing
from rag.core.settings import ModelSettings
from rag.models.bundled import bundled_gguf_path, check_gguf
from rag.models.chat_protocol import ChatModel, Delta, Message, yes_share


class GGUFModel:
    """A GGUF chat model run in-process by llama.cpp (the prebuilt xllamacpp wheel)."""

    def __init__(self, path: Path, settings: ModelSettings, parallel: int = 1) -> None:
        """Load the model with the thread count and context size from the settings."""
        try:
            import xllamacpp as xlc
        except ImportError:
            raise missing("xllamacpp", "core", "The bundled GGUF model backend") from None
        params = xlc.CommonParams()
        params.model.path = str(path)
        params.n_ctx = settings.n_ctx * parallel
        params.n_parallel = parallel
        params.n_ubatch = settings.n_ubatch
        params.n_batch = max(params.n_batch, settings.n_ubatch)  # llama.cpp needs n_batch >= n_ubatch
        threads = model_threads(settings.threads)
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.sampling.temp = settings.temperature
        params.n_predict = settings.max_tokens
        params.verbosity = -1  # llama.cpp logs every request to stderr otherwise
        # xllamacpp also opens an HTTP listener on a random loopback port; a random key keeps other
        # local processes from using it (we call the server in-process only).
        params.api_keys = [secrets.token_urlsafe(24)]
        try:
            self._server = xlc.Server(params)
        except RuntimeError as exc:  # llama.cpp says only "Failed to init server" for any bad file
            raise ModelFileError(
                f"llama.cpp could not load the model {path} ({exc}). The file may be damaged or of a "
                "model architecture this llama.cpp does not support: download it again, or choose "
                "another with RAG_MODEL__PATH (or RAG_MODEL__BACKEND=bundled)."
            ) from None
        self._settings = settings
        self.name = path.stem
        self.threads = threads  # what model.threads resolved to (0 = auto is sampled once, here)

    def stream(self, messages: list[Message]) -> Iterator[Delta]:
        """Run the completion in a worker thread and yield its chunks as they arrive.

        The worker always finishes before this returns, even when the caller stops reading or the
        model reports an error: llama.cpp aborts the process if its thread is abandoned mid-call.
        """
        pieces: queue.Queue[Any] = queue.Queue()
        stop = threading.Event()
        request = {
            "messages": messages,
            "stream": True,
            "max_tokens": self._settings.max_tokens,
            "temperature": self._settings.temperature,
            "logprobs": True,
            "top_logprobs": 1,
            "cache_prompt": self._settings.cache_prompt,
        }

        def on_chunk(chunk: Any) -> bool:
            pieces.put(chunk)
            return stop.is_set()  # True asks llama.cpp to stop generating

        def work() -> None:
            try:
                self._server.handle_chat_completions(request, on_chunk)
            except Exception as exc:  # surfaced in the caller's thread below
                pieces.put(exc)
            finally:
                pieces.put(None)

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        finished = False
        try:
            while (item := pieces.get()) is not None:
                _raise_if_error(item, self._settings)
                yield from _deltas(item)
            finished = True
        finally:
            if not finished:
                stop.set()
                while pieces.get() is not None:
                    pass
            worker.join()

    def yes_probability(self, messages: list[Message]) -> float | None:
        """Read the first token's "yes"/"no" probabilities in one step (the prompt's prefix is cached)."""
        request = {
            "messages": messages,
            "stream": False,
            "max_tokens": 1,
            "temperature": 0.0,
            "logprobs": True,
            "top_logprobs": 20,
        }
        reply = self._server.handle_chat_completions(request)
        _raise_if_error(reply, self._settings)
        try:
            return yes_share(reply["choices"][0]["logprobs"]["content"][0]["top_logprobs"])
        except (KeyError, IndexError, TypeError):
            return None


def model_threads(setting: int, sample: float = 0.3) -> int:
    """Return the thread count for llama.cpp: the setting, or for 0 the cores other processes leave idle.

    Measured over ``sample`` seconds, minus this process's own CPU time: the load average this used
    before counts our own start-up (imports, embedder, ingest) as "busy" and gave 1 thread on an idle
    2-core machine. psutil rather than /proc/stat by hand: the same call works on macOS and Windows.
    """
    if setting > 0:
        return setting
    import psutil

    me = psutil.Process()
    cores = len(me.cpu_affinity() or []) if hasattr(me, "cpu_affinity") else 0
    cores = cores or psutil.cpu_count() or 1
    before, mine, start = _busy_seconds(), _own_seconds(me), time.monotonic()
    time.sleep(sample)
    wall = time.monotonic() - start
    others = max(0.0, (_busy_seconds() - before) - (_own_seconds(me) - mine)) / wall
    return max(1, min(cores, round(cores - others)))


def _busy_seconds() -> float:
    """CPU seconds all cores spent running something (user, nice, system, interrupts) since boot."""
    import psutil

    t = psutil.cpu_times()
    return sum(getattr(t, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq"))


def _own_seconds(me: Any) -> float:
    """CPU seconds this process (all its threads) has used."""
    t = me.cpu_times()
    return float(t.user + t.system)


def _raise_if_error(item: Any, settings: ModelSettings) -> None:
    """Turn an exception or an error reply from llama.cpp into a ModelServerError with the fix."""
    error = item if isinstance(item, Exception) else item.get("error")
    if error is None:
        return
    hint = "Check the model file, or try RAG_MODEL__BACKEND=openai with a model server."
    if "context" in str(error).lower() or "exceed" in str(error).lower():
        hint = (
            f"The question and passages do not fit the model's context ({settings.n_ctx} tokens): "
            "lower RAG_RETRIEVE__TOP_K or raise RAG_MODEL__N_CTX."
        )
    raise ModelServerError(f"The local model failed: {error}. {hint}")


def _deltas(item: dict[str, Any]) -> Iterator[Delta]:
    """Yield the text of one streamed chunk, and the token counts from its timings if present."""
    for choice in item.get("choices", []):
        text = (choice.get("delta") or {}).get("content")
        if text:
            content = (choice.get("logprobs") or {}).get("content") or []
            yield Delta(text, logprobs=tuple(float(t["logprob"]) for t in content if "logprob" in t))
    timings = item.get("timings")
    if timings:
        prompt = int(timings.get("prompt_n", 0)) + int(timings.get("cache_n", 0))
        yield Delta("", prompt, int(timings.get("predicted_n", 0)))


def make_model(settings: ModelSettings, parallel: int = 1) -> ChatModel:
    """Build the chat model the settings choose."""
    match settings.backend:
        case "bundled":
            return GGUFModel(bundled_gguf_path(settings.bundled, settings.cache_dir), settings, parallel)
        case "gguf":
            if not settings.path:
                raise ModelFileError("backend=gguf needs a file: set RAG_MODEL__PATH=/path/model.gguf")
            return GGUFModel(check_gguf(settings.path), settings, parallel)
        case "openai":
            from rag.models.server_chat import OpenAIServerModel

            return OpenAIServerModel(settings)
