"""Finish an ingest that changes nothing without opening the vector store or loading the embedder."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from rag.core.types import IngestReport
from rag.index.manifest import SCHEMA, Manifest
from rag.ingestion import journal
from rag.ingestion.loaders import content_hash, doc_id_for
from rag.ingestion.plan import MAX_FILE_BYTES, find_files, gone_documents


def unchanged_ingest(
    paths: Iterable[Path],
    index_dir: Path,
    embedder: tuple[str, int],
    prune: bool,
    collection: str | None = None,
    prune_under: Sequence[Path] = (),
    store_collection: str = "",
) -> IngestReport | None:
    """Return the report of an ingest that would change nothing, or None when it has work to do.

    Opening Chroma (1.3 s of imports alone) and the embedder are most of an unchanged re-ingest's time;
    the committed manifest and the files' hashes are enough to know that nothing changed. Anything
    unusual (a missing path, an unfinished run's journal, an older schema, a different embedder, a
    file to prune, a file moving to another collection) returns None, and the full ingest handles and
    reports it.

    Args:
        paths: Files and folders, as given to ``ingest``.
        index_dir: The index folder.
        embedder: The configured embedder's (name, dimension), read from its config files.
        prune: Whether the ingest would also remove documents whose files are gone.
        collection: The collection the ingest puts its documents in (None keeps theirs); a document
            in another one needs its chunks' metadata rewritten.
        prune_under: Paths under which the ingest removes documents whose files are gone.
        store_collection: The Chroma collection the settings name (another than the index's is an
            error the full ingest reports).

    Returns:
        The report (nothing embedded or removed), or None.

    """
    started = time.perf_counter()
    manifest = Manifest.load(index_dir)
    if (
        manifest is None
        or manifest.schema < SCHEMA
        or not manifest.bm25
        or (manifest.embedder, manifest.dim) != embedder
        or manifest.store_collection not in ("", store_collection)
        or journal.pending(index_dir) != set()
    ):
        return None
    files, problems = find_files(paths, skip=[index_dir])
    if problems:
        return None
    skipped = 0
    for path in files:
        entry = manifest.documents.get(doc_id_for(path))
        if entry is None or path.stat().st_size > MAX_FILE_BYTES:
            return None
        if collection is not None and entry.collection != collection:
            return None
        if entry.hash != content_hash(path.read_bytes()):
            return None
        skipped += len(entry.chunks)
    docs = manifest.documents
    if (prune and gone_documents(docs)) or (prune_under and gone_documents(docs, prune_under)):
        return None
    return IngestReport(
        documents_seen=len(files),
        chunks_skipped=skipped,
        seconds=round(time.perf_counter() - started, 3),
        generation=manifest.generation,
    )
