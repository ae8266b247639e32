"""Loaders keep structure: PDF pages and their spans, heading paths of Markdown, HTML and .docx."""

from pathlib import Path

import pytest
from conftest import FARM, LIGHTHOUSE, SEED
from summit import ANSWER_PAGE, PAGES, make_summit_pdf

from rag.core.text import page_of, section_of
from rag.ingestion.chunking import chunk_document, chunk_spans
from rag.ingestion.loaders import load_document
from rag.ingestion.structure import join_pages, markdown_sections

pytestmark = pytest.mark.fast


def load(path: Path):
    return load_document(path, path.read_bytes())[0]


def words(text: str) -> int:
    return len(text.split()) + 2


def chunks_of(doc, max_tokens=200, min_tokens=24):
    return chunk_document(doc, chunk_spans(doc.text, words, max_tokens, min_tokens, 0))


def test_pdf_pages_are_recorded_with_their_spans(tmp_path):
    doc = load(make_summit_pdf(tmp_path / "summit.pdf"))
    assert [p[0] for p in doc.pages] == [1, 2, 3]
    for (number, start, end), text in zip(doc.pages, PAGES, strict=True):
        assert " ".join(doc.text[start:end].split()) == text, f"page {number}'s span holds its text"
    chunks = chunks_of(doc)
    assert [c.page for c in chunks] == [1, 2, 3]
    nato = next(c for c in chunks if "NATO endorsed" in c.text)
    assert nato.page == ANSWER_PAGE and nato.section is None


def test_an_empty_page_keeps_the_numbers_of_the_others():
    text, pages = join_pages(["  first page ", "", "\n", "fourth page"])
    assert text == "first page\n\nfourth page"
    assert pages == ((1, 0, 10), (4, 12, 23))


def test_a_chunk_gets_the_page_that_holds_most_of_it():
    pages = ((1, 0, 100), (2, 102, 300))
    assert page_of(pages, 95, 300) == 2, "a page number at a page's foot joins the next page's paragraph"
    assert page_of(pages, 0, 120) == 1
    assert page_of((), 0, 10) is None


def test_markdown_heading_paths_skip_code_blocks():
    text = (
        "# Guide\n\nintro\n\n## Install\n\nrun it\n\n```\n# not a heading\n```\n\n"
        "Setup\n-----\n\nmore\n\n# Other\n\nx"
    )
    marks = markdown_sections(text)
    assert [path for _, path in marks] == ["Guide", "Guide > Install", "Guide > Setup", "Other"]
    assert all(text[at:].lstrip("# ").startswith(path.split(" > ")[-1]) for at, path in marks)
    assert section_of(marks, text.index("run it"), text.index("run it") + 6) == "Guide > Install"
    assert section_of(marks, text.index("# not"), text.index("# not") + 5) == "Guide > Install"
    assert section_of(((10, "A"),), 0, 5) is None, "text before the first heading has no section"


def test_markdown_file_chunks_carry_their_section(tmp_path):
    p = tmp_path / "orchard.md"
    p.write_text(FARM + "\n## Cider\n\nThe press was bought in 1987 from a farm near Hereford.\n")
    doc = load(p)
    chunks = chunks_of(doc, min_tokens=3)
    assert [c.text[:8] for c in chunks] == ["# Orchar", "The Bram", "The cide", "## Cider", "The pres"]
    assert [c.section for c in chunks] == ["Orchard notes"] * 3 + ["Orchard notes > Cider"] * 2
    assert all(c.page is None for c in chunks)


def test_html_heading_paths(tmp_path):
    html = LIGHTHOUSE.replace(
        "<p>Its keeper", "<h2>The <i>keeper</i></h2><h3>Logs</h3><p>Its keeper"
    ).replace("</body>", "<h2>Visits</h2><p>Open on Sundays.</p></body>")
    p = tmp_path / "l.html"
    p.write_text(html)
    doc = load(p)
    paths = [s for _, s in doc.sections]
    assert paths == [
        "Harbour lighthouse",
        "Harbour lighthouse > The keeper",
        "Harbour lighthouse > The keeper > Logs",
        "Harbour lighthouse > Visits",
    ]
    logged = doc.text.index("logged 212 ships")
    assert section_of(doc.sections, logged, logged + 10) == "Harbour lighthouse > The keeper > Logs"
    assert doc.pages == ()


def test_docx_heading_paths(tmp_path):
    import docx

    d = docx.Document()
    d.add_heading("Boiler manual", level=1)
    d.add_paragraph("Read this first.")
    d.add_heading("Pressure", level=2)
    d.add_paragraph("Keep the pressure between 1.0 and 1.5 bar.")
    d.add_heading("Safety", level=1)
    d.add_paragraph("Turn the gas off before opening the casing.")
    p = tmp_path / "boiler.docx"
    d.save(str(p))
    doc = load(p)
    bar = doc.text.index("1.5 bar")
    assert section_of(doc.sections, bar, bar + 7) == "Boiler manual > Pressure"
    gas = doc.text.index("gas off")
    assert section_of(doc.sections, gas, gas + 7) == "Safety"


def test_plain_text_has_no_page_or_section():
    doc = load(SEED)
    assert doc.pages == () and doc.sections == ()
    assert all(c.page is None and c.section is None for c in chunks_of(doc))
