"""BM25 over the same chunk ids as the vector store (bm25s, persisted beside the Chroma index)."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

from .types import Chunk

POINTER = "bm25.json"  # names the current version folder, bm25.<id>/


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def terms(text: str) -> list[str]:
    """Lower-case, stop-word-free, stemmed terms of ``text`` (the same analysis BM25 uses)."""
    import bm25s

    tokens = bm25s.tokenize([text], stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)
    return list(tokens[0])


class BM25Index:
    """A bm25s index whose rows map to chunk ids."""

    def __init__(self, retriever: Any, ids: list[str]) -> None:
        """Wrap a built or loaded bm25s retriever and the chunk ids of its rows."""
        self._retriever = retriever
        self.ids = ids

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

    def save(self, index_dir: Path) -> None:
        """Write a new version beside the old one, then switch the pointer file atomically.

        Readers (UI threads answering while an upload is ingested) see the old or the new index,
        never a half-written one.
        """
        version = f"bm25.{uuid.uuid4().hex[:12]}"
        folder = index_dir / version
        folder.mkdir(parents=True)
        if self.ids:
            self._retriever.save(str(folder), show_progress=False)
        (folder / "ids.json").write_text(json.dumps(self.ids))
        pointer = index_dir / POINTER
        tmp = pointer.with_suffix(".tmp")
        tmp.write_text(json.dumps({"version": version}))
        os.replace(tmp, pointer)
        for old in index_dir.glob("bm25.*"):
            if old.is_dir() and old.name != version:
                shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, index_dir: Path) -> BM25Index:
        """Load the current version (cached in memory until the pointer changes); empty if none."""
        pointer = index_dir / POINTER
        if not pointer.exists():
            return cls(None, [])
        version = json.loads(pointer.read_text())["version"]
        return _load_version(index_dir / version)

    def query(self, text: str, n: int) -> list[tuple[str, float]]:
        """Return up to ``n`` (chunk id, BM25 score) pairs with a positive score, best first."""
        query_terms = terms(text)
        if not self.ids or not query_terms or self._retriever is None:
            return []
        rows, scores = self._retriever.retrieve([query_terms], k=min(n, len(self.ids)), show_progress=False)
        return [(self.ids[int(r)], float(s)) for r, s in zip(rows[0], scores[0], strict=True) if s > 0]


@lru_cache(maxsize=8)
def _load_version(folder: Path) -> BM25Index:
    """Load one saved version; versions never change once written, so caching by path is safe."""
    import bm25s

    ids = json.loads((folder / "ids.json").read_text())
    retriever = bm25s.BM25.load(str(folder), show_progress=False) if ids else None
    return BM25Index(retriever, ids)
