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
from dataclasses import replace
from typing import Any

from rag.core.types import Chunk, ChunkFilter
from rag.index.chroma_rows import metadata_of, where_filter
from rag.models.chat_protocol import Delta


class ScriptedModel:
    """A chat model that replies with queued texts, word by word."""

    name = "scripted"

    def __init__(self, *replies: str, token_prob: float | None = None, yes: float | None = None) -> None:
        self.replies = list(replies)
        self.prompts: list[list[dict[str, str]]] = []
        self.token_prob = token_prob
        self.yes = yes  # what yes_probability() answers
        self.self_checks: list[list[dict[str, str]]] = []

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

    def yes_probability(self, messages: list[dict[str, str]]) -> float | None:
        self.self_checks.append(messages)
        return self.yes


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


class MemoryStore:
    """A VectorStore in a dict: exact cosine search, Chroma's ``where`` filters evaluated in Python.

    It reads the same ``where_filter`` Chroma gets, so a filter bug shows up here too.
    """

    def __init__(self) -> None:
        self.rows: dict[str, tuple[Chunk, list[float]]] = {}
        self.closed = False

    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        for chunk, vector in zip(chunks, vectors, strict=True):
            self.rows[chunk.id] = (chunk, list(vector))

    def update_spans(self, chunks: Sequence[Chunk]) -> None:
        for chunk in chunks:
            if chunk.id in self.rows:
                old, vector = self.rows[chunk.id]
                self.rows[chunk.id] = (replace(chunk, text=old.text), vector)

    def delete(self, ids: Sequence[str]) -> None:
        for i in ids:
            self.rows.pop(i, None)

    def query(
        self, vector: Sequence[float], n: int, max_day: int | None = None, within: ChunkFilter | None = None
    ) -> list[tuple[Chunk, float]]:
        where = where_filter(max_day, within)
        hits = [
            (chunk, _cosine(vector, v))
            for chunk, v in self.rows.values()
            if _matches(metadata_of(chunk), where)
        ]
        return sorted(hits, key=lambda h: -h[1])[: max(n, 0)]

    def get(self, ids: Sequence[str]) -> list[Chunk]:
        return [self.rows[i][0] for i in ids if i in self.rows]

    def all_chunks(self) -> list[Chunk]:
        return [c for c, _ in self.rows.values()]

    def ids(self) -> list[str]:
        return list(self.rows)

    def count(self) -> int:
        return len(self.rows)

    def clear(self) -> None:
        self.rows.clear()

    def close(self) -> None:
        self.closed = True


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(x * x for x in b))
    return sum(x * y for x, y in zip(a, b, strict=True)) / ((na * nb) or 1.0)


def _matches(meta: dict[str, Any], where: dict[str, Any] | None) -> bool:
    """Evaluate the part of Chroma's ``where`` language rag uses: $and, $lte, $gte, $in."""
    if not where:
        return True
    if "$and" in where:
        return all(_matches(meta, w) for w in where["$and"])
    ((key, cond),) = where.items()
    ((op, value),) = cond.items()
    tests = {"$lte": lambda x: x <= value, "$gte": lambda x: x >= value, "$in": lambda x: x in value}
    return bool(tests[op](meta[key]))
