"""Parts shared across a process: each model loaded once, one index handle (Chroma client) per folder."""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager, nullcontext
from functools import lru_cache
from pathlib import Path
from typing import Generic, TypeVar

from rag.core.settings import EmbedSettings, ModelSettings, Settings, StoreSettings
from rag.index.handle import IndexHandle
from rag.index.opening import Opened, open_for
from rag.index.vector_store import VectorStore
from rag.models.chat import make_model
from rag.models.chat_protocol import ChatModel
from rag.models.embedder import Embedder, make_embedder
from rag.verify.confidence import PACKAGED, ConfidenceModel

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@lru_cache(maxsize=4)
def shared_confidence(path: str | None) -> ConfidenceModel | None:
    """Return the confidence model at ``path`` (None: the packaged one, if shipped), read once."""
    if path is None and not PACKAGED.is_file():
        return None
    return ConfidenceModel.load(Path(path) if path else PACKAGED)


class Shared(Generic[K, V]):
    """A process-wide cache that builds each value once, even when threads ask for it at once.

    ``functools.lru_cache`` runs the function again for every thread that misses at the same time:
    eight threads asking their first question would each load the chat model. Here a thread that
    misses builds the value under that key's own lock while the others wait for it; other keys are
    built in parallel. The least recently used value beyond ``maxsize`` is dropped.
    """

    def __init__(self, build: Callable[[K], V], maxsize: int) -> None:
        """Remember how to build a value and how many to keep."""
        self._build, self._maxsize = build, maxsize
        self._values: OrderedDict[K, V] = OrderedDict()
        self._building: dict[K, threading.Lock] = {}
        self._lock = threading.Lock()

    def __call__(self, key: K) -> V:
        """Return the value for ``key``, building it once."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            value = self._build(key)  # a failure is raised to this caller; the next one tries again
            with self._lock:
                self._values[key] = value
                self._building.pop(key, None)
                while len(self._values) > self._maxsize:
                    self._values.popitem(last=False)
            return value

    def clear(self) -> None:
        """Forget every value (tests; values in use stay usable)."""
        with self._lock:
            self._values.clear()


shared_embedder: Shared[EmbedSettings, Embedder] = Shared(make_embedder, maxsize=2)
shared_model: Shared[ModelSettings, ChatModel] = Shared(make_model, maxsize=2)

_LOCAL_BACKENDS = ("bundled", "gguf")
_IN_PROCESS_MODEL = threading.Lock()


def answer_lock(settings: ModelSettings) -> AbstractContextManager[object]:
    """Return what one generation holds: one lock for in-process models, nothing for a model server.

    A GGUF model in this process answers one question at a time (as the UI's queue does: two at once
    would share the same cores and both be slow); a model server takes concurrent requests itself.
    """
    return _IN_PROCESS_MODEL if settings.backend in _LOCAL_BACKENDS else nullcontext()


_HANDLES: dict[tuple[StoreSettings, Path, str, int], IndexHandle] = {}
_HANDLES_LOCK = threading.Lock()


def shared_handle(store: StoreSettings, index_dir: Path, name: str, dim: int) -> IndexHandle:
    """Return the one handle per index in this process (one Chroma client per folder, never evicted)."""
    key = (store, index_dir, name, dim)
    with _HANDLES_LOCK:
        if key not in _HANDLES:
            _HANDLES[key] = IndexHandle(
                index_dir, lambda purpose: open_for(purpose, store, index_dir, name, dim)
            )
        return _HANDLES[key]


def close_index(index_dir: Path) -> None:
    """Close this process's clients on the index at ``index_dir``; the next use opens it afresh.

    For a program that moves, restores or deletes an index folder while it keeps running.
    """
    with _HANDLES_LOCK:
        handles = [h for k, h in _HANDLES.items() if k[1] == index_dir.resolve()]
    for handle in handles:
        handle.close()


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

    def generating(self) -> AbstractContextManager[object]:
        """Hold the chat model for one generation (serialized for an in-process model; see answer_lock)."""
        return answer_lock(self.settings.model)

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
                self._handle = IndexHandle(s.index_dir, lambda _: Opened(store, True), reopenable=False)
            else:
                self._handle = shared_handle(s.store, s.index_dir.resolve(), e.name, e.dim)
        return self._handle
