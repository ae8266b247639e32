"""Where a span sits in its document: the PDF page and the heading path, as the loaders find them.

A PDF's pages are joined into one text; each page's (number, start, end) in it is kept. Markdown
and HTML files keep their headings as (start, "Chapter > Section") marks, and an HTML table its
span. A chunk's page is the page holding most of its text (a page number or a heading at the foot
of a page joins the next page's first paragraph); its section is the heading path that covers
most of it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from rag.ingestion.parsed import Blocks, Pages, Sections

SEPARATOR = " > "
CELL_SEPARATOR = " | "
_HTML_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_NEWLINE = re.compile(r"\r\n?|\n")  # what markdown-it counts as a line break


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


def heading_path(stack: list[tuple[int, str]], level: int, title: str) -> str:
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
            marks.append((line_starts[tok.map[0]], heading_path(stack, int(tok.tag[1]), title)))
    return tuple(marks)


def table_lines(rows: Sequence[Sequence[str]]) -> str:
    """Return a table as lines, its cells joined by " | ", empty rows left out (the header stays first)."""
    lines = (CELL_SEPARATOR.join(" ".join(cell.split()) for cell in row) for row in rows)
    return "\n".join(line for line in lines if line.replace("|", "").strip())


def _html_table(table: Any) -> str:
    """Return an HTML table's caption and rows (th and td cells) as lines."""
    rows = [
        [cell.get_text(" ", strip=True) for cell in tr.find_all(["th", "td"], recursive=False)]
        for tr in table.find_all("tr")
    ]
    caption = table.find("caption")
    head = caption.get_text(" ", strip=True) + "\n" if caption else ""
    return head + table_lines(rows)


def _outer_table(string: Any) -> Any:
    """Return the outermost <table> holding an HTML string, or None."""
    found = None
    for parent in string.parents:
        if parent.name == "table":
            found = parent
    return found


def html_text(body: Any) -> tuple[str, Sections, Blocks]:
    """Return the visible text of an HTML element, the heading marks of its h1-h6 and its tables' spans.

    The text is what ``get_text`` gives with a newline between strings, stripped line by line,
    empty lines dropped and blank lines between; walking the strings one by one tells which
    heading each line belongs to. A table becomes one part, a row per line with its cells joined
    by " | " (its header first), kept in one chunk where it fits.
    """
    parts: list[str] = []
    marks: list[tuple[int, str]] = []
    blocks: list[tuple[int, int]] = []
    stack: list[tuple[int, str]] = []
    opened: set[int] = set()
    pos = 0
    for string in body.strings:
        table = _outer_table(string)
        if table is not None:
            if id(table) not in opened:
                opened.add(id(table))
                text = _html_table(table)
                if text:
                    parts.append(text)
                    blocks.append((pos, pos + len(text)))
                    pos += len(text) + 2
            continue
        heading = string.find_parent(_HTML_HEADINGS)
        for line in (x.strip() for x in string.splitlines()):
            if not line:
                continue
            if heading is not None and id(heading) not in opened:
                opened.add(id(heading))
                title = heading.get_text(" ", strip=True)
                marks.append((pos, heading_path(stack, int(heading.name[1]), title)))
            parts.append(line)
            pos += len(line) + 2
    return "\n\n".join(parts), tuple(marks), tuple(blocks)
