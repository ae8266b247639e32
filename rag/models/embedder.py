"""The Embedder protocol and the sentence-transformers implementation (bundled model by default).

``embed.backend = "openai"`` uses ``served_embedder.ServedEmbedder`` instead (an embedding server).
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any, Protocol

from rag.core.errors import ModelFileError, missing
from rag.core.settings import EmbedSettings
from rag.models.bundled import embedder_path

BUNDLED_EMBEDDER = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Turns text into normalised vectors and counts the word-pieces it will read."""

    name: str
    max_tokens: int

    @property
    def dim(self) -> int:
        """The vectors' dimension."""
        ...

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Return one unit-length vector per text."""
        ...

    def tokenize(self, text: str) -> list[int]:
        """Return the model's token ids for ``text`` (no special tokens)."""
        ...

    def count_tokens(self, text: str) -> int:
        """Return how many word-pieces the model sees for ``text``."""
        ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model in a local folder (never from a hub), loaded on first use.

    Its name, dimension and window come from the folder's config files, and token counts from its
    ``tokenizer.json`` (the ``tokenizers`` library, no torch): checking the index, planning an ingest
    and chunking new files cost no model load; torch is imported only to embed.
    """

    def __init__(self, folder: Path, name: str, batch_size: int = 32, threads: int = 0) -> None:
        """Read the model's identity from ``folder``; ``name`` is recorded in the index."""
        if not (folder / "config.json").exists():
            raise ModelFileError(
                f"{folder} is not a sentence-transformers model folder (no config.json). "
                "Set RAG_EMBED__MODEL_PATH to one, or unset it to use the bundled model."
            )
        self.folder, self.name, self.batch_size, self.threads = folder, name, batch_size, threads
        self.dim, self.max_tokens = _declared_shape(folder)
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        self._encoding = threading.Lock()

    def _loaded(self) -> Any:
        """Load the model once (thread-safe) and check it matches what its config declared."""
        with self._lock:
            if self._model is None:
                try:
                    import torch
                    from sentence_transformers import SentenceTransformer
                except ImportError:
                    raise missing("sentence_transformers", "core", "Embedding") from None
                if self.threads:
                    torch.set_num_threads(self.threads)
                # sentence-transformers 6.2 rejects a Path here: it must be str.
                model = SentenceTransformer(str(self.folder), device="cpu", local_files_only=True)
                dim = int(model.get_embedding_dimension() or 0)
                if dim != self.dim:
                    raise ModelFileError(
                        f"{self.folder} makes {dim}-d vectors but its config declares {self.dim}-d. "
                        "Fix the model folder's modules.json / 1_Pooling config."
                    )
                self._model = model
            return self._model

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Return one unit-length vector per text (one call at a time: see below)."""
        model = self._loaded()
        # transformers sets the tokenizer's truncation and padding on every call, and the Rust
        # tokenizer refuses to be changed while another thread uses it ("Already borrowed"); torch
        # spreads one batch over the cores anyway, so threads embed one after the other.
        with self._encoding:
            vectors = model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
            )
        return [v.tolist() for v in vectors]

    def tokenize(self, text: str) -> list[int]:
        """Return the model's token ids for ``text`` (no special tokens, no truncation)."""
        if self._tokenizer is None:
            self._tokenizer = _fast_tokenizer(self.folder) or self._loaded().tokenizer.backend_tokenizer
        return list(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def count_tokens(self, text: str) -> int:
        """Return the word-pieces the model reads for ``text``, with [CLS] and [SEP]."""
        return len(self.tokenize(text)) + 2


def _fast_tokenizer(folder: Path) -> Any:
    """Return the folder's ``tokenizer.json`` as a ``tokenizers.Tokenizer`` (no torch), or None."""
    path = folder / "tokenizer.json"
    if not path.exists():
        return None
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_truncation()  # counting a long text is fine here; only embedding truncates it
    tokenizer.no_padding()
    return tokenizer


def _declared_shape(folder: Path) -> tuple[int, int]:
    """Return (vector dimension, window in word-pieces) as the model folder's config files declare them."""

    def read(name: str) -> Any:
        path = folder / name
        return json.loads(path.read_text()) if path.is_file() else {}

    window = int(read("sentence_bert_config.json").get("max_seq_length") or 256)
    dim = int(read("config.json").get("hidden_size") or 0)
    for module in read("modules.json") or []:
        config = read(f"{module['path']}/config.json") if module.get("path") else {}
        if str(module.get("type", "")).endswith("Pooling"):
            modes = sum(1 for k, v in config.items() if k.startswith("pooling_mode") and v is True)
            dim = int(config.get("word_embedding_dimension", dim)) * max(1, modes)
        elif str(module.get("type", "")).endswith("Dense"):
            dim = int(config.get("out_features", dim))
    return dim, window


def make_embedder(settings: EmbedSettings) -> Embedder:
    """Build the embedder the settings ask for (the bundled all-MiniLM-L6-v2 by default)."""
    if settings.backend == "openai":
        from rag.models.served_embedder import ServedEmbedder

        return ServedEmbedder(settings)
    if not settings.model_path:
        return SentenceTransformerEmbedder(
            embedder_path(), BUNDLED_EMBEDDER, settings.batch_size, settings.threads
        )
    folder = Path(settings.model_path).expanduser().resolve()
    return SentenceTransformerEmbedder(folder, _identity(folder), settings.batch_size, settings.threads)


def _identity(folder: Path) -> str:
    """Name a user's model by folder name and a hash of its config, so two models never look alike."""
    digest = hashlib.sha1()
    for name in ("config.json", "modules.json", "sentence_bert_config.json"):
        if (folder / name).exists():
            digest.update((folder / name).read_bytes())
    for weights in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
    return f"{folder.name}@{digest.hexdigest()[:10]}"
