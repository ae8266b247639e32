"""Spreadsheets: .xlsx (openpyxl) and .csv (the csv module), a row per part as "column: value" lines.

A sheet's header is its fullest row near the top (a title line above it stays text). Every later
row is written as one "column: value" line per filled cell, so a number keeps its label, and is
cited as "Sheet1 > row 12" (the row number a spreadsheet shows). A row is kept in one chunk, never
merged with the next.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from rag.ingestion.parsed import (
    LoadError,
    LoadOptions,
    Parsed,
    TextBuilder,
    cell_text,
    decode_text,
    iso_date,
    labelled,
)

_HEADER_SEARCH = 10  # the header is looked for among this many filled rows at the top of a sheet


def _add_rows(out: TextBuilder, rows: Iterable[Sequence[object]], where: str) -> None:
    """Add a sheet's rows after its header; row numbers count from 1, as a spreadsheet shows them.

    The header is the first of the first ``_HEADER_SEARCH`` filled rows that fills the most cells:
    a title line above a table ("Quarterly revenue") is kept as text of its own, not taken for it.
    """
    header: list[str] | None = None
    waiting: list[tuple[int, list[str]]] = []  # filled rows read before the header is known
    for number, row in enumerate(rows, 1):
        values = [cell_text(v) for v in row]
        if not any(v.strip() for v in values):
            continue
        if header is not None:
            out.add(labelled(header, values), section=f"{where}row {number}", block=True)
            continue
        waiting.append((number, values))
        if len(waiting) == _HEADER_SEARCH:
            header = _header(out, waiting, where)
    if header is None and waiting:
        _header(out, waiting, where)


def _header(out: TextBuilder, rows: list[tuple[int, list[str]]], where: str) -> list[str]:
    """Pick the header among the first rows, add the rows around it; return the header."""
    filled = [sum(1 for v in values if v.strip()) for _, values in rows]
    at = filled.index(max(filled))
    header = [" ".join(v.split()) for v in rows[at][1]]
    for number, values in rows[:at]:
        out.add(" ".join(v for v in values if v.strip()), section=f"{where}row {number}", block=True)
    for number, values in rows[at + 1 :]:
        out.add(labelled(header, values), section=f"{where}row {number}", block=True)
    return header


def xlsx(data: bytes, _: LoadOptions | None = None) -> Parsed:
    """Read every worksheet of an .xlsx workbook (values as last computed, not formulas)."""
    import openpyxl

    out = TextBuilder()
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file (zip, XML, missing parts)
        raise LoadError(f"corrupt or unreadable .xlsx ({exc})") from None
    try:
        for sheet in book.worksheets:
            _add_rows(out, sheet.iter_rows(values_only=True), f"{sheet.title} > ")
        props = book.properties
        title, created = props.title, props.created
    except Exception as exc:
        raise LoadError(f"corrupt or unreadable .xlsx ({exc})") from None
    finally:
        book.close()
    return out.parsed(title or None, iso_date(created))


def csv_file(data: bytes, _: LoadOptions | None = None) -> Parsed:
    """Read a .csv file; the delimiter (comma, semicolon, tab or bar) is sniffed from its start."""
    text, warning = decode_text(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:16384], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    out = TextBuilder()
    try:
        _add_rows(out, csv.reader(io.StringIO(text, newline=""), dialect), "")
    except csv.Error as exc:
        raise LoadError(f"malformed CSV ({exc}); check its quotes") from None
    return out.parsed(warning=warning)


LOADERS = {".xlsx": xlsx, ".csv": csv_file}
NO_TEXT = {
    ".xlsx": "no rows found in the .xlsx below a header row (a header alone holds no facts)",
    ".csv": "no rows found in the .csv below its header row",
}
