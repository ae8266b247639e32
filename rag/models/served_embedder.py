"""An embedder on a server: any OpenAI-compatible ``/v1/embeddings`` (llama.cpp, vLLM, TEI, Ollama).

Texts go out in batches of ``embed.batch_size``; the ``openai`` client retries a failed request with
exponential backoff (connection errors, 408, 429, 5xx). The vectors' dimension is asked of the
server once, on first use; the index records ``embed.name`` and that dimension, so vectors of two
models never mix. Chunks are sized with a local tokenizer (``embed.tokenizer``, else the bundled
all-MiniLM-L6-v2's), since a generic server has no tokenize endpoint.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

from rag.core.errors import ModelFileError, ModelServerError, missing
from rag.core.settings import EmbedSettings
from rag.models.bundled import embedder_path


class ServedEmbedder:
    """Embeds through an OpenAI-compatible server; tokenizes locally to size chunks."""

    def __init__(self, settings: EmbedSettings) -> None:
        """Configure the client and the tokenizer; nothing is sent until the first use."""
        try:
            from openai import OpenAI
        except ImportError:
            raise missing("openai", "core", "embed.backend=openai") from None
        self.name = settings.name.strip()
        self.max_tokens = settings.max_input_tokens
        self._settings = settings
        self._client = OpenAI(
            base_url=settings.base_url,
            api_key=settings.api_key.get_secret_value(),
            timeout=settings.timeout,
            max_retries=settings.retries,
        )
        self._tokenizer = _tokenizer(Path(settings.tokenizer) if settings.tokenizer else None)
        self._dim = 0
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        """The vectors' dimension, asked of the server once (it embeds one short text)."""
        with self._lock:
            if not self._dim:
                self._dim = len(self._request(["dimension"])[0])
            return self._dim

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Return one unit-length vector per text, in order, ``embed.batch_size`` texts per request."""
        size = self._settings.batch_size
        out: list[list[float]] = []
        for i in range(0, len(texts), size):
            out += self._request(texts[i : i + size])
        if out and self._dim and len(out[0]) != self._dim:
            raise ModelServerError(
                f"The embedding server at {self._settings.base_url} now returns {len(out[0])}-d vectors, "
                f"not {self._dim}-d: it serves another model. Point RAG_EMBED__BASE_URL back at {self.name}."
            )
        return out

    def _request(self, batch: list[str]) -> list[list[float]]:
        """Send one batch; turn the client's errors into one line that names the server and the fix."""
        from openai import APIConnectionError

        s = self._settings
        try:
            reply = self._client.embeddings.create(input=batch, model=self.name, encoding_format="float")
        except APIConnectionError as exc:  # refused, reset or timed out, after the client's retries
            raise ModelServerError(
                f"The embedding server at {s.base_url} is not reachable ({type(exc).__name__}, {s.retries} "
                "retries). Start it (e.g. llama-server --embedding -m MODEL.gguf --port 8081) or fix "
                "RAG_EMBED__BASE_URL."
            ) from None
        except Exception as exc:  # openai's APIStatusError and others: the server answered, badly
            raise ModelServerError(
                f"The embedding server at {s.base_url} failed ({type(exc).__name__}: "
                f"{' '.join(str(exc).split())[:200]}). Check that it serves an embedding model (llama.cpp: "
                "--embedding) named RAG_EMBED__NAME, and that RAG_EMBED__MAX_INPUT_TOKENS fits its input."
            ) from None
        rows = sorted(reply.data, key=lambda d: d.index)
        if len(rows) != len(batch):
            raise ModelServerError(
                f"The embedding server at {s.base_url} returned {len(rows)} vectors for {len(batch)} "
                "texts. Check that it serves an embedding model (llama.cpp: --embedding)."
            )
        return [_unit([float(x) for x in row.embedding]) for row in rows]

    def tokenize(self, text: str) -> list[int]:
        """Return the local tokenizer's ids for ``text`` (no special tokens, no truncation)."""
        return list(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def count_tokens(self, text: str) -> int:
        """Return the tokens counted for ``text``, plus two for a model's start and end markers."""
        return len(self.tokenize(text)) + 2


def _unit(vector: list[float]) -> list[float]:
    """Scale a vector to length 1 (servers differ on whether they normalise)."""
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm else vector


def _tokenizer(path: Path | None) -> Any:
    """Load a ``tokenizer.json`` (default: the bundled all-MiniLM-L6-v2's) without truncation or padding."""
    from tokenizers import Tokenizer

    file = path.expanduser() if path else embedder_path() / "tokenizer.json"
    if file.is_dir():
        file = file / "tokenizer.json"
    if not file.is_file():
        raise ModelFileError(
            f"No tokenizer at {file}. Set RAG_EMBED__TOKENIZER to a tokenizer.json (or its folder), or "
            "unset it to use the bundled one."
        )
    tokenizer = Tokenizer.from_file(str(file))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer
