"""Chroma behind the VectorStore protocol: embedded on disk, or a `chroma run` server."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.core.errors import CollectionMismatchError, StoreDamagedError, StoreError
from rag.core.settings import StoreSettings
from rag.core.types import Chunk, ChunkFilter
from rag.index.access import disk_full
from rag.index.chroma_open import cause, guarded, is_panic, open_persistent, remove_copy
from rag.index.chroma_rows import chunk_from, metadata_of, where_filter

_MAX_BATCH = 5000  # Chroma 1.5 refuses batches above 5,461 records
_ID_PAGE = 20_000  # listing ids only: larger pages are faster; metadata pages fail above 32,000 rows

# HNSW search breadth for new collections (Chroma's default is 100). bench/bench_scale.py at 100k
# chunks: recall@10 against exact search 0.95 at 100, 0.98 at 200, with the same p50 (58-62 ms hybrid).
HNSW_EF_SEARCH = 200


def _fix(store: ChromaStore) -> str:
    """Return the fix for a failed call: a full disk when it is one (Chroma does not say), else the usual."""
    full = disk_full(store.folder) if store.folder is not None else ""
    if full:
        return f"{full}: free some space, then run it again (rag check --repair cleans up what was left)."
    return store.fix


class ChromaStore:
    """Chroma collection with our own embeddings (its default embedder would download a model)."""

    def __init__(
        self,
        settings: StoreSettings,
        index_dir: Path,
        embedder_name: str,
        dim: int,
        client: Any = None,
        create: bool = True,
        read_only: bool = False,
    ):
        """Open the collection in ``index_dir/chroma``, on a server, or in ``client``.

        Args:
            settings: Backend, server address and collection name.
            index_dir: The index folder (embedded Chroma lives in its ``chroma`` folder).
            embedder_name: Recorded on a new collection.
            dim: Recorded on a new collection.
            client: A chromadb client to use (tests pass an EphemeralClient).
            create: Create the collection when it does not exist; False when the manifest lists
                chunks, so a wrong name is an error instead of an empty new collection.
            read_only: Read a copy of the folder (it cannot be written, and Chroma writes on opening).

        """
        from chromadb.config import Settings as ChromaSettings

        server = settings.backend == "server"
        where = (
            f"the Chroma server at {settings.host}:{settings.port}" if server else str(index_dir / "chroma")
        )
        self.fix = (
            f"Check that the Chroma server at {settings.host}:{settings.port} is running "
            f"(`chroma run --path DIR --port {settings.port}`)."
            if server
            else f"Check the folder {index_dir / 'chroma'} (disk space, permissions), or repair it: "
            "rag check --repair"
        )
        self.name, self._copy = settings.collection, None
        self.folder = None if server else index_dir / "chroma"
        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if client is None and not server:
            client, self._copy = open_persistent(index_dir / "chroma", read_only, chroma_settings)
        try:
            if client is None:
                import chromadb

                client = chromadb.HttpClient(host=settings.host, port=settings.port, settings=chroma_settings)
            self._client = client
            self._create = dict(
                name=settings.collection,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine", "ef_search": HNSW_EF_SEARCH}},
                metadata={"embedder": embedder_name, "dim": dim},
            )
            self._col = self._collection(create, where)
        except (StoreError, CollectionMismatchError):
            self.close()
            raise
        except BaseException as exc:  # chromadb raises many types (ValueError, httpx errors, panics...)
            self.close()
            if not isinstance(exc, Exception) and not is_panic(exc):
                raise
            hint = f" (start it with `chroma run --path DIR --port {settings.port}`)" if server else ""
            raise StoreError(f"Cannot open the vector store at {where}{hint}: {cause(exc)}") from exc

    def _collection(self, create: bool, where: str) -> Any:
        """Return the collection; when ``create`` is False a missing one is an error naming what exists."""
        if create:
            return self._client.get_or_create_collection(**self._create)
        names = sorted(c if isinstance(c, str) else c.name for c in self._client.list_collections())
        if self.name in names:
            return self._client.get_collection(self.name, embedding_function=None)
        if names:
            raise CollectionMismatchError(
                f"The vector store at {where} has no collection '{self.name}' (store.collection); it holds "
                f"{', '.join(repr(n) for n in names)}. Set RAG_STORE__COLLECTION to the index's collection."
            )
        raise StoreDamagedError(
            f"The vector store at {where} holds no collection: it was emptied or replaced, while the "
            "manifest lists chunks. Run `rag check --repair` (re-embeds them from their files) or "
            "rag ingest --rebuild PATH..."
        )

    @guarded(_fix)
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

    @guarded(_fix)
    def update_spans(self, chunks: Sequence[Chunk]) -> None:
        """Update metadata only; the text (and so the vector) is unchanged."""
        for i in range(0, len(chunks), _MAX_BATCH):
            part = chunks[i : i + _MAX_BATCH]
            self._col.update(ids=[c.id for c in part], metadatas=[metadata_of(c) for c in part])

    @guarded(_fix)
    def delete(self, ids: Sequence[str]) -> None:
        """Remove chunks by id."""
        for i in range(0, len(ids), _MAX_BATCH):
            self._col.delete(ids=list(ids[i : i + _MAX_BATCH]))

    @guarded(_fix)
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

    @guarded(_fix)
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

    @guarded(_fix)
    def all_chunks(self) -> list[Chunk]:
        """Return every stored chunk, paging through the collection."""
        out: list[Chunk] = []
        total = self.count()
        for offset in range(0, total, _MAX_BATCH):
            res = self._col.get(include=["documents", "metadatas"], limit=_MAX_BATCH, offset=offset)
            docs, metas = res["documents"] or [], res["metadatas"] or []
            out.extend(chunk_from(i, d, dict(m)) for i, d, m in zip(res["ids"], docs, metas, strict=True))
        return out

    @guarded(_fix)
    def ids(self) -> list[str]:
        """Return every stored id, paging through the collection."""
        out: list[str] = []
        for offset in range(0, self.count(), _ID_PAGE):
            out.extend(self._col.get(include=[], limit=_ID_PAGE, offset=offset)["ids"])
        return out

    @guarded(_fix)
    def count(self) -> int:
        """Return the number of stored chunks."""
        return int(self._col.count())

    @guarded(_fix)
    def clear(self) -> None:
        """Drop and recreate the collection (new embedder metadata included)."""
        self._client.delete_collection(self._create["name"])
        self._col = self._client.get_or_create_collection(**self._create)

    def close(self) -> None:
        """Release this client (embedded Chroma stops once every client of the folder is closed)."""
        client = getattr(self, "_client", None)
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
        if self._copy is not None:  # the private copy of a read-only index
            remove_copy(self._copy)
            self._copy = None
