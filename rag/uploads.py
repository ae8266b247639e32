"""Safe uploads for the UI: sanitised names, allowed types and a size limit, stored under data_dir."""

from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path

from .errors import RagError
from .loaders import SUFFIXES
from .settings import Settings

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


def store_upload(src: Path, name: str, settings: Settings) -> Path:
    """Copy an uploaded file to ``data_dir/uploads/`` under a safe name, refusing big or unknown files.

    Args:
        src: Where the upload was received (Gradio's temporary copy).
        name: The name the user's browser sent.
        settings: Supplies ``data_dir`` and ``ui.max_upload_mb``.

    Returns:
        The stored file's path.

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
    dest = (folder / safe).resolve()
    if dest.parent != folder:  # cannot happen after safe_filename; refuse rather than trust it
        raise UploadError(f"{name!r} is not a usable file name.")
    shutil.copyfile(src, dest)
    return dest
