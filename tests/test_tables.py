"""Tables keep their rows together: one chunk with the header where the table fits, whole rows where not.

HTML and .docx tables are measured with the real embedder's tokenizer; the block rules themselves
(a block is never merged with a neighbour; a heading joins the table after it) on the fake one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import FakeEmbedder

from rag.core.settings import EmbedSettings
from rag.core.text import page_of
from rag.ingestion.chunking import chunk_spans
from rag.ingestion.loaders import load_document

ROWS = [("Kestrel", "18", "1871"), ("Heron", "12", "1902"), ("Gannet", "22", "1888"), ("Puffin", "9", "1931")]
HEADER = "lighthouse | range (nautical miles) | built"


def _html(rows: list[tuple[str, str, str]]) -> str:
    cells = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>" for a, b, c in rows)
    return (
        "<html><body><h1>Coast guide</h1><p>The coast has many lighthouses, listed below with their ranges "
        "and the year each one was built, from the survey of the harbour board.</p>"
        "<h2>Ranges</h2><table><tr><th>lighthouse</th><th>range (nautical miles)</th><th>built</th></tr>"
        f"{cells}</table><p>Ranges are measured in clear weather at night by the harbour board.</p>"
        "</body></html>"
    )


def _docx(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    import docx

    d = docx.Document()
    d.add_heading("Coast guide", 1)
    d.add_paragraph("The coast has many lighthouses, listed below with their ranges and years built.")
    table = d.add_table(rows=1 + len(rows), cols=3)
    for r, row in enumerate([("lighthouse", "range (nautical miles)", "built"), *rows]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    d.add_paragraph("Ranges are measured in clear weather at night by the harbour board.")
    d.save(str(path))
    return path


def _pdf(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A two-page PDF (fpdf2, a real text layer) whose second page holds the table between paragraphs."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, "Coast guide. The coast has many lighthouses; the list of their ranges follows.")
    pdf.add_page()
    pdf.multi_cell(0, 6, "The harbour board surveyed every lighthouse on the coast in the spring.")
    pdf.ln(4)
    with pdf.table() as table:
        for row in [("lighthouse", "range (nautical miles)", "built"), *rows]:
            cells = table.row()
            for value in row:
                cells.cell(value)
    pdf.ln(4)
    pdf.multi_cell(0, 6, "Ranges are measured in clear weather at night by the harbour board.")
    pdf.output(str(path))
    return path


@pytest.fixture(scope="module")
def embedder():
    from rag.components import shared_embedder

    return shared_embedder(EmbedSettings())


def _chunks(path: Path, embedder) -> list[str]:
    doc, _ = load_document(path, path.read_bytes())
    return [doc.text[s:e] for s, e in chunk_spans(doc.text, embedder.count_tokens, 200, 24, 24, doc.blocks)]


def _assert_whole_table(chunks: list[str]) -> None:
    holding = [c for c in chunks if "Kestrel" in c or "Puffin" in c or HEADER in c]
    assert len(holding) == 1, holding
    table = "\n".join([HEADER, *(" | ".join(r) for r in ROWS)])
    assert table in holding[0]


def test_an_html_table_is_one_chunk_with_its_header(tmp_path: Path, embedder) -> None:
    path = tmp_path / "coast.html"
    path.write_text(_html(ROWS))
    _assert_whole_table(_chunks(path, embedder))


def test_a_docx_table_is_one_chunk_with_its_header(tmp_path: Path, embedder) -> None:
    _assert_whole_table(_chunks(_docx(tmp_path / "coast.docx", ROWS), embedder))


def test_a_pdf_table_is_one_chunk_with_its_header_on_its_page(tmp_path: Path, embedder) -> None:
    path = _pdf(tmp_path / "coast.pdf", ROWS)
    _assert_whole_table(_chunks(path, embedder))
    doc, _ = load_document(path, path.read_bytes())
    start = doc.text.index(HEADER)
    assert (
        page_of(doc.pages, start, start + len(HEADER)) == 2
        and "surveyed every lighthouse" in doc.text[:start]
    )
    assert doc.text.index("Ranges are measured") > start, "the text below the table follows it"


def test_a_long_table_is_cut_between_rows(tmp_path: Path, embedder) -> None:
    rows = [(f"Light{i:03d} Point", str(5 + i % 20), str(1850 + i)) for i in range(120)]
    path = tmp_path / "coast.html"
    path.write_text(_html(rows))
    lines = {HEADER, *(" | ".join(r) for r in rows)}
    pieces = [c for c in _chunks(path, embedder) if " Point | " in c or HEADER in c]
    assert len(pieces) > 2
    assert pieces[0].endswith(HEADER) or HEADER in pieces[0].splitlines()
    for piece in pieces:
        table_lines = [line for line in piece.splitlines() if "|" in line]
        assert table_lines and set(table_lines) <= lines, "a row was cut in the middle"
    found = [line for piece in pieces for line in piece.splitlines() if line in lines]
    assert found == [HEADER, *(" | ".join(r) for r in rows)], "every row once, in order (no overlap)"


@pytest.mark.fast
def test_blocks_are_never_merged_but_a_heading_joins_the_table_after_it() -> None:
    e = FakeEmbedder()
    text = "Costs\n\nitem: roof\ncost: 4200\n\nitem: door\ncost: 310\n\nA closing remark follows here."
    rows = [
        (text.index("item: roof"), text.index("cost: 4200") + 10),
        (text.index("item: door"), text.index("310") + 3),
    ]
    spans = chunk_spans(text, e.count_tokens, 200, 24, 0, rows)
    assert [text[s:t] for s, t in spans] == [
        "Costs\n\nitem: roof\ncost: 4200",  # the short heading joins the block after it
        "item: door\ncost: 310",  # a short block is not merged into the next paragraph
        "A closing remark follows here.",
    ]
    assert chunk_spans(text, e.count_tokens, 200, 24, 0) == [
        (0, text.index("item: door") - 2),
        (spans[1][0], len(text)),
    ]
