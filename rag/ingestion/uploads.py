"""Safe uploads for the UI: sanitised names that never overwrite, allowed types and a size limit.

Uploads are kept under ``data_dir/uploads``. A name already taken by different content gets a
number (``a (2).txt``); content already uploaded is reused instead of stored twice; an upload that
ingest cannot read is deleted again, and a left-over one (from an older version or a crash) is listed
so the UI can remove it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from rag.core.errors import RagError
from rag.core.settings import Settings
from rag.core.types import DocumentInfo, IngestReport, UploadReport
from rag.ingestion.loaders import SUFFIXES, doc_id_for
from rag.ingestion.writer import Progress


class Indexer(Protocol):
    """What storing uploads needs from the pipeline that owns the index (``rag.pipeline.Pipeline``)."""

    settings: Settings

    def ingest(
        self, paths: Iterable[str | Path], *, progress: Progress | None = None, show_bar: bool = True
    ) -> IngestReport:
        """Add or update documents in the index."""
        ...

    def documents(self) -> list[DocumentInfo]:
        """Return the indexed documents."""
        ...


_UNSAFE = re.compile(r"[^\w.\- ]+")
MAX_NAME = 120


class UploadError(RagError):
    """An uploaded file was refused (too large, unsupported type)."""


def upload_dir(settings: Settings) -> Path:
    """Return the folder uploads are stored in: ``data_dir/uploads``, resolved."""
    return (settings.data_dir / "uploads").resolve()


def safe_filename(name: str) -> str:
    r"""Return a file name that cannot leave its folder: no separators, no leading dots, safe characters.

    Example: ``"../../etc/passwd"`` becomes ``"passwd"``, ``"..\\..\\x.md"`` becomes ``"x.md"``.
    """
    base = unicodedata.normalize("NFKC", name).replace("\\", "/").split("/")[-1]
    base = _UNSAFE.sub("_", base).strip().lstrip(".").strip()
    stem, dot, suffix = base.rpartition(".")
    if dot and len(base) > MAX_NAME:
        base = f"{stem[: MAX_NAME - 1 - len(suffix)]}.{suffix}"
    return base[:MAX_NAME] or "upload"


def numbered(name: str, n: int) -> str:
    """Return ``name`` for n == 1, else ``stem (n).suffix``: the n-th free name for different content."""
    if n == 1:
        return name
    path = Path(name)
    return f"{path.stem} ({n}){path.suffix}"


def _digest(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _same_content(folder: Path, src: Path) -> Path | None:
    """Return an upload with exactly the bytes of ``src`` (same size first, then sha256), if any."""
    size, digest = src.stat().st_size, ""
    for old in sorted(folder.iterdir()):
        if old.is_file() and old.stat().st_size == size:
            digest = digest or _digest(src)
            if _digest(old) == digest:
                return old
    return None


def place_upload(src: Path, name: str, settings: Settings) -> tuple[Path, bool]:
    """Copy an upload into ``data_dir/uploads/`` without ever replacing another file.

    Args:
        src: Where the upload was received (Gradio's temporary copy).
        name: The name the user's browser sent.
        settings: Supplies ``data_dir`` and ``ui.max_upload_mb``.

    Returns:
        The stored file, and True when the same content was already uploaded (that file is returned).

    Raises:
        UploadError: The type is not one ``ingest()`` reads, or the file is over the size limit.

    """
    safe = safe_filename(name)
    if Path(safe).suffix.lower() not in SUFFIXES:
        raise UploadError(f"{safe}: unsupported type; upload one of {' '.join(SUFFIXES)}.")
    size_mb, limit = src.stat().st_size / 1e6, settings.ui.max_upload_mb
    if size_mb > limit:
        raise UploadError(f"{safe} is {size_mb:.1f} MB; the limit is {limit:g} MB (RAG_UI__MAX_UPLOAD_MB).")
    folder = upload_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    same = _same_content(folder, src)
    if same is not None:
        return same, True
    for n in range(1, 10_000):
        dest = (folder / numbered(safe, n)).resolve()
        if dest.parent != folder:  # cannot happen after safe_filename; refuse rather than trust it
            raise UploadError(f"{name!r} is not a usable file name.")
        try:
            with src.open("rb") as fin, dest.open("xb") as fout:  # "x": fails if taken, never overwrites
                while block := fin.read(1 << 20):
                    fout.write(block)
        except FileExistsError:
            continue
        return dest, False
    raise UploadError(f"Too many uploads named {safe}; rename the file and upload it again.")


def store_upload(src: Path, name: str, settings: Settings) -> Path:
    """Copy an upload into ``data_dir/uploads/`` (see ``place_upload``) and return the stored file."""
    return place_upload(src, name, settings)[0]


def stray_uploads(settings: Settings, indexed: Sequence[str]) -> list[str]:
    """Return the names of uploads that are not in the index (failed or left over), sorted.

    Args:
        settings: Supplies ``data_dir``.
        indexed: The document ids in the index.

    """
    folder, known = upload_dir(settings), set(indexed)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_file() and doc_id_for(p) not in known)


def upload_of(settings: Settings, doc_id: str) -> Path | None:
    """Return the uploaded file a document was indexed from, or None if it did not come from an upload."""
    folder = upload_dir(settings)
    if not folder.is_dir():
        return None
    return next((p for p in folder.iterdir() if p.is_file() and doc_id_for(p) == doc_id), None)


def ingest_uploads(
    pipeline: Indexer, files: Sequence[tuple[Path, str]], progress: Progress | None = None
) -> UploadReport:
    """Store uploads (never overwriting), ingest them, and delete again the ones ingest could not read.

    Args:
        pipeline: The pipeline whose index receives the files.
        files: (received file, name the browser sent) pairs.
        progress: Called with (done, total, message) while ingesting.

    Returns:
        What was stored, reused, refused and removed, with the ingest report.

    Raises:
        RagError: The ingest failed as a whole (e.g. another process holds the index); the uploads
            stored by this call are deleted again.

    """
    new: list[Path] = []
    reused: list[Path] = []
    refused: list[str] = []
    for src, name in files:
        try:
            path, existed = place_upload(src, name, pipeline.settings)
        except UploadError as exc:
            refused.append(str(exc))
            continue
        (reused if existed else new).append(path)
    if not new and not reused:
        return UploadReport(refused=tuple(refused))
    try:
        report = pipeline.ingest(dict.fromkeys([*new, *reused]), progress=progress, show_bar=False)
    except Exception:
        _discard_unindexed(pipeline, new)
        raise
    problems = {Path(p.path).resolve(): p for p in report.problems if not p.reason.startswith("warning")}
    gone = _discard_unindexed(pipeline, [p for p in [*new, *reused] if p in problems])
    return UploadReport(
        stored=tuple(p.name for p in new if p not in gone),
        duplicates=tuple(p.name for p in reused if p not in gone),
        refused=tuple(refused),
        failed=tuple(problems[p] for p in gone),
        ingest=report,
    )


def _discard_unindexed(pipeline: Indexer, paths: Iterable[Path]) -> set[Path]:
    """Delete the given uploads that are not in the index; return the deleted ones."""
    indexed = {d.doc_id for d in pipeline.documents()}
    gone = {p for p in paths if doc_id_for(p) not in indexed}
    for path in gone:
        path.unlink(missing_ok=True)
    return gone
