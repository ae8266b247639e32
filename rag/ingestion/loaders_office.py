"""Office documents: .docx (python-docx), .pptx (python-pptx), .odt (odfdo) and .rtf (striprtf).

Headings become section paths, tables stay whole (a row per line, the header first), and a slide's
number is its page, so a citation says "slide 3".
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

from rag.ingestion.parsed import LoadError, LoadOptions, Parsed, TextBuilder, decode_text, iso_date
from rag.ingestion.structure import heading_path, table_lines

_HEADING_STYLE = re.compile(r"heading\s*(\d)", re.I)


def _docx_level(paragraph: Any) -> int | None:
    """Return a .docx paragraph's heading level (a "Heading N" style, or an outline level), else None."""
    style = paragraph.style
    found = _HEADING_STYLE.fullmatch(style.name or "") if style is not None else None
    if found:
        return int(found.group(1))
    for element in (paragraph._p, style.element if style is not None else None):
        levels = element.xpath("./w:pPr/w:outlineLvl/@w:val") if element is not None else []
        if levels and str(levels[0]).isdigit() and int(levels[0]) < 9:
            return int(levels[0]) + 1
    return None


def _docx_rows(table: Any) -> list[list[str]]:
    """Return a .docx table's rows; a merged cell (python-docx repeats it) counts once."""
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) not in seen:
                seen.add(id(cell._tc))
                cells.append(cell.text)
        rows.append(cells)
    return rows


def docx(data: bytes, _: LoadOptions | None = None) -> Parsed:
    """Read a .docx: paragraphs and tables in order, text boxes, heading paths, title and date."""
    import docx as python_docx
    from docx.table import Table

    try:
        document = python_docx.Document(io.BytesIO(data))
        out, stack = TextBuilder(), list[tuple[int, str]]()
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                out.add(table_lines(_docx_rows(item)), block=True)
                continue
            boxes = item._p.xpath(".//w:txbxContent//w:p")  # text boxes: not in Paragraph.text
            text = "\n".join([item.text, *("".join(p.xpath(".//w:t/text()")) for p in boxes)])
            level = _docx_level(item)
            title = " ".join(text.split())
            out.add(text, section=heading_path(stack, level, title) if level and title else None)
    except Exception as exc:  # python-docx raises many kinds on a damaged file (zip, XML, missing parts)
        raise LoadError(f"corrupt or unreadable .docx ({exc})") from None
    props = document.core_properties
    return out.parsed(props.title or None, iso_date(props.created))


def _shape_lines(shapes: Any) -> Iterator[str]:
    """Yield the text of a slide's shapes in order: text frames, tables (a row per line), groups."""
    for shape in shapes:
        if getattr(shape, "shapes", None) is not None:  # a group
            yield from _shape_lines(shape.shapes)
        if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            yield from (p.text for p in shape.text_frame.paragraphs if p.text.strip())
        if getattr(shape, "has_table", False) and shape.has_table:
            yield table_lines([[cell.text for cell in row.cells] for row in shape.table.rows])


def pptx(data: bytes, _: LoadOptions | None = None) -> Parsed:
    """Read a .pptx: one part per slide (its number is the page, "Slide 3: Title" the section), notes too."""
    from pptx import Presentation

    try:
        deck = Presentation(io.BytesIO(data))
        out = TextBuilder()
        first_title = None
        for number, slide in enumerate(deck.slides, 1):
            title_shape = slide.shapes.title
            title = " ".join(title_shape.text_frame.text.split()) if title_shape is not None else ""
            first_title = first_title or title or None
            lines = list(_shape_lines(slide.shapes))
            if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
                notes = slide.notes_slide.notes_text_frame.text.strip()
                lines += [f"Notes: {notes}"] if notes else []
            section = f"Slide {number}: {title}" if title else f"Slide {number}"
            out.add("\n".join(lines), section=section, page=number, block=True)
    except Exception as exc:  # python-pptx raises many kinds on a damaged file (zip, XML, missing parts)
        raise LoadError(f"corrupt or unreadable .pptx ({exc})") from None
    props = deck.core_properties
    return out.parsed(props.title or first_title, iso_date(props.created))


def _odt_parts(element: Any, out: TextBuilder, stack: list[tuple[int, str]]) -> None:
    """Add an OpenDocument body's headings, paragraphs, lists and tables to ``out``, in order."""
    for child in element.children:
        tag = child.tag
        if tag == "text:h":
            title = " ".join(child.text_recursive.split())
            level = int(child.get_attribute("text:outline-level") or 1)
            out.add(title, section=heading_path(stack, level, title) if title else None)
        elif tag == "table:table":
            out.add(table_lines([[str(v or "") for v in row] for row in child.get_values()]), block=True)
        elif tag == "text:section":
            _odt_parts(child, out, stack)
        else:
            out.add(child.text_recursive or "")


def odt(data: bytes, _: LoadOptions | None = None) -> Parsed:
    """Read an OpenDocument text (.odt): headings, paragraphs, lists and tables, title and date."""
    from odfdo import Document

    try:
        document = Document(io.BytesIO(data))
        out = TextBuilder()
        _odt_parts(document.body, out, [])
        meta = document.meta
        title, created = meta.get_title(), meta.get_creation_date()
    except Exception as exc:  # odfdo raises many kinds on a damaged file (zip, XML, missing parts)
        raise LoadError(f"corrupt or unreadable .odt ({exc})") from None
    return out.parsed(title or None, iso_date(created))


def rtf(data: bytes, _: LoadOptions | None = None) -> Parsed:
    """Read an .rtf file's text (striprtf); paragraphs as the file breaks them."""
    from striprtf.striprtf import rtf_to_text

    raw, warning = decode_text(data)
    if not raw.lstrip().startswith("{\\rtf"):
        raise LoadError("not an RTF file (it does not start with {\\rtf); check its type")
    text = re.sub(r"\n[ \t]*\n\s*", "\n\n", rtf_to_text(raw, errors="ignore")).strip()
    return Parsed(text, warning=warning)


LOADERS = {".docx": docx, ".pptx": pptx, ".odt": odt, ".rtf": rtf}
NO_TEXT = {
    ".docx": "no text found in the .docx (it may hold only images)",
    ".pptx": "no text found in the .pptx (its slides hold only pictures)",
    ".odt": "no text found in the .odt (it may hold only images)",
    ".rtf": "no text found in the .rtf",
}
