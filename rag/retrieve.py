"""Hybrid retrieval: dense (vector store) and BM25 candidates fused by reciprocal rank fusion."""

from __future__ import annotations

from collections.abc import Sequence

from .embed import Embedder
from .lexical import BM25Index
from .settings import RetrieveSettings
from .store import VectorStore
from .types import Chunk, Passage


def rrf(rankings: Sequence[Sequence[str]], k: int = 60) -> list[tuple[str, float]]:
    """Fuse ranked id lists by reciprocal rank fusion: score(id) = sum 1 / (k + rank).

    LlamaIndex's QueryFusionRetriever does the same over its NodeWithScore objects; these ten lines
    work directly on our ids, so chunks never pass through LlamaIndex node types at query time.
    """
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


class Retriever:
    """Finds the passages for a question among the committed chunks."""

    def __init__(
        self,
        embedder: Embedder,
        store: VectorStore,
        bm25: BM25Index,
        settings: RetrieveSettings,
        committed: frozenset[str] | None = None,
    ) -> None:
        """Combine an embedder, a vector store and a BM25 index over the same chunk ids.

        Args:
            embedder: Embeds the question.
            store: The vector store.
            bm25: The BM25 version of the same commit.
            settings: top-k, candidates, hybrid, RRF constant.
            committed: The chunk ids of the last commit; vectors outside it (an ingest still running,
                or one that crashed) are never returned. None trusts the store.

        """
        self.embedder, self.store, self.bm25, self.settings = embedder, store, bm25, settings
        self.committed = committed

    def _dense(self, question: str, n: int) -> list[tuple[Chunk, float]]:
        """Nearest committed chunks; asks for more when uncommitted vectors crowd the top."""
        vector = self.embedder.embed([question])[0]
        found = self.store.query(vector, n)
        if self.committed is None:
            return found
        kept = [(c, s) for c, s in found if c.id in self.committed]
        if len(kept) < min(n, len(self.committed)) and len(found) == n:
            wider = self.store.query(vector, n * 4)
            kept = [(c, s) for c, s in wider if c.id in self.committed][:n]
        return kept

    def retrieve(self, question: str, top_k: int | None = None) -> list[Passage]:
        """Return the top passages for ``question``, best first, with dense and BM25 scores."""
        cfg = self.settings
        k = top_k or cfg.top_k
        candidates = max(cfg.candidates, k)  # fewer candidates than top_k would shrink the answer
        dense = self._dense(question, candidates)
        dense_score = {c.id: s for c, s in dense}
        chunks: dict[str, Chunk] = {c.id: c for c, _ in dense}
        if not cfg.hybrid:
            return [Passage(c, s, rank, "dense", dense_score=s) for rank, (c, s) in enumerate(dense[:k], 1)]
        lexical = self.bm25.query(question, candidates)
        lexical_score = dict(lexical)
        fused = rrf([[c.id for c, _ in dense], [i for i, _ in lexical]], cfg.rrf_k)[:k]
        missing = [i for i, _ in fused if i not in chunks]
        chunks.update({c.id: c for c in self.store.get(missing)})
        return [
            Passage(
                chunks[i],
                score,
                rank,
                "fused",
                dense_score=dense_score.get(i),
                lexical_score=lexical_score.get(i),
            )
            for rank, (i, score) in enumerate((f for f in fused if f[0] in chunks), 1)
        ]
