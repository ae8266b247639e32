"""BM25 over the same chunk ids as the vector store (bm25s, persisted beside the Chroma index)."""

from __future__ import annotations

import json
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Any

from .types import Chunk


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

    def save(self, folder: Path) -> None:
        """Write the index and its ids to ``folder``, replacing what was there."""
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.ids:
            self._retriever.save(str(tmp), show_progress=False)
        (tmp / "ids.json").write_text(json.dumps(self.ids))
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        """Load an index saved by ``save``; a missing folder gives an empty index."""
        import bm25s

        ids_file = folder / "ids.json"
        if not ids_file.exists():
            return cls(None, [])
        ids = json.loads(ids_file.read_text())
        retriever = bm25s.BM25.load(str(folder), show_progress=False) if ids else None
        return cls(retriever, ids)

    def query(self, text: str, n: int) -> list[tuple[str, float]]:
        """Return up to ``n`` (chunk id, BM25 score) pairs with a positive score, best first."""
        query_terms = terms(text)
        if not self.ids or not query_terms or self._retriever is None:
            return []
        rows, scores = self._retriever.retrieve([query_terms], k=min(n, len(self.ids)), show_progress=False)
        return [(self.ids[int(r)], float(s)) for r, s in zip(rows[0], scores[0], strict=True) if s > 0]
