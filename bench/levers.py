"""The speed levers bench_latency.py compares: settings changes, and a tap on llama.cpp's requests."""

from __future__ import annotations

from typing import Any

from rag.core.settings import Settings
from rag.models.chat import GGUFModel, make_model

SPECS = {
    "threads": ("model", "threads"),
    "ubatch": ("model", "n_ubatch"),
    "excerpt": ("retrieve", "excerpt_sentences"),
    "top_k": ("retrieve", "top_k"),
}
DEFAULT_LEVERS = ["default", "threads=2", "cache=off", "excerpt=2", "excerpt=3", "ubatch=128", "ubatch=256"]


def lever_settings(spec: str, base: Settings) -> tuple[Settings, dict[str, Any]]:
    """Turn "default" or "key=value+key=value" into settings and extra llama.cpp request fields.

    Keys: threads (model.threads), ubatch (model.n_ubatch), excerpt (retrieve.excerpt_sentences),
    top_k (retrieve.top_k), cache=off (the request field cache_prompt: false).
    """
    settings, extra = base, {}
    for part in filter(None, spec.split("+")):
        if part == "default":
            continue
        key, _, value = part.partition("=")
        if key == "cache":
            extra["cache_prompt"] = value not in ("off", "0", "false")
            continue
        if key not in SPECS:
            raise SystemExit(f"unknown lever {part!r}: use default, cache=off or {', '.join(SPECS)}=N")
        section, field = SPECS[key]
        values = getattr(settings, section).model_dump() | {field: int(value)}
        new = type(getattr(base, section))(**values)  # validated, unlike model_copy(update=...)
        settings = settings.model_copy(update={section: new})
    return settings, extra


class Tap:
    """Stands in for GGUFModel's xllamacpp.Server: adds request fields and keeps llama.cpp's timings.

    GGUFModel builds its request itself; wrapping the server object lets the bench send
    ``cache_prompt: false`` and read ``cache_n`` (prompt tokens taken from the cache) apart from
    ``prompt_n`` (tokens computed), which rag's Delta adds together, without changing rag/.
    """

    def __init__(self, server: Any, extra: dict[str, Any]) -> None:
        """Wrap ``server``; ``extra`` is merged into every chat request."""
        self._server, self._extra = server, extra
        self.timings: dict[str, Any] = {}

    def handle_chat_completions(self, request: dict[str, Any], callback: Any) -> Any:
        """Forward the request with the extra fields; note the timings of its last chunk."""
        self.timings = {}

        def on_chunk(chunk: Any) -> Any:
            if isinstance(chunk, dict) and chunk.get("timings"):
                self.timings = dict(chunk["timings"])
            return callback(chunk)

        return self._server.handle_chat_completions({**request, **self._extra}, on_chunk)


def tapped_model(settings: Settings, extra: dict[str, Any]) -> tuple[GGUFModel, Tap]:
    """Load a fresh in-process model (its own prompt cache) with a Tap in front of its server."""
    model = make_model(settings.model)
    if not isinstance(model, GGUFModel):
        raise SystemExit("bench_latency measures the in-process GGUF model (model.backend bundled or gguf)")
    tap = Tap(model._server, extra)  # the one private attribute the bench touches; see Tap
    model._server = tap
    return model, tap
