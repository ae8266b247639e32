"""Parts shared across a process: each model loaded once, one index handle (Chroma client) per folder."""

from __future__ import annotations

import contextlib
import threading
from functools import lru_cache
from pathlib import Path

from rag.core.settings import EmbedSettings, ModelSettings, Settings, StoreSettings
from rag.index.handle import IndexHandle
from rag.index.vector_store import VectorStore, make_store
from rag.models.chat import make_model
from rag.models.chat_protocol import ChatModel
from rag.models.embedder import Embedder, make_embedder
from rag.verify.confidence import PACKAGED, ConfidenceModel


@lru_cache(maxsize=2)
def shared_embedder(settings: EmbedSettings) -> Embedder:
    """Return the embedder for these settings, loaded once per process."""
    return make_embedder(settings)


@lru_cache(maxsize=4)
def shared_confidence(path: str | None) -> ConfidenceModel | None:
    """Return the confidence model at ``path`` (None: the packaged one, if shipped), read once."""
    if path is None and not PACKAGED.is_file():
        return None
    return ConfidenceModel.load(Path(path) if path else PACKAGED)


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


class Components:
    """The parts one pipeline uses (embedder, chat model, index handle), each loaded on first use."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        store: VectorStore | None = None,
        model: ChatModel | None = None,
    ) -> None:
        """Use the given parts, or load each from the settings on first use.

        Args:
            settings: All settings.
            embedder: An embedder (default: the settings' model, shared per process).
            store: A vector store (default: Chroma as the settings say, reopened after commits).
            model: A chat model (default: the settings' model, shared per process).

        """
        self.settings = settings
        self._embedder, self._model = embedder, model
        self._fixed_store = store
        self._model_lock = threading.Lock()
        self._handle: IndexHandle | None = None

    @property
    def embedder(self) -> Embedder:
        """The embedder, loaded on first use."""
        if self._embedder is None:
            self._embedder = shared_embedder(self.settings.embed)
        return self._embedder

    @property
    def model(self) -> ChatModel:
        """The chat model, loaded on first use (once, even when two threads ask at the same time)."""
        with self._model_lock:
            if self._model is None:
                self._model = shared_model(self.settings.model)
            return self._model

    def preload_model(self) -> None:
        """Start loading the chat model in the background (it loads while retrieval runs)."""
        if self._model is None and not self._model_lock.locked():
            threading.Thread(target=self._load_quietly, daemon=True).start()

    def _load_quietly(self) -> None:
        # A failure here is not lost: the next use of .model raises it again, with its fix.
        with contextlib.suppress(Exception):
            _ = self.model

    @property
    def index(self) -> IndexHandle:
        """The process's handle on the index: vector store and committed snapshot."""
        if self._handle is None:
            s, e = self.settings, self.embedder
            if self._fixed_store is not None:
                store = self._fixed_store
                self._handle = IndexHandle(s.index_dir, lambda: store, reopenable=False)
            else:
                self._handle = shared_handle(s.store, s.index_dir.resolve(), e.name, e.dim)
        return self._handle
