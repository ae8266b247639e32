"""PDF: each page's text layer (pypdf), OCR for pages without one, tables as whole rows; pages kept."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from rag.ingestion import ocr
from rag.ingestion.parsed import LoadError, LoadOptions, Parsed, TextBuilder, iso_date
from rag.ingestion.pdf_tables import table_pages
from rag.ingestion.structure import join_pages


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


def _text_layer(data: bytes) -> tuple[list[str], str | None, str | None]:
    """Return each page's text layer, the title and the creation date (pypdf)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    with _pypdf_notes() as notes:
        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                raise LoadError("password-protected PDF; save a copy without the password first")
            texts = [page.extract_text() or "" for page in reader.pages]
            info = reader.metadata
        except (PdfReadError, ValueError, KeyError, OSError) as exc:
            detail = "; ".join(dict.fromkeys([str(exc), *notes]))
            raise LoadError(f"corrupt or unreadable PDF ({detail})") from None
    title = str(info.title) if info and info.title else None
    date = iso_date(str(info.get("/CreationDate", ""))) if info else None
    return texts, title, date


def _bare(indices: list[int]) -> str:
    """Say which pages (0-based indices) have no text layer, as a reader numbers them."""
    shown = [str(i + 1) for i in indices[:10]] + (["…"] if len(indices) > 10 else [])
    if len(shown) == 1:
        return f"page {shown[0]} has no text layer"
    return f"pages {', '.join(shown[:-1])} and {shown[-1]} have no text layer"


def pdf(data: bytes, options: LoadOptions) -> Parsed:
    """Read a PDF page by page; a page without a text layer (a scan) is read by OCR.

    Only the pages that need it are rendered and read, each one ticking the progress bar. Without
    Tesseract such a file is refused with the command that installs it, rather than indexed
    without those pages (an unchanged file would not be read again once Tesseract is there).
    """
    texts, title, date = _text_layer(data)
    scanned = ocr.scanned_pages(data, texts)
    warning = None
    if scanned and not options.ocr.enabled:
        if not any(t.strip() for t in texts):
            raise LoadError("no text layer (a scanned PDF) and OCR is off: set RAG_OCR__ENABLED=true")
        warning = f"{_bare(scanned)}: left out, OCR is off (RAG_OCR__ENABLED=true reads them)"
    elif scanned:
        missing = ocr.tesseract_missing()
        if missing:
            what = "no page has a text layer" if len(scanned) == len(texts) else _bare(scanned)
            raise LoadError(f"scanned PDF ({what}, OCR reads it); {missing}, then ingest it again")
        for i, text in ocr.read_pages(data, scanned, options).items():
            texts[i] = text
    try:
        tables = table_pages(data, [i for i in range(len(texts)) if i not in scanned and texts[i].strip()])
    except Exception:  # pdfminer raises many kinds; pypdf read the file, so keep its text
        tables = {}
    if not tables:
        text, numbered = join_pages(texts)
        return Parsed(text, title, date, warning=warning, pages=numbered)
    built = TextBuilder()
    for i, page_text in enumerate(texts):
        for part, block in tables.get(i, [(page_text, False)]):
            built.add(part, page=i + 1, block=block)
    return built.parsed(title, date, warning)


LOADERS = {".pdf": pdf}
NO_TEXT = {".pdf": "no text found in the PDF (its pages are blank, or OCR found no text on them)"}
