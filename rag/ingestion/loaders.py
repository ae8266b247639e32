"""Read .txt, .md, .html, .pdf and .docx files into Documents with title and date metadata."""

from __future__ import annotations

import codecs
import hashlib
import io
import logging
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from rag.core.types import Document
from rag.ingestion.structure import Pages, Sections, docx_sections, html_text, join_pages, markdown_sections

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
_DATE_HEADER = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})\b[ \t]*\n?")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_ISO_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
_FIRST_LINE = re.compile(r"\S[^\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]{0,199}")  # splitlines' breaks


class LoadError(Exception):
    """A file that cannot be turned into text; the message is the reason shown to the user."""


@dataclass(frozen=True)
class Parsed:
    """Text and metadata pulled out of one file, before it becomes a Document."""

    text: str
    title: str | None = None
    date: str | None = None
    body_offset: int = 0
    warning: str | None = None
    pages: Pages = ()
    sections: Sections = ()


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


def decode_text(data: bytes) -> tuple[str, str | None]:
    """Decode bytes as UTF-8, falling back to cp1252 with a warning; refuse binary data."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), None
    head = data[:8192]
    if b"\x00" in head:
        raise LoadError("looks binary (contains NUL bytes); convert it to text first")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        utf8_error = str(exc)
    try:
        return data.decode("cp1252"), f"not UTF-8 ({utf8_error}); decoded as cp1252"
    except UnicodeDecodeError:
        raise LoadError(f"not UTF-8 and not cp1252 text ({utf8_error}); re-save it as UTF-8") from None


def _plain(data: bytes) -> Parsed:
    text, warning = decode_text(data)
    match = _DATE_HEADER.match(text)
    if match:
        return Parsed(text[match.end() :], None, match.group(1), match.end(), warning)
    return Parsed(text, warning=warning)


def _markdown(data: bytes) -> Parsed:
    parsed = _plain(data)
    text, offset, title, date = parsed.text, parsed.body_offset, None, parsed.date
    front = _FRONT_MATTER.match(text)
    if front:
        fields = dict(
            (k.strip().lower(), v.strip().strip("\"'"))
            for k, _, v in (line.partition(":") for line in front.group(1).splitlines())
            if v
        )
        title, date = fields.get("title"), date or _iso(fields.get("date"))
        text, offset = text[front.end() :], offset + front.end()
    heading = re.search(r"^#\s+(.+)$", text, re.M)
    title = title or (heading.group(1).strip() if heading else None)
    return Parsed(text, title, date, offset, parsed.warning, sections=markdown_sections(text))


def _html(data: bytes) -> Parsed:
    from bs4 import BeautifulSoup

    text, warning = decode_text(data)
    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style", "noscript"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else None
    h1 = soup.find("h1")
    meta = soup.find("meta", attrs={"property": "article:published_time"}) or soup.find(
        "meta", attrs={"name": "date"}
    )
    date = _iso(str(meta.get("content"))) if meta else None
    body, sections = html_text(soup.body or soup)
    return Parsed(body, title or (h1.get_text(strip=True) if h1 else None), date, 0, warning, (), sections)


class _Notes(logging.Handler):
    """Collects a library's log messages about one file."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _pypdf_notes() -> Iterator[list[str]]:
    """Collect pypdf's warnings ("EOF marker not found") while it reads one file.

    pypdf logs its repairs to the "pypdf" logger; with no handler there, Python prints them on
    stderr, between rag's own report lines. Collected, they go into that file's problem line.
    """
    notes = _Notes()
    logger = logging.getLogger("pypdf")
    logger.addHandler(notes)
    try:
        yield notes.messages
    finally:
        logger.removeHandler(notes)


def _pdf(data: bytes) -> Parsed:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    with _pypdf_notes() as notes:
        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                raise LoadError("password-protected PDF; save a copy without the password first")
            pages = [page.extract_text() or "" for page in reader.pages]
            info = reader.metadata
        except (PdfReadError, ValueError, KeyError, OSError) as exc:
            detail = "; ".join(dict.fromkeys([str(exc), *notes]))
            raise LoadError(f"corrupt or unreadable PDF ({detail})") from None
    title = str(info.title) if info and info.title else None
    date = _iso(str(info.get("/CreationDate", ""))) if info else None
    text, numbered = join_pages(pages)
    return Parsed(text, title, date, pages=numbered)


def _docx(data: bytes) -> Parsed:
    import docx2txt

    try:
        text = re.sub(r"\n{3,}", "\n\n", docx2txt.process(io.BytesIO(data))).strip()
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            core = z.read("docProps/core.xml").decode() if "docProps/core.xml" in z.namelist() else ""
        sections = docx_sections(data, text)
    except (zipfile.BadZipFile, KeyError, OSError, ElementTree.ParseError) as exc:
        raise LoadError(f"corrupt or unreadable .docx ({exc})") from None
    title = re.search(r"<dc:title>(.*?)</dc:title>", core)
    created = re.search(r"<dcterms:created[^>]*>(.*?)</dcterms:created>", core)
    date = _iso(created.group(1)) if created else None
    return Parsed(text, title.group(1) if title else None, date, sections=sections)


def _iso(value: str | None) -> str | None:
    match = _ISO_DATE.search(value or "")
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}" if match else None


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


# Every parser reads the bytes that were hashed, so the index never holds text the hash does not cover.
_PARSERS: dict[str, Callable[[bytes], Parsed]] = {
    ".txt": _plain,
    ".md": _markdown,
    ".markdown": _markdown,
    ".html": _html,
    ".htm": _html,
    ".pdf": _pdf,
    ".docx": _docx,
}


_NO_TEXT = {
    ".pdf": "no text found in the PDF (a scanned PDF needs OCR first, e.g. ocrmypdf)",
    ".html": "no text found in the HTML (only markup, scripts or styles)",
    ".htm": "no text found in the HTML (only markup, scripts or styles)",
    ".docx": "no text found in the .docx (it may hold only images)",
}


def load_document(path: Path, data: bytes) -> tuple[Document, str | None]:
    """Parse one file's bytes into a Document.

    Args:
        path: The file (its suffix picks the parser).
        data: The file's bytes (hashed for incremental ingest).

    Returns:
        The document and an optional warning (e.g. a non-UTF-8 file that was decoded anyway).

    Raises:
        LoadError: The file is empty, binary, corrupt or of an unsupported type.

    """
    suffix = path.suffix.lower()
    if not data or data.isspace():  # no copy of a large file
        raise LoadError("empty file")
    if suffix not in _PARSERS:
        raise LoadError(f"unsupported type '{suffix}'; supported: {', '.join(SUFFIXES)}")
    parsed = _PARSERS[suffix](data)
    if not parsed.text.strip():
        raise LoadError(_NO_TEXT.get(suffix, "no text found after its header (date line or front matter)"))
    doc = Document(
        id=doc_id_for(path),
        path=display_path(path),
        title=parsed.title or fallback_title(parsed.text, path),
        date=parsed.date,
        text=parsed.text,
        content_hash=content_hash(data),
        body_offset=parsed.body_offset,
        pages=parsed.pages,
        sections=parsed.sections,
    )
    return doc, parsed.warning
