"""Where a span sits in its document: the PDF page and the heading path, as the loaders find them.

A PDF's pages are joined into one text; each page's (number, start, end) in it is kept. Markdown,
HTML and .docx files keep their headings as (start, "Chapter > Section") marks. A chunk's page is
the page holding most of its text (a page number or a heading at the foot of a page joins the next
page's first paragraph); its section is the heading path that covers most of it.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from xml.etree import ElementTree

Pages = tuple[tuple[int, int, int], ...]  # (page number from 1, start, end) in the document text
Sections = tuple[tuple[int, str], ...]  # (start in the document text, heading path), in order
SEPARATOR = " > "
_HTML_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_NEWLINE = re.compile(r"\r\n?|\n")  # what markdown-it counts as a line break
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"heading\s*(\d)", re.I)


def join_pages(texts: Sequence[str]) -> tuple[str, Pages]:
    """Join page texts with blank lines (empty pages left out) and note where each page lands.

    Args:
        texts: Each page's extracted text, first page first.

    Returns:
        The joined text and (page number, start, end) of every non-empty page in it.

    """
    parts: list[str] = []
    pages: list[tuple[int, int, int]] = []
    pos = 0
    for number, raw in enumerate(texts, 1):
        text = raw.strip()
        if not text:
            continue
        if parts:
            pos += 2  # the "\n\n" between pages
        parts.append(text)
        pages.append((number, pos, pos + len(text)))
        pos += len(text)
    return "\n\n".join(parts), tuple(pages)


def _path(stack: list[tuple[int, str]], level: int, title: str) -> str:
    """Replace headings at ``level`` or deeper with ``title``; return the path (updates ``stack``)."""
    stack[:] = [(lv, t) for lv, t in stack if lv < level] + [(level, title)]
    return SEPARATOR.join(t for _, t in stack)


@lru_cache(maxsize=1)
def _markdown_parser() -> Any:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark")
    md.disable(["inline", "text_join"], ignoreInvalid=True)  # headings need the block structure only
    return md


def markdown_sections(text: str) -> Sections:
    """Return the heading marks of Markdown text (ATX ``#`` and setext headings, not code blocks).

    markdown-it-py reads the block structure as CommonMark does, so a ``#`` line inside a fenced
    code block or an HTML block is not taken for a heading.
    """
    tokens = _markdown_parser().parse(text)
    line_starts = [0, *(m.end() for m in _NEWLINE.finditer(text))]
    stack: list[tuple[int, str]] = []
    marks = []
    for i, tok in enumerate(tokens):
        if tok.type != "heading_open" or not tok.map or i + 1 >= len(tokens):
            continue
        title = " ".join(tokens[i + 1].content.split()).strip("# ")
        if title:
            marks.append((line_starts[tok.map[0]], _path(stack, int(tok.tag[1]), title)))
    return tuple(marks)


def html_text(body: Any) -> tuple[str, Sections]:
    """Return the visible text of an HTML element and the heading marks of its h1-h6 elements.

    The text is what ``get_text`` gives with a newline between strings, stripped line by line,
    empty lines dropped and blank lines between; walking the strings one by one tells which
    heading each line belongs to.
    """
    parts: list[str] = []
    marks: list[tuple[int, str]] = []
    stack: list[tuple[int, str]] = []
    opened: set[int] = set()
    pos = 0
    for string in body.strings:
        heading = string.find_parent(_HTML_HEADINGS)
        for line in (x.strip() for x in string.splitlines()):
            if not line:
                continue
            if heading is not None and id(heading) not in opened:
                opened.add(id(heading))
                title = heading.get_text(" ", strip=True)
                marks.append((pos, _path(stack, int(heading.name[1]), title)))
            parts.append(line)
            pos += len(line) + 2
    return "\n\n".join(parts), tuple(marks)


def _heading_styles(styles_xml: bytes) -> dict[str, int]:
    """Map the .docx style ids that are headings ("Heading 2", or an outline level) to their level."""
    levels: dict[str, int] = {}
    for style in ElementTree.fromstring(styles_xml).iter(f"{_W}style"):
        sid = style.get(f"{_W}styleId") or ""
        name = style.find(f"{_W}name")
        found = _HEADING_STYLE.fullmatch((name.get(f"{_W}val") or "") if name is not None else "")
        outline = style.find(f"{_W}pPr/{_W}outlineLvl")
        if found:
            levels[sid] = int(found.group(1))
        elif outline is not None and (outline.get(f"{_W}val") or "").isdigit():
            levels[sid] = int(outline.get(f"{_W}val") or 0) + 1
    return levels


def docx_sections(data: bytes, text: str) -> Sections:
    """Return the heading marks of a .docx file, located in its extracted ``text`` in order.

    Args:
        data: The .docx file's bytes.
        text: The text extracted from it (docx2txt's, which keeps each paragraph's characters).

    """
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = set(z.namelist())
        if "word/document.xml" not in names:
            return ()
        levels = _heading_styles(z.read("word/styles.xml")) if "word/styles.xml" in names else {}
        root = ElementTree.fromstring(z.read("word/document.xml"))
    marks: list[tuple[int, str]] = []
    stack: list[tuple[int, str]] = []
    pos = 0
    for para in root.iter(f"{_W}p"):
        style = para.find(f"{_W}pPr/{_W}pStyle")
        level = levels.get(style.get(f"{_W}val") or "") if style is not None else None
        if level is None:
            continue
        title = "".join(t.text or "" for t in para.iter(f"{_W}t")).strip()
        at = text.find(title, pos) if title else -1
        if at >= 0:
            marks.append((at, _path(stack, level, " ".join(title.split()))))
            pos = at + len(title)
    return tuple(marks)
