"""The index manifest: which embedder built it, and each document's hash, metadata and chunk spans."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import EmbedderMismatchError, NoIndexError, RagError
from .types import DocumentInfo

MANIFEST = "manifest.json"


@dataclass
class DocEntry:
    """What the index knows of one source file."""

    path: str
    display: str
    hash: str
    title: str
    date: str | None
    chunks: dict[str, list[int]] = field(default_factory=dict)  # chunk id -> [start, end]


@dataclass
class Manifest:
    """The index's record of its embedder and documents; written atomically after each ingest."""

    embedder: str
    dim: int
    documents: dict[str, DocEntry] = field(default_factory=dict)

    @classmethod
    def load(cls, index_dir: Path) -> Manifest | None:
        """Read the manifest, or return None when the index does not exist yet."""
        path = index_dir / MANIFEST
        if not path.exists():
            return None
        try:
            raw = json.loads(path.read_text())
            docs = {k: DocEntry(**v) for k, v in raw["documents"].items()}
            return cls(raw["embedder"], int(raw["dim"]), docs)
        except (ValueError, KeyError, TypeError) as exc:
            raise RagError(
                f"{path} is damaged ({exc}). Rebuild the index: rag ingest --rebuild PATH..."
            ) from None

    def save(self, index_dir: Path) -> None:
        """Write the manifest atomically (a crash leaves the old one intact)."""
        index_dir.mkdir(parents=True, exist_ok=True)
        tmp = index_dir / (MANIFEST + ".tmp")
        data = {
            "embedder": self.embedder,
            "dim": self.dim,
            "documents": {k: asdict(v) for k, v in self.documents.items()},
        }
        tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False))
        os.replace(tmp, index_dir / MANIFEST)

    def check_embedder(self, name: str, dim: int, index_dir: Path) -> None:
        """Refuse to mix vectors of two embedders in one index."""
        if (self.embedder, self.dim) != (name, dim):
            raise EmbedderMismatchError(
                f"The index at {index_dir} was built with the embedder {self.embedder} "
                f"({self.dim}-d), but the settings use {name} ({dim}-d). Rebuild it with "
                f"`rag ingest --rebuild PATH...`, or set RAG_INDEX_DIR to another folder."
            )

    def infos(self) -> list[DocumentInfo]:
        """List the indexed documents, by path."""
        return sorted(
            (
                DocumentInfo(doc_id, e.display, e.title, e.date, len(e.chunks))
                for doc_id, e in self.documents.items()
            ),
            key=lambda d: d.path,
        )


def require_manifest(index_dir: Path) -> Manifest:
    """Load the manifest or explain how to build the index."""
    manifest = Manifest.load(index_dir)
    if manifest is None or not manifest.documents:
        raise NoIndexError(
            f"No documents are indexed in {index_dir} yet. Add some first: rag ingest seeds/ "
            "(or set RAG_INDEX_DIR to the folder of an existing index)."
        )
    return manifest
