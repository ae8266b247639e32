"""BM25 over the same chunk ids as the vector store (bm25s, persisted beside the Chroma index)."""

from __future__ import annotations

import json
import shutil
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag.core.text import _stemmer, terms
from rag.core.types import Chunk

LEGACY_POINTER = "bm25.json"  # indexes built before the manifest named the version kept it here


class BM25Index:
    """A bm25s index whose rows map to chunk ids."""

    def __init__(self, retriever: Any, ids: list[str]) -> None:
        """Wrap a built or loaded bm25s retriever and the chunk ids of its rows."""
        self._retriever = retriever
        self.ids = ids
        self.days: Any = None  # numpy array of each row's YYYYMMDD (0 = undated), set by the reader
        self.docs: Any = None  # numpy array of each row's document id, set by the reader

    def set_rows(self, day_of: dict[str, int], doc_of: dict[str, str]) -> None:
        """Record each row's document and its date, so queries can leave out rows out of scope or late."""
        import numpy as np

        if self.days is None or len(self.days) != len(self.ids):
            self.days = np.array([day_of.get(i, 0) for i in self.ids], dtype=np.int64)
            self.docs = np.array([doc_of.get(i, "") for i in self.ids], dtype=object)

    @classmethod
    def build(cls, chunks: list[Chunk]) -> BM25Index:
        """Index the chunks' texts."""
        import bm25s

        retriever = bm25s.BM25()
        if chunks:
            tokens = bm25s.tokenize(
                [c.text for c in chunks], stopwords="en", stemmer=_stemmer(), show_progress=False
            )
            retriever.index(tokens, show_progress=False)
        return cls(retriever, [c.id for c in chunks])

    def save(self, index_dir: Path) -> str:
        """Write this index as a new version folder and return its name (``bm25.<id>``).

        Versions are never changed once written: the manifest names the one that matches its chunks,
        so readers (UI threads answering during an ingest) see the old or the new index, never a
        half-written one.
        """
        version = f"bm25.{uuid.uuid4().hex[:12]}"
        folder = index_dir / version
        folder.mkdir(parents=True)
        if self.ids:
            self._retriever.save(str(folder), show_progress=False)
        (folder / "ids.json").write_text(json.dumps(self.ids))
        return version

    @classmethod
    def load(cls, index_dir: Path, version: str) -> BM25Index:
        """Load a saved version (cached in memory: versions never change); empty when none is named."""
        if not version:
            version = _legacy_version(index_dir)
        if not version:
            return cls(None, [])
        return _load_version(index_dir / version)

    def idf(self, term: str) -> float:
        """Return log(N / df) of an analysed term in this index (rare terms say most; unseen: log N)."""
        import math

        if self._retriever is None or not self.ids:
            return 1.0
        scores, vocab = self._retriever.scores, self._retriever.vocab_dict
        n = max(1, int(scores["num_docs"]))
        if term not in vocab:
            return math.log(n)
        ptr = scores["indptr"]
        return math.log(n / max(1, int(ptr[vocab[term] + 1] - ptr[vocab[term]])))

    def share_after(self, max_day: int) -> float:
        """Return the share of rows dated after ``max_day`` (1.0 when the rows' days are unknown)."""
        if self.days is None or not len(self.ids):
            return 1.0
        return float((self.days > max_day).mean())

    def query(
        self, text: str, n: int, max_day: int | None = None, docs: frozenset[str] | None = None
    ) -> list[tuple[str, float]]:
        """Return up to ``n`` (chunk id, BM25 score) pairs with a positive score, best first.

        With ``max_day``, rows dated later are masked out inside bm25s, and with ``docs`` rows of other
        documents (a pre-filter, not a cut of the top ``n``); this needs ``set_rows`` first.
        """
        import numpy as np

        query_terms = terms(text)
        if not self.ids or not query_terms or self._retriever is None:
            return []
        keep = np.ones(len(self.ids), dtype=bool)
        if max_day is not None and self.days is not None:
            keep &= self.days <= max_day
        if docs is not None:
            if self.docs is None:
                raise ValueError("BM25Index.query(docs=...) needs set_rows() first")
            keep &= np.isin(self.docs, list(docs))
        mask = None if keep.all() else keep.astype("float32")
        rows, scores = self._retriever.retrieve(
            [query_terms], k=min(n, len(self.ids)), show_progress=False, weight_mask=mask
        )
        return [(self.ids[int(r)], float(s)) for r, s in zip(rows[0], scores[0], strict=True) if s > 0]


@lru_cache(maxsize=8)
def _load_version(folder: Path) -> BM25Index:
    """Load one saved version; versions never change once written, so caching by path is safe."""
    import bm25s

    ids = json.loads((folder / "ids.json").read_text())
    retriever = bm25s.BM25.load(str(folder), show_progress=False) if ids else None
    return BM25Index(retriever, ids)


def _legacy_version(index_dir: Path) -> str:
    """Return the version an older index's pointer file names, or ""."""
    try:
        return str(json.loads((index_dir / LEGACY_POINTER).read_text())["version"])
    except (FileNotFoundError, ValueError, KeyError):
        return ""


def remove_versions(index_dir: Path, keep: str) -> None:
    """Delete every BM25 version folder but ``keep`` (and the legacy pointer file)."""
    for old in index_dir.glob("bm25.*"):
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)


def saved_ids(index_dir: Path, version: str) -> list[str] | None:
    """Return the chunk ids of a saved version (an older index's if ``version`` is ""); None if unreadable."""
    version = version or _legacy_version(index_dir)
    try:
        ids = json.loads((index_dir / version / "ids.json").read_text()) if version else None
    except (OSError, ValueError):
        return None
    return [str(i) for i in ids] if isinstance(ids, list) else None


def stale_versions(index_dir: Path, keep: str) -> list[Path]:
    """Return the BM25 version folders other than ``keep`` (an older index's version and pointer if "")."""
    kept = {keep} if keep else {_legacy_version(index_dir), LEGACY_POINTER}
    return sorted(p for p in index_dir.glob("bm25.*") if p.name not in kept)
