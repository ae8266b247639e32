"""Small files of every format rag reads, written by the libraries people's programs use, each with facts
found in no other file (the questions in test_formats.py ask for them)."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime
from pathlib import Path

CREATED = datetime(2025, 5, 2, 9, 30)  # fixed, so prompts (which show dates) are the same every day


def pptx(path: Path) -> Path:
    """Three slides; the ferry's cost is on slide 2 only, a table and a speaker note on slide 3."""
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    deck.core_properties.title = "Harbour plan"
    deck.core_properties.created = CREATED
    first = deck.slides.add_slide(deck.slide_layouts[1])
    first.shapes.title.text = "Harbour plan"
    first.placeholders[1].text = "A plan for the harbour's ferry service."
    second = deck.slides.add_slide(deck.slide_layouts[1])
    second.shapes.title.text = "Ferry budget"
    second.placeholders[1].text = "The electric ferry costs 4.2 million euros."
    third = deck.slides.add_slide(deck.slide_layouts[5])
    third.shapes.title.text = "Crew"
    table = third.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(6), Inches(1.5)).table
    for r, row in enumerate([("role", "people"), ("captain", "2"), ("deckhand", "5")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    third.notes_slide.notes_text_frame.text = "Training for the crew starts in March."
    deck.save(str(path))
    return path


def xlsx(path: Path) -> Path:
    """Two sheets; the header sits on row 2 (a title above it), South's revenue is on row 4."""
    import openpyxl

    book = openpyxl.Workbook()
    book.properties.created = CREATED
    sheet = book.active
    sheet.title = "Revenue"
    sheet.append(["Quarterly revenue by region"])
    sheet.append(["region", "quarter", "revenue (euros)"])
    sheet.append(["North", "Q3", 1200])
    sheet.append(["South", "Q3", 8675])
    sheet.append(["West", "Q3", 431.5])
    staff = book.create_sheet("Staff")
    staff.append(["name", "role"])
    staff.append(["Ada Lovell", "orchard engineer"])
    book.save(str(path))
    return path


def csv(path: Path) -> Path:
    """Semicolon-separated; Bob Tanner is on row 3."""
    path.write_text("name;city;age\nAlma Ruiz;Porto;29\nBob Tanner;Galway;47\nCleo Marsh;Bergen;35\n")
    return path


def eml(path: Path) -> Path:
    """One message, sent 2024-03-05, about a boiler repair."""
    path.write_text(
        "From: Ada Lovell <ada@example.org>\nTo: house@example.org\nSubject: Boiler repair\n"
        "Date: Tue, 05 Mar 2024 10:00:00 +0000\nContent-Type: text/plain; charset=utf-8\n\n"
        "Hello,\n\nThe plumber replaced the boiler's pressure valve on Monday. "
        "The bill came to 310 euros.\n\nAda\n"
    )
    return path


def mbox(path: Path) -> Path:
    """Three messages; the offsite venue is in the one of 2024-06-10 (an HTML message)."""
    path.write_text(
        "From ada@example.org Wed May  1 09:00:00 2024\nFrom: ada@example.org\nSubject: Team picnic\n"
        "Date: Wed, 01 May 2024 09:00:00 +0000\n\nThe team picnic is at Riverside Park at noon.\n\n"
        "From bo@example.org Mon Jun 10 08:30:00 2024\nFrom: bo@example.org\nSubject: Offsite venue\n"
        "Date: Mon, 10 Jun 2024 08:30:00 +0000\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n"
        "<html><body><p>The offsite venue is the Granite Hall in Leeds.</p></body></html>\n\n"
        "From cy@example.org Tue Jun 11 07:00:00 2024\nFrom: cy@example.org\nSubject: Re: Offsite venue\n"
        "Date: Tue, 11 Jun 2024 07:00:00 +0000\n\nThanks, I will book the train.\n"
    )
    return path


def ipynb(path: Path) -> Path:
    """A notebook; the nitrogen level is in cell 3 (markdown), a long output in cell 4 is left out."""
    import nbformat

    v4 = nbformat.v4
    notebook = v4.new_notebook()
    notebook.cells = [
        v4.new_markdown_cell("# Soil analysis\nSamples from the east and west fields."),
        v4.new_code_cell(
            "ph = 6.4\nprint('soil pH', ph)", outputs=[v4.new_output("stream", text="soil pH 6.4\n")]
        ),
        v4.new_markdown_cell("The nitrogen level in the east field was 37 ppm in April."),
        v4.new_code_cell(
            "print(list(range(5000)))", outputs=[v4.new_output("stream", text=str(list(range(5000))))]
        ),
    ]
    path.write_text(nbformat.writes(notebook))
    return path


def json_file(path: Path) -> Path:
    """A settings file; server bravo's port is 9443."""
    path.write_text(
        json.dumps(
            {"owner": "Ada", "servers": [{"name": "alpha", "port": 8080}, {"name": "bravo", "port": 9443}]}
        )
    )
    return path


def epub(path: Path) -> Path:
    """An EPUB 3 book of two chapters (zip, container, package file, XHTML), the second with a table."""
    chapter = (
        '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>{t}'
        "</title></head><body><h1>{t}</h1>{body}</body></html>"
    )
    opf = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
        'unique-identifier="id">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">x</dc:identifier>'
        "<dc:title>The Marigold voyages</dc:title><dc:date>1999-04-01</dc:date></metadata><manifest>"
        '<item id="c2" href="text/two.xhtml" media-type="application/xhtml+xml"/>'
        '<item id="c1" href="text/one.xhtml" media-type="application/xhtml+xml"/></manifest>'
        '<spine><itemref idref="c1"/><itemref idref="c2"/></spine></package>'
    )
    container = (
        '<?xml version="1.0"?><container version="1.0" '
        'xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
        '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
        "</rootfiles></container>"
    )
    one = "<p>The schooner Marigold sailed from Falmouth in the spring of 1851.</p>"
    two = (
        "<p>Her cargo on the return voyage:</p><table><tr><th>cargo</th><th>tons</th></tr>"
        "<tr><td>tea</td><td>140</td></tr><tr><td>silk</td><td>12</td></tr></table>"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/container.xml", container)
        z.writestr("OEBPS/content.opf", opf)
        z.writestr("OEBPS/text/one.xhtml", chapter.format(t="The Voyage", body=one))
        z.writestr("OEBPS/text/two.xhtml", chapter.format(t="The Return", body=two))
    return path


def odt(path: Path) -> Path:
    """An OpenDocument text with a heading and a table."""
    from odfdo import Document, Header, Paragraph, Table

    doc = Document("text")
    doc.meta.set_creation_date(CREATED)
    doc.body.append(Header(1, "Kiln log"))
    doc.body.append(Paragraph("The kiln reached 1,260 degrees on the third firing."))
    table = Table("Firings", width=2, height=2)
    table.set_values([["firing", "hours"], ["third", "14"]])
    doc.body.append(table)
    doc.save(str(path))
    return path


def rtf(path: Path) -> Path:
    """An RTF memo."""
    path.write_text(
        r"{\rtf1\ansi{\fonttbl\f0\fswiss Helvetica;}\f0\pard The orchard lease runs until 2031.\par"
        r"\par The rent is paid each Michaelmas.\par}"
    )
    return path


ALL = {
    "deck.pptx": pptx,
    "revenue.xlsx": xlsx,
    "people.csv": csv,
    "repair.eml": eml,
    "team.mbox": mbox,
    "soil.ipynb": ipynb,
    "config.json": json_file,
    "marigold.epub": epub,
    "kiln.odt": odt,
    "lease.rtf": rtf,
}


def write_all(folder: Path) -> dict[str, Path]:
    """Write every format's file into ``folder``; return them by name."""
    folder.mkdir(parents=True, exist_ok=True)
    return {name: make(folder / name) for name, make in ALL.items()}


ALL_SUFFIXES = tuple(Path(name).suffix for name in ALL)
