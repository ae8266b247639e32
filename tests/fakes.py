"""Fakes for fast unit tests of logic: a scripted chat model, a deterministic embedder, a memory store.

Like simonw/llm's MockModel: they let the logic around a model or a store be tested in milliseconds.
Every feature they stand in for is also tested with the real piece (SmolLM2, the bundled embedder,
Chroma on disk and `chroma run`) in the other test files.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator, Sequence

from rag.models.chat import Delta


class ScriptedModel:
    """A chat model that replies with queued texts, word by word."""

    name = "scripted"

    def __init__(self, *replies: str, token_prob: float | None = None) -> None:
        self.replies = list(replies)
        self.prompts: list[list[dict[str, str]]] = []
        self.token_prob = token_prob

    def enqueue(self, *replies: str) -> None:
        self.replies.extend(replies)

    def stream(self, messages: list[dict[str, str]]) -> Iterator[Delta]:
        self.prompts.append(messages)
        reply = self.replies.pop(0) if self.replies else ""
        words = reply.split(" ")
        logprob = () if self.token_prob is None else (math.log(self.token_prob),)
        for i, word in enumerate(words):
            yield Delta(word if i == 0 else f" {word}", logprobs=logprob)
        yield Delta(
            "", prompt_tokens=sum(len(m["content"].split()) for m in messages), completion_tokens=len(words)
        )


class FakeEmbedder:
    """Deterministic unit vectors from hashed words: texts sharing words are similar, nothing loads."""

    name = "fake-embedder"
    max_tokens = 256

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        return [self._vector(t) for t in texts]

    def tokenize(self, text: str) -> list[int]:
        return [len(w) for w in re.findall(r"\w+|[^\w\s]", text)]

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text)) + 2

    def _vector(self, text: str) -> list[float]:
        v = [0.0] * self.dim
        for word in re.findall(r"\w+", text.lower()):
            v[int(hashlib.blake2b(word.encode(), digest_size=4).hexdigest(), 16) % self.dim] += 1.0
        norm = math.sqrt(sum(x * x for x in v)) or 1.0
        return [x / norm for x in v]
