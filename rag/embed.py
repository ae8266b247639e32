"""The Embedder protocol and the sentence-transformers implementation (bundled model by default)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol

from .bundled import embedder_path
from .errors import ModelFileError, missing
from .settings import EmbedSettings

BUNDLED_EMBEDDER = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Turns text into normalised vectors and counts the word-pieces it will read."""

    name: str
    dim: int
    max_tokens: int

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
    """A sentence-transformers model loaded from a local folder (never from a hub)."""

    def __init__(self, folder: Path, name: str, batch_size: int = 32, threads: int = 0) -> None:
        """Load the model from ``folder`` on the CPU; ``name`` is recorded in the index."""
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise missing("sentence_transformers", "core", "Embedding") from None
        if threads:
            torch.set_num_threads(threads)
        if not (folder / "config.json").exists():
            raise ModelFileError(
                f"{folder} is not a sentence-transformers model folder (no config.json). "
                "Set RAG_EMBED__MODEL_PATH to one, or unset it to use the bundled model."
            )
        # sentence-transformers 6.2 rejects a Path here: it must be str.
        self._model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        self._tokenizer = self._model.tokenizer
        self.name = name
        self.dim = int(self._model.get_embedding_dimension() or 0)
        self.max_tokens = int(self._model.max_seq_length or 256)
        self.batch_size = batch_size

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Return one unit-length vector per text."""
        vectors = self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return [v.tolist() for v in vectors]

    def tokenize(self, text: str) -> list[int]:
        """Return the model's token ids for ``text`` (no special tokens)."""
        # verbose=False: counting a long text is fine here; only embedding truncates it.
        return list(self._tokenizer.encode(text, add_special_tokens=False, verbose=False))

    def count_tokens(self, text: str) -> int:
        """Return the word-pieces the model reads for ``text``, with [CLS] and [SEP]."""
        return len(self.tokenize(text)) + 2


def make_embedder(settings: EmbedSettings) -> Embedder:
    """Build the embedder the settings ask for (the bundled all-MiniLM-L6-v2 by default)."""
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
