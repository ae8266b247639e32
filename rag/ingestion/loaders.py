"""Read a file into a Document: one registry of suffixes, each read by its format family's module.

Text, Markdown, HTML and EPUB: ``loaders_text``; PDF (with OCR of scanned pages): ``loaders_pdf``;
.docx, .pptx, .odt and .rtf: ``loaders_office``; .xlsx and .csv: ``loaders_sheets``; .eml and
.mbox: ``loaders_mail``; .ipynb and .json: ``loaders_data``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path

from rag.core.types import Document
from rag.ingestion import (
    loaders_data,
    loaders_mail,
    loaders_office,
    loaders_pdf,
    loaders_sheets,
    loaders_text,
)
from rag.ingestion.parsed import Loader, LoadError, LoadOptions, Parsed, decode_text

__all__ = [
    "SUFFIXES",
    "LoadError",
    "LoadOptions",
    "Parsed",
    "content_hash",
    "decode_text",
    "display_path",
    "doc_id_for",
    "fallback_title",
    "load_document",
]

_FAMILIES = (loaders_text, loaders_pdf, loaders_office, loaders_sheets, loaders_mail, loaders_data)
# Every loader reads the bytes that were hashed, so the index never holds text the hash does not cover.
_LOADERS: dict[str, Loader] = {suffix: f for family in _FAMILIES for suffix, f in family.LOADERS.items()}
_NO_TEXT: dict[str, str] = {suffix: m for family in _FAMILIES for suffix, m in family.NO_TEXT.items()}
SUFFIXES = tuple(_LOADERS)
_NAMED = (".csv", ".xlsx", ".json")  # no title inside, and a first line ("name: Ada") is none: the file name
_FIRST_LINE = re.compile(r"\S[^\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]{0,199}")  # splitlines' breaks


def content_hash(data: bytes) -> str:
    """Return the sha256 hex digest of raw file bytes."""
    return hashlib.sha256(data).hexdigest()


def doc_id_for(path: Path) -> str:
    """Return a stable document id for a file path (its resolved path, hashed)."""
    return hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]


def display_path(path: Path) -> str:
    """Return the path relative to the working folder when inside it, else absolute."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(resolved)


def fallback_title(text: str, path: Path) -> str:
    """Title from the first line when short, else its first words, else the file name."""
    found = _FIRST_LINE.search(text)  # reads at most 200 characters of the line: a file may be one line
    if not found:
        return path.stem
    first = found.group().strip()
    if len(first) <= 80:
        return first.lstrip("# ").strip()
    words = first.split()
    short = ""
    for word in words:
        if len(short) + len(word) > 70:
            break
        short = f"{short} {word}".strip()
    return short + "…"


def load_document(path: Path, data: bytes, options: LoadOptions | None = None) -> tuple[Document, str | None]:
    """Parse one file's bytes into a Document.

    Args:
        path: The file (its suffix picks the parser).
        data: The file's bytes (hashed for incremental ingest).
        options: OCR settings and progress reporting (default: OCR on, no progress bar).

    Returns:
        The document and an optional warning (e.g. a non-UTF-8 file that was decoded anyway).

    Raises:
        LoadError: The file is empty, binary, corrupt or of an unsupported type.

    """
    suffix = path.suffix.lower()
    if not data or data.isspace():  # no copy of a large file
        raise LoadError("empty file")
    if suffix not in _LOADERS:
        raise LoadError(f"unsupported type '{suffix}'; supported: {', '.join(SUFFIXES)}")
    options = options or LoadOptions()
    parsed = _LOADERS[suffix](data, options if options.name else replace(options, name=path.name))
    if not parsed.text.strip():
        raise LoadError(_NO_TEXT.get(suffix, "no text found after its header (date line or front matter)"))
    doc = Document(
        id=doc_id_for(path),
        path=display_path(path),
        title=parsed.title or (path.stem if suffix in _NAMED else fallback_title(parsed.text, path)),
        date=parsed.date,
        text=parsed.text,
        content_hash=content_hash(data),
        body_offset=parsed.body_offset,
        pages=parsed.pages,
        sections=parsed.sections,
        blocks=parsed.blocks,
    )
    return doc, parsed.warning
