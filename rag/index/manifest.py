"""The index manifest: the commit record of the index (embedder, generation, BM25 version, documents).

Writing the manifest is the one commit point of an ingest: vectors may be written before it, but only
chunks listed here are ever answered from, and ``generation`` tells readers in other processes that
the index changed.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from rag.core.errors import CollectionMismatchError, EmbedderMismatchError, IndexDamagedError, NoIndexError
from rag.core.text import page_of, section_of
from rag.core.types import Chunk, DocumentInfo

MANIFEST = "manifest.json"
# Of the chunk metadata in the vector store. 4: "source_path" and "source_hash" too, from which a lost
# manifest is rebuilt; 3: "page", "section" and "collection"; 2: "day" (YYYYMMDD) for date filters;
# 1 (or absent): neither. Older indexes are rewritten by the next ingest or `rag check --repair`,
# without re-embedding.
SCHEMA = 4
COLLECTION_SCHEMA = 3  # the first schema whose chunks carry "collection": scopes work from here on
DAY_SCHEMA = 2  # the first schema whose chunks carry "day": as-of filters work from here on


@dataclass
class DocEntry:
    """What the index knows of one source file."""

    path: str
    display: str
    hash: str
    title: str
    date: str | None
    chunks: dict[str, list[int]] = field(default_factory=dict)  # chunk id -> [start, end]
    offset: int | None = None  # where the text starts in the file (chunks' file_offset); None: older index
    collection: str = ""  # the name given with `rag ingest --collection`
    pages: list[list[int]] | None = None  # [page, start, end] per PDF page in the text; None: older index
    sections: list[list[Any]] | None = None  # [start, heading path] per heading; None: older index

    def committed(self, doc_id: str, stored: Chunk) -> Chunk:
        """Return a stored chunk of this document with the spans and metadata committed here."""
        start, end = self.chunks[stored.id]
        offset = stored.file_offset if self.offset is None else self.offset
        known = self.pages is not None  # an older entry knows no pages or headings: keep the stored ones
        return replace(
            stored,
            doc_id=doc_id,
            start=start,
            end=end,
            title=self.title,
            path=self.display,
            date=self.date,
            file_offset=offset,
            page=page_of(self.pages or (), start, end) if known else stored.page,
            section=section_of(self.sections or (), start, end) if known else stored.section,
            collection=self.collection,
            source_path=self.path,
            source_hash=self.hash or stored.source_hash,  # "" marks an entry the next ingest re-reads
        )


@dataclass
class Manifest:
    """The index's record of its embedder and documents; written atomically as each ingest commits."""

    embedder: str
    dim: int
    documents: dict[str, DocEntry] = field(default_factory=dict)
    generation: int = 0
    bm25: str = ""  # the BM25 version folder (bm25.<id>) built from exactly these chunks
    schema: int = SCHEMA  # of the chunk metadata in the vector store; older indexes are upgraded on ingest
    store_collection: str = ""  # the Chroma collection the vectors are in ("" in an older index)

    @classmethod
    def load(cls, index_dir: Path) -> Manifest | None:
        """Read the manifest, or return None when the index does not exist yet.

        Raises:
            IndexDamagedError: The file is not a manifest (the message says how to rebuild it).

        """
        path = index_dir / MANIFEST
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            raw = json.loads(data.decode("utf-8"))
            docs = {k: DocEntry(**v) for k, v in raw["documents"].items()}
            return cls(
                raw["embedder"],
                int(raw["dim"]),
                docs,
                int(raw.get("generation", 0)),
                raw.get("bm25", ""),
                int(raw.get("schema", 1)),
                str(raw.get("collection", "")),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise IndexDamagedError(
                f"The manifest {path} is damaged ({type(exc).__name__}: {exc}). Run `rag check --repair`: "
                "it keeps the damaged file aside and rebuilds the manifest from the vector store."
            ) from None

    def save(self, index_dir: Path) -> None:
        """Commit: bump the generation and write the manifest atomically (a crash keeps the old one)."""
        index_dir.mkdir(parents=True, exist_ok=True)
        self.generation += 1
        tmp = index_dir / (MANIFEST + ".tmp")
        data = {
            "embedder": self.embedder,
            "dim": self.dim,
            "generation": self.generation,
            "bm25": self.bm25,
            "schema": self.schema,
            "collection": self.store_collection,
            "documents": {k: asdict(v) for k, v in self.documents.items()},
        }
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, index_dir / MANIFEST)

    def chunk_ids(self) -> set[str]:
        """Return the ids of every committed chunk."""
        return {cid for entry in self.documents.values() for cid in entry.chunks}

    def chunk_days(self) -> dict[str, int]:
        """Return each committed chunk's document date as YYYYMMDD (0 when undated)."""
        from rag.core.text import day_number

        return {cid: day_number(e.date) for e in self.documents.values() for cid in e.chunks}

    def owners(self) -> dict[str, str]:
        """Map every committed chunk id to its document id."""
        return {cid: doc_id for doc_id, entry in self.documents.items() for cid in entry.chunks}

    def check_embedder(self, name: str, dim: int, index_dir: Path) -> None:
        """Refuse to mix vectors of two embedders in one index."""
        if (self.embedder, self.dim) != (name, dim):
            raise EmbedderMismatchError(
                f"The index at {index_dir} was built with the embedder {self.embedder} "
                f"({self.dim}-d), but the settings use {name} ({dim}-d). Rebuild it with "
                f"`rag ingest --rebuild PATH...`, or set RAG_INDEX_DIR to another folder."
            )

    def check_collection(self, name: str, index_dir: Path) -> None:
        """Refuse to read or write an index's vectors in another collection than its own."""
        if self.store_collection and self.store_collection != name and self.documents:
            raise CollectionMismatchError(
                f"The index at {index_dir} keeps its vectors in the Chroma collection "
                f"'{self.store_collection}', but the settings name '{name}' (store.collection). Unset "
                f"RAG_STORE__COLLECTION or set it to '{self.store_collection}'; to start a new index in "
                f"'{name}', use another folder (--index) or rag ingest --rebuild PATH..."
            )

    def infos(self) -> list[DocumentInfo]:
        """List the indexed documents, by path."""
        return sorted(
            (
                DocumentInfo(doc_id, e.display, e.title, e.date, len(e.chunks), e.collection)
                for doc_id, e in self.documents.items()
            ),
            key=lambda d: d.path,
        )


def stamp(index_dir: Path) -> tuple[int, int, int] | None:
    """Return a cheap change stamp of the manifest file (inode, size, mtime), or None if absent.

    ``os.replace`` gives every commit a new inode, so a reader can tell a commit happened from one
    ``stat`` call per question without reading the file.
    """
    try:
        st = (index_dir / MANIFEST).stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def no_index_error(index_dir: Path) -> NoIndexError:
    """Return the error for an index with no documents, saying how to add some."""
    return NoIndexError(
        f"No documents are indexed in {index_dir} yet. Add some first: rag ingest seeds/ "
        "(or set RAG_INDEX_DIR to the folder of an existing index)."
    )


def require_manifest(index_dir: Path) -> Manifest:
    """Load the manifest or explain how to build the index."""
    manifest = Manifest.load(index_dir)
    if manifest is None or not manifest.documents:
        raise no_index_error(index_dir)
    return manifest
