"""The VectorStore protocol and Chroma (embedded on disk, or a `chroma run` server) behind it."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from rag.core.errors import StoreError
from rag.core.settings import StoreSettings
from rag.core.types import Chunk, ChunkFilter
from rag.index.chroma_rows import chunk_from, metadata_of, where_filter

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
T = TypeVar("T")
_MAX_BATCH = 5000  # Chroma 1.5 refuses batches above 5,461 records
_ID_PAGE = 20_000  # listing ids only: larger pages are faster; metadata pages fail above 32,000 rows


class VectorStore(Protocol):
    """Stores chunk vectors by id and finds the nearest ones."""

    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        """Insert or replace chunks with their vectors."""
        ...

    def update_spans(self, chunks: Sequence[Chunk]) -> None:
        """Update the metadata (spans, title, date) of chunks already stored."""
        ...

    def delete(self, ids: Sequence[str]) -> None:
        """Remove chunks by id."""
        ...

    def query(
        self, vector: Sequence[float], n: int, max_day: int | None = None, within: ChunkFilter | None = None
    ) -> list[tuple[Chunk, float]]:
        """Return up to ``n`` chunks with cosine similarity, best first, among those filters allow.

        None is dated after ``max_day``; ``within`` (a resolved scope) narrows the chunks further.
        """
        ...

    def get(self, ids: Sequence[str]) -> list[Chunk]:
        """Return the stored chunks with these ids, in the given order (unknown ids are left out)."""
        ...

    def all_chunks(self) -> list[Chunk]:
        """Return every stored chunk."""
        ...

    def ids(self) -> list[str]:
        """Return the ids of every stored chunk (for consistency checks)."""
        ...

    def count(self) -> int:
        """Return the number of stored chunks."""
        ...

    def clear(self) -> None:
        """Remove every chunk (for a rebuild)."""
        ...

    def close(self) -> None:
        """Release the connection; the object is unusable afterwards."""
        ...


# HNSW search breadth for new collections (Chroma's default is 100). bench/bench_scale.py at 100k
# chunks: recall@10 against exact search 0.95 at 100, 0.98 at 200, with the same p50 (58-62 ms hybrid).
HNSW_EF_SEARCH = 200


def _guarded(method: Callable[..., T]) -> Callable[..., T]:
    """Turn Chroma's own exceptions (server gone, disk full, ...) into a StoreError with the fix."""

    @functools.wraps(method)
    def call(self: ChromaStore, *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(
                f"The vector store failed during {method.__name__}: {type(exc).__name__}: {exc}. {self.fix}"
            ) from exc

    return call


class ChromaStore:
    """Chroma collection with our own embeddings (its default embedder would download a model)."""

    def __init__(
        self, settings: StoreSettings, index_dir: Path, embedder_name: str, dim: int, client: Any = None
    ):
        """Open (or create) the collection in ``index_dir/chroma``, on a server, or in ``client``."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        self.fix = (
            f"Check that the Chroma server at {settings.host}:{settings.port} is running "
            f"(`chroma run --path DIR --port {settings.port}`)."
            if settings.backend == "server"
            else f"Check the folder {index_dir / 'chroma'} (disk space, permissions), or rebuild: "
            "rag ingest --rebuild PATH..."
        )
        try:
            if client is not None:
                pass  # given by the caller (tests use chromadb.EphemeralClient)
            elif settings.backend == "server":
                client = chromadb.HttpClient(host=settings.host, port=settings.port, settings=chroma_settings)
            else:
                client = chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=chroma_settings)
            self._client = client
            self._create = dict(
                name=settings.collection,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine", "ef_search": HNSW_EF_SEARCH}},
                metadata={"embedder": embedder_name, "dim": dim},
            )
            self._col = client.get_or_create_collection(**self._create)
        except Exception as exc:  # chromadb raises many types (ValueError, httpx errors, ...)
            where = (
                f"the Chroma server at {settings.host}:{settings.port} (start it with "
                f"`chroma run --path DIR --port {settings.port}`)"
                if settings.backend == "server"
                else f"{index_dir / 'chroma'}"
            )
            raise StoreError(f"Cannot open the vector store at {where}: {exc}") from exc

    @_guarded
    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        """Insert or replace chunks with their vectors, in batches Chroma accepts.

        An id already stored is deleted first, then added: Chroma's own upsert of existing ids
        leaves some records unreachable in its HNSW graph (chroma#7758), and its add keeps the
        old record.
        """
        for i in range(0, len(chunks), _MAX_BATCH):
            part = chunks[i : i + _MAX_BATCH]
            ids = [c.id for c in part]
            existing = self._col.get(ids=ids, include=[])["ids"]
            if existing:
                self._col.delete(ids=existing)
            self._col.add(
                ids=ids,
                embeddings=[list(v) for v in vectors[i : i + _MAX_BATCH]],
                documents=[c.text for c in part],
                metadatas=[metadata_of(c) for c in part],
            )

    @_guarded
    def update_spans(self, chunks: Sequence[Chunk]) -> None:
        """Update metadata only; the text (and so the vector) is unchanged."""
        for i in range(0, len(chunks), _MAX_BATCH):
            part = chunks[i : i + _MAX_BATCH]
            self._col.update(ids=[c.id for c in part], metadatas=[metadata_of(c) for c in part])

    @_guarded
    def delete(self, ids: Sequence[str]) -> None:
        """Remove chunks by id."""
        for i in range(0, len(ids), _MAX_BATCH):
            self._col.delete(ids=list(ids[i : i + _MAX_BATCH]))

    @_guarded
    def query(
        self, vector: Sequence[float], n: int, max_day: int | None = None, within: ChunkFilter | None = None
    ) -> list[tuple[Chunk, float]]:
        """Return up to ``n`` chunks with cosine similarity, best first, none dated after ``max_day``.

        The date and scope filters run inside Chroma (a pre-filter: the nearest matching chunks come
        back, not the matching part of the nearest ``n``); undated chunks have day 0 and pass
        ``max_day``.
        """
        total = self.count()
        if n <= 0 or total == 0:
            return []
        res = self._col.query(
            query_embeddings=[list(vector)],
            n_results=min(n, total),
            include=["documents", "metadatas", "distances"],
            where=where_filter(max_day, within),
        )
        ids, docs = res["ids"][0], (res["documents"] or [[]])[0]
        metas, dists = (res["metadatas"] or [[]])[0], (res["distances"] or [[]])[0]
        # A row deleted by another process can still come back from a stale client, with no text
        # or metadata: skip it (the caller's committed-id filter would drop it anyway).
        return [
            (chunk_from(i, d, dict(m)), 1.0 - float(dist))
            for i, d, m, dist in zip(ids, docs, metas, dists, strict=True)
            if d is not None and m is not None
        ]

    @_guarded
    def get(self, ids: Sequence[str]) -> list[Chunk]:
        """Return the stored chunks with these ids, in the given order (unknown ids are left out)."""
        found: dict[str, Chunk] = {}
        for i in range(0, len(ids), _MAX_BATCH):
            res = self._col.get(ids=list(ids[i : i + _MAX_BATCH]), include=["documents", "metadatas"])
            docs, metas = res["documents"] or [], res["metadatas"] or []
            found.update(
                (k, chunk_from(k, d, dict(m))) for k, d, m in zip(res["ids"], docs, metas, strict=True)
            )
        return [found[i] for i in ids if i in found]

    @_guarded
    def all_chunks(self) -> list[Chunk]:
        """Return every stored chunk, paging through the collection."""
        out: list[Chunk] = []
        total = self.count()
        for offset in range(0, total, _MAX_BATCH):
            res = self._col.get(include=["documents", "metadatas"], limit=_MAX_BATCH, offset=offset)
            docs, metas = res["documents"] or [], res["metadatas"] or []
            out.extend(chunk_from(i, d, dict(m)) for i, d, m in zip(res["ids"], docs, metas, strict=True))
        return out

    @_guarded
    def ids(self) -> list[str]:
        """Return every stored id, paging through the collection."""
        out: list[str] = []
        for offset in range(0, self.count(), _ID_PAGE):
            out.extend(self._col.get(include=[], limit=_ID_PAGE, offset=offset)["ids"])
        return out

    @_guarded
    def count(self) -> int:
        """Return the number of stored chunks."""
        return int(self._col.count())

    @_guarded
    def clear(self) -> None:
        """Drop and recreate the collection (new embedder metadata included)."""
        self._client.delete_collection(self._create["name"])
        self._col = self._client.get_or_create_collection(**self._create)

    def close(self) -> None:
        """Release this client (embedded Chroma stops once every client of the folder is closed)."""
        self._client.close()


def make_store(settings: StoreSettings, index_dir: Path, embedder_name: str, dim: int) -> VectorStore:
    """Open the vector store the settings choose."""
    return ChromaStore(settings, index_dir, embedder_name, dim)
