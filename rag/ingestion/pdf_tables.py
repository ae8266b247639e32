"""The tables of a PDF's pages (pdfplumber), so a table's rows stay together in one chunk.

pypdf reads a table as loose lines in reading order, and the chunker may then cut it anywhere. For
a page where pdfplumber finds a table, the page is read again as its parts in order: the text above
each table, the table as rows (header first, cells joined by " | ", as HTML and .docx tables are),
the text beside it, and the text below. Other pages keep pypdf's text.
"""

from __future__ import annotations

import io
from typing import Any

from rag.ingestion.structure import table_lines

Part = tuple[str, bool]  # text, and whether it is a table (a block kept whole)


def table_pages(data: bytes, pages: list[int]) -> dict[int, list[Part]]:
    """Return the parts of each page (0-based index, among ``pages``) that holds a table.

    Args:
        data: The PDF file's bytes.
        pages: The pages that have a text layer (a scanned page has no table to find).

    Returns:
        Page index -> its parts in reading order; pages without a table are left out.

    """
    import pdfplumber

    found: dict[int, list[Part]] = {}
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for i in pages:
            page = pdf.pages[i]
            tables = sorted(page.find_tables(), key=lambda t: t.bbox[1])
            rows = [(t, table_lines([[c or "" for c in row] for row in t.extract()])) for t in tables]
            rows = [(t, text) for t, text in rows if text.count("\n") >= 1]  # a header and a row at least
            if rows:
                found[i] = _parts(page, rows)
            page.close()
    return found


def _parts(page: Any, tables: list[tuple[Any, str]]) -> list[Part]:
    """Return the page's text around its tables, and the tables, top to bottom."""
    parts: list[Part] = []
    top = 0.0
    for table, text in tables:
        x0, t_top, x1, t_bottom = table.bbox
        parts.append((_text(page, (0, top, page.width, max(top, t_top))), False))
        parts.append((text, True))
        beside = page.crop((0, t_top, page.width, t_bottom)).filter(
            lambda obj, x0=x0, x1=x1: obj.get("x1", 0) <= x0 or obj.get("x0", 0) >= x1
        )
        parts.append((beside.extract_text() or "", False))
        top = max(top, t_bottom)
    parts.append((_text(page, (0, top, page.width, page.height)), False))
    return [(text, block) for text, block in parts if text.strip()]


def _text(page: Any, box: tuple[float, float, float, float]) -> str:
    """Return the text inside ``box`` (empty when the box has no height)."""
    if box[3] - box[1] <= 0:
        return ""
    return str(page.crop(box).extract_text() or "")
