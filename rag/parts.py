"""Parts shared across a process: each model loaded once, one index handle (Chroma client) per folder."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

from .embed import Embedder, make_embedder
from .models import ChatModel, make_model
from .settings import EmbedSettings, ModelSettings, StoreSettings
from .snapshot import IndexHandle
from .store import make_store


@lru_cache(maxsize=2)
def shared_embedder(settings: EmbedSettings) -> Embedder:
    """Return the embedder for these settings, loaded once per process."""
    return make_embedder(settings)


@lru_cache(maxsize=2)
def shared_model(settings: ModelSettings) -> ChatModel:
    """Return the chat model for these settings, loaded once per process."""
    return make_model(settings)


_HANDLES: dict[tuple[StoreSettings, Path, str, int], IndexHandle] = {}
_HANDLES_LOCK = threading.Lock()


def shared_handle(store: StoreSettings, index_dir: Path, name: str, dim: int) -> IndexHandle:
    """Return the one handle per index in this process (one Chroma client per folder, never evicted)."""
    key = (store, index_dir, name, dim)
    with _HANDLES_LOCK:
        if key not in _HANDLES:
            _HANDLES[key] = IndexHandle(index_dir, lambda: make_store(store, index_dir, name, dim))
        return _HANDLES[key]
