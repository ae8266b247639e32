"""What every loader returns (Parsed), the options it is given, and the helpers all loaders share."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from rag.core.settings import OcrSettings

Pages = tuple[tuple[int, int, int], ...]  # (page number from 1, start, end) in the document text
Sections = tuple[tuple[int, str], ...]  # (start in the document text, heading path), in order
Blocks = tuple[tuple[int, int], ...]  # (start, end) of a unit kept whole in one chunk where it fits
PageProgress = Callable[[int, int, str], None]  # (done, total, message), e.g. OCR page by page
_ISO_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


class LoadError(Exception):
    """A file that cannot be turned into text; the message is the reason shown to the user."""


@dataclass(frozen=True)
class LoadOptions:
    """How loaders read a file: OCR settings, and where slow work (OCR) reports its progress."""

    ocr: OcrSettings = field(default_factory=OcrSettings)
    show_bar: bool = False
    progress: PageProgress | None = None
    name: str = ""  # the file's name, for progress messages


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
    blocks: Blocks = ()


Loader = Callable[[bytes, LoadOptions], Parsed]


def iso_date(value: str | date | None) -> str | None:
    """Return YYYY-MM-DD from a date, a datetime or a string holding one (None when there is none)."""
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    match = _ISO_DATE.search(value or "")
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}" if match else None


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


class TextBuilder:
    """Joins a file's parts with blank lines and notes where each page, heading and block lands."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.pages: list[tuple[int, int, int]] = []
        self.sections: list[tuple[int, str]] = []
        self.blocks: list[tuple[int, int]] = []

    def add(
        self, text: str, section: str | None = None, page: int | None = None, block: bool = False
    ) -> None:
        """Append one part (stripped; an empty one is left out).

        Args:
            text: The part; it may hold blank lines of its own.
            section: The heading path from this part on ("Sheet1 > row 12"); None keeps the last one.
            page: The page or slide the part is on.
            block: Keep the part in one chunk where it fits, never merged with a neighbour.

        """
        text = text.strip()
        if not text:
            return
        if self.parts:
            self.pos += 2  # the "\n\n" between parts
        start, self.pos = self.pos, self.pos + len(text)
        self.parts.append(text)
        if section is not None and (not self.sections or self.sections[-1][1] != section):
            self.sections.append((start, section))
        if page is not None:
            if self.pages and self.pages[-1][0] == page:
                self.pages[-1] = (page, self.pages[-1][1], self.pos)
            else:
                self.pages.append((page, start, self.pos))
        if block:
            self.blocks.append((start, self.pos))

    def extend(
        self, text: str, sections: Sections = (), blocks: Blocks = (), page: int | None = None
    ) -> None:
        """Append a part that has its own heading marks and blocks (offsets into ``text``)."""
        if not text.strip():
            return
        lead = len(text) - len(text.lstrip())
        shift = (self.pos + 2 if self.parts else 0) - lead
        self.add(text, page=page)
        self.sections.extend((start + shift, path) for start, path in sections)
        self.blocks.extend((start + shift, end + shift) for start, end in blocks)

    def parsed(self, title: str | None = None, date: str | None = None, warning: str | None = None) -> Parsed:
        """Return the text built so far with its pages, sections and blocks."""
        return Parsed(
            "\n\n".join(self.parts),
            title,
            date,
            0,
            warning,
            tuple(self.pages),
            tuple(self.sections),
            tuple(self.blocks),
        )


def labelled(names: list[str], values: list[str]) -> str:
    """Return "name: value" lines for the non-empty values (a number keeps its column's label)."""
    lines = []
    for i, value in enumerate(values):
        if value.strip():
            name = names[i] if i < len(names) and names[i].strip() else f"column {i + 1}"
            lines.append(f"{name}: {' '.join(value.split())}")
    return "\n".join(lines)


def cell_text(value: object) -> str:
    """Return a spreadsheet or JSON value as text: whole floats without ".0", dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ").removesuffix(" 00:00:00")
    return str(value)
