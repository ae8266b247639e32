"""Hybrid retrieval: dense, BM25 and date rankings fused by reciprocal rank, without near-duplicates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from rag.core.settings import RetrieveSettings
from rag.core.text import day_number, terms
from rag.core.types import Chunk, ChunkFilter, Passage, Query, Source
from rag.index.bm25 import BM25Index
from rag.index.vector_store import VectorStore
from rag.models.embedder import Embedder


def rrf(
    rankings: Sequence[Sequence[str | Sequence[str]]], k: int = 60, weights: Sequence[float] | None = None
) -> list[tuple[str, float]]:
    """Fuse ranked id lists by reciprocal rank fusion: score(id) = sum weight / (k + rank).

    An entry of a ranking may be a group of ids that tie: they share the group's rank. LlamaIndex's
    QueryFusionRetriever fuses NodeWithScore objects without ties; these lines work directly on our
    ids, so chunks never pass through LlamaIndex node types at query time.
    """
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        rank = 1
        for entry in ranking:
            group = [entry] if isinstance(entry, str) else list(entry)
            for item in group:
                scores[item] = scores.get(item, 0.0) + weight / (k + rank)
            rank += len(group)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def date_ranking(chunks: Sequence[Chunk], query: Query) -> list[list[str]]:
    """Rank chunks by closeness to the question's time, as groups of ties (one group per distance).

    A chunk inside a window the question names ranks first; otherwise newer (closer to the as-of day)
    ranks higher. Chunks of the same date tie. Undated chunks share the middle group, so the prior
    neither favours nor buries them.
    """
    as_of = _day(query.as_of)
    windows = [(_day(w.start), _day(w.end)) for w in query.windows]

    def distance(chunk: Chunk) -> int:
        day = _day(chunk.date)
        if windows:
            return min(max((start - day).days, (day - end).days, 0) for start, end in windows)
        return abs((as_of - day).days)

    groups: dict[int, list[str]] = {}
    for c in chunks:
        if _valid(c.date):
            groups.setdefault(distance(c), []).append(c.id)
    ordered = [sorted(groups[d]) for d in sorted(groups)]
    undated = sorted(c.id for c in chunks if not _valid(c.date))
    middle = len(ordered) // 2
    return [*ordered[:middle], *([undated] if undated else []), *ordered[middle:]]


def _valid(iso: str | None) -> bool:
    try:
        _day(iso)
    except ValueError:
        return False
    return bool(iso)


def _day(iso: str | None) -> date:
    return date.fromisoformat(str(iso)[:10])


def diversify(ranked: Sequence[str], chunks: Mapping[str, Chunk], k: int, max_overlap: float) -> list[str]:
    """Take the top ``k`` ids, skipping near-duplicates (term-set Jaccard above ``max_overlap``).

    News pages repeat each other (syndication, live blogs): four copies of one paragraph would fill
    the model's passages with one fact. ``max_overlap`` >= 1 keeps everything.
    """
    chosen: list[str] = []
    seen: list[set[str]] = []
    for cid in ranked:
        words = set(terms(chunks[cid].text)) if max_overlap < 1 else set()
        if any(len(words & s) / max(1, len(words | s)) > max_overlap for s in seen):
            continue
        chosen.append(cid)
        seen.append(words)
        if len(chosen) == k:
            break
    return chosen


# The largest share of chunks dated after the as-of day for which the date filter runs after an
# unfiltered search (asking for up to 1 / (1 - share) * 1.5 times the candidates) instead of inside Chroma.
MAX_POST_FILTER = 0.5


class Retriever:
    """Finds the passages for a question among the committed chunks."""

    def __init__(
        self,
        embedder: Embedder,
        store: VectorStore,
        bm25: BM25Index,
        settings: RetrieveSettings,
        committed: frozenset[str] | None = None,
        newest_day: int = 0,
    ) -> None:
        """Combine an embedder, a vector store and a BM25 index over the same chunk ids.

        Args:
            embedder: Embeds the question.
            store: The vector store.
            bm25: The BM25 version of the same commit.
            settings: top-k, candidates, hybrid, fusion and date settings.
            committed: The chunk ids of the last commit; vectors outside it (an ingest still running,
                or one that crashed) are never returned. None trusts the store.
            newest_day: The latest document date in the index (YYYYMMDD): no date filter is needed
                for an as-of day on or after it.

        """
        self.embedder, self.store, self.bm25, self.settings = embedder, store, bm25, settings
        self.committed, self.newest_day = committed, newest_day

    def _dense(
        self, question: str, n: int, max_day: int | None, within: ChunkFilter | None
    ) -> list[tuple[Chunk, float]]:
        """Nearest committed chunks; asks for more when uncommitted vectors crowd the top."""
        vector = self.embedder.embed([question])[0]
        found = self._nearest(vector, n, max_day, within)
        if self.committed is None:
            return found
        kept = [(c, s) for c, s in found if c.id in self.committed]
        if len(kept) < min(n, len(self.committed)) and len(found) == n:
            wider = self._nearest(vector, n * 4, max_day, within)
            kept = [(c, s) for c, s in wider if c.id in self.committed][:n]
        return kept

    def _nearest(
        self, vector: Sequence[float], n: int, max_day: int | None, within: ChunkFilter | None
    ) -> list[tuple[Chunk, float]]:
        """Return the ``n`` nearest chunks dated on or before ``max_day``, post-filtered when that is exact.

        Chroma's ``where`` on the day costs ~0.4 s at 100k chunks (it lists every matching row first,
        measured by bench/bench_scale.py), an unfiltered search ~15 ms. When few chunks are dated
        later (the usual case: a question about the recent past), the nearest ``wide`` chunks without
        the filter, minus the later ones, hold the nearest ``n`` allowed ones whenever at least ``n``
        remain; otherwise (or with a scope) the filter runs inside Chroma as before.
        """
        later = self.bm25.share_after(max_day) if max_day and within is None else 1.0
        if not max_day or later > MAX_POST_FILTER:
            return self.store.query(vector, n, max_day, within)
        wide = int(n / (1.0 - later) * 1.5) + 10
        found = self.store.query(vector, wide, None, None)
        kept = [(c, s) for c, s in found if day_number(c.date) <= max_day][:n]
        if len(kept) == n or len(found) < wide:  # enough, or the whole index was searched
            return kept
        return self.store.query(vector, n, max_day, within)

    def retrieve(
        self, query: Query | str, top_k: int | None = None, within: ChunkFilter | None = None
    ) -> list[Passage]:
        """Return the top passages for a question, best first, with dense and BM25 scores.

        Documents dated after the query's as-of day are never returned (undated ones always may be);
        with ``within`` (a resolved scope), only chunks it allows: both searches filter inside.
        """
        q = query if isinstance(query, Query) else Query(query, "")
        cfg = self.settings
        k = top_k or cfg.top_k
        candidates = max(cfg.candidates, k)  # fewer candidates than top_k would shrink the answer
        as_of = day_number(q.as_of)
        max_day = as_of if as_of and as_of < self.newest_day else None
        dense = self._dense(q.text, candidates, max_day, within)
        dense_score = {c.id: s for c, s in dense}
        chunks: dict[str, Chunk] = {c.id: c for c, _ in dense}
        docs = within.docs if within else None
        lexical = self.bm25.query(q.text, candidates, max_day, docs) if cfg.hybrid else []
        lexical_score = dict(lexical)
        missing = [i for i, _ in lexical if i not in chunks]
        chunks.update({c.id: c for c in self.store.get(missing)})
        if as_of:  # an index whose metadata predates date filters: filter here (the next ingest upgrades it)
            chunks = {i: c for i, c in chunks.items() if day_number(c.date) <= as_of}
        rankings: list[list[str] | list[list[str]]] = [
            [c.id for c, _ in dense if c.id in chunks],
            [i for i, _ in lexical if i in chunks],
        ]
        weights = [1.0, 1.0]
        if cfg.date_weight > 0 and q.as_of:
            rankings.append(date_ranking(list(chunks.values()), q))
            weights.append(cfg.date_weight)
        fused = dict(rrf(rankings, cfg.rrf_k, weights))
        ranked = sorted(fused, key=lambda i: (-fused[i], i))
        top = diversify(ranked, chunks, k, cfg.max_overlap)
        source: Source = "fused" if cfg.hybrid else "dense"
        return [
            Passage(chunks[i], fused[i], rank, source, dense_score.get(i), lexical_score.get(i))
            for rank, i in enumerate(top, 1)
        ]
