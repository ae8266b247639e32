"""Text formats: plain text, Markdown (front matter, headings), HTML (headings, tables) and EPUB books."""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from urllib.parse import unquote
from xml.etree import ElementTree

from rag.ingestion.parsed import LoadError, LoadOptions, Parsed, TextBuilder, decode_text, iso_date
from rag.ingestion.structure import html_text, markdown_sections

_DATE_HEADER = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})\b[ \t]*\n?")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_XHTML = ("application/xhtml+xml", "text/html")


def plain(data: bytes, _: LoadOptions | None = None) -> Parsed:
    """Read a text file; a first line ``date YYYY-MM-DD`` becomes the date, not text."""
    text, warning = decode_text(data)
    match = _DATE_HEADER.match(text)
    if match:
        return Parsed(text[match.end() :], None, match.group(1), match.end(), warning)
    return Parsed(text, warning=warning)


def markdown(data: bytes, _: LoadOptions | None = None) -> Parsed:
    """Read Markdown: front matter title and date, the first ``#`` heading as title, heading paths."""
    parsed = plain(data)
    text, offset, title, date = parsed.text, parsed.body_offset, None, parsed.date
    front = _FRONT_MATTER.match(text)
    if front:
        fields = dict(
            (k.strip().lower(), v.strip().strip("\"'"))
            for k, _, v in (line.partition(":") for line in front.group(1).splitlines())
            if v
        )
        title, date = fields.get("title"), date or iso_date(fields.get("date"))
        text, offset = text[front.end() :], offset + front.end()
    heading = re.search(r"^#\s+(.+)$", text, re.M)
    title = title or (heading.group(1).strip() if heading else None)
    return Parsed(text, title, date, offset, parsed.warning, sections=markdown_sections(text))


def html(data: bytes, _: LoadOptions | None = None) -> Parsed:
    """Read HTML: visible text, title, a date meta tag, heading paths, tables kept whole."""
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
    date = iso_date(str(meta.get("content"))) if meta else None
    body, sections, blocks = html_text(soup.body or soup)
    title = title or (h1.get_text(strip=True) if h1 else None)
    return Parsed(body, title, date, 0, warning, (), sections, blocks)


def _opf(book: zipfile.ZipFile) -> tuple[str, ElementTree.Element]:
    """Return the package document's path and root (META-INF/container.xml names it)."""
    container = ElementTree.fromstring(book.read("META-INF/container.xml"))
    rootfile = container.find(".//{*}rootfile")
    path = rootfile.get("full-path") if rootfile is not None else None
    if not path:
        raise LoadError("not an EPUB (META-INF/container.xml names no package file)")
    return path, ElementTree.fromstring(book.read(path))


def epub(data: bytes, _: LoadOptions | None = None) -> Parsed:
    """Read an EPUB book: its chapters in reading order (the spine), with their headings and tables.

    An EPUB is a zip of XHTML chapters listed by a package file; the zip module and the HTML reading
    above are all it takes (EbookLib, the usual library, is AGPL-licensed, which this project is not).
    """
    from bs4 import BeautifulSoup

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            opf_path, opf = _opf(book)
            folder = posixpath.dirname(opf_path)
            items = {
                item.get("id"): item
                for item in opf.iterfind(".//{*}manifest/{*}item")
                if item.get("media-type") in _XHTML
            }
            out = TextBuilder()
            for ref in opf.iterfind(".//{*}spine/{*}itemref"):
                item = items.get(ref.get("idref"))
                if item is None:
                    continue
                name = posixpath.normpath(posixpath.join(folder, unquote(item.get("href") or "")))
                soup = BeautifulSoup(book.read(name).decode("utf-8", "replace"), "html.parser")
                out.extend(*html_text(soup.body or soup))
    except (zipfile.BadZipFile, KeyError, OSError, ElementTree.ParseError) as exc:
        raise LoadError(f"corrupt or unreadable EPUB ({exc})") from None
    title = opf.find(".//{*}metadata/{*}title")
    date = opf.find(".//{*}metadata/{*}date")
    return out.parsed(
        title.text.strip() if title is not None and title.text else None,
        iso_date(date.text) if date is not None else None,
    )


LOADERS = {".txt": plain, ".md": markdown, ".markdown": markdown, ".html": html, ".htm": html, ".epub": epub}
NO_TEXT = {
    ".html": "no text found in the HTML (only markup, scripts or styles)",
    ".htm": "no text found in the HTML (only markup, scripts or styles)",
    ".epub": "no text found in the EPUB (its chapters hold no text, or only images)",
}
