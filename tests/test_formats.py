"""Every new format end to end: made here, ingested, asked about; the citation names where the answer is.

One index holds a file of each format (tests/format_files.py) and two of the seed-test documents.
Each question's answer is in one file only. Retrieval, over the whole index, must rank that file's
passage first with the right citation fields. One question per format family also goes through
``rag.ask`` with SmolLM2: the checked answer must cite the right slide, sheet and row, message, cell
or chapter. Those asks are limited to the file (``rag ask --in``): with ten passages of "label:
value" lines, the 135M test model mostly echoes the passage list instead of answering.
"""

from __future__ import annotations

from pathlib import Path

import format_files
import pytest
from conftest import FARM, LIGHTHOUSE, make_settings

import rag
from rag.core.settings import Settings
from rag.core.types import Scope
from rag.formats.as_markdown import locator
from rag.ingestion.uploads import SUFFIXES as UPLOADABLE
from rag.pipeline import Pipeline


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One index of every format; the index folder sits inside the documents folder (it must be skipped)."""
    base = tmp_path_factory.mktemp("formats")
    docs = base / "docs"
    format_files.write_all(docs)
    (docs / "orchard.md").write_text(FARM)
    (docs / "lighthouse.html").write_text(LIGHTHOUSE)
    settings = make_settings(docs / "index")
    rag.ingest([docs], settings, show_bar=False)
    report = rag.ingest([docs], settings, show_bar=False)  # the index now holds .json files: still skipped
    assert not report.failures, report.failures
    return settings


def test_every_format_is_read_with_its_title_and_date(indexed: Settings) -> None:
    infos = {Path(i.path).name: i for i in rag.list_documents(indexed)}
    assert sorted(infos) == sorted([*format_files.ALL, "orchard.md", "lighthouse.html"])
    assert infos["deck.pptx"].title == "Harbour plan"
    assert infos["revenue.xlsx"].title == "revenue"  # a sheet's first row is no title: the file name
    assert (infos["repair.eml"].title, infos["repair.eml"].date) == ("Boiler repair", "2024-03-05")
    assert infos["team.mbox"].date == "2024-06-11", "a mailbox is dated by its newest message"
    assert (infos["marigold.epub"].title, infos["marigold.epub"].date) == (
        "The Marigold voyages",
        "1999-04-01",
    )


@pytest.mark.parametrize(
    ("question", "name", "section", "words"),
    [
        ("How much does the electric ferry cost?", "deck.pptx", "Slide 2: Ferry budget", "4.2"),
        ("What was the South region's revenue?", "revenue.xlsx", "Revenue > row 4", "8675"),
        ("What did the boiler repair bill come to?", "repair.eml", "Boiler repair (2024-03-05)", "310"),
        ("What was the nitrogen level in the east field?", "soil.ipynb", "cell 3", "37"),
        ("Where did the schooner Marigold sail from?", "marigold.epub", "The Voyage", "Falmouth"),
    ],
)
def test_ask_cites_the_slide_row_message_cell_or_chapter(
    indexed: Settings, question: str, name: str, section: str, words: str
) -> None:
    answer = rag.ask(question, indexed, as_of="2025-06-01", where=Scope(paths=(f"*{name}",)))
    assert not answer.abstained, (answer.abstain_reason, answer.draft)
    assert words.lower() in answer.text.lower()
    cited = [c.passage.chunk for c in answer.citations if c.supported]
    assert cited, answer.draft
    assert {Path(c.path).name for c in cited} == {name}
    assert {c.section for c in cited} == {section}
    assert locator(cited[0]).startswith(f"§ {section}")
    if name == "deck.pptx":
        assert cited[0].page == 2  # the slide number is the page (the PDF viewer's #page=2 for decks too)


@pytest.mark.parametrize(
    ("question", "name", "section", "text"),
    [
        ("How old is Bob Tanner?", "people.csv", "row 3", "name: Bob Tanner\ncity: Galway\nage: 47"),
        ("Where is the offsite venue?", "team.mbox", "Offsite venue (2024-06-10)", "Granite Hall in Leeds"),
        ("Which port does the server bravo use?", "config.json", "servers", "servers[1].port: 9443"),
        ("What temperature did the kiln reach on the third firing?", "kiln.odt", "Kiln log", "1,260 degrees"),
        ("Until which year does the orchard lease run?", "lease.rtf", None, "runs until 2031"),
        ("How many deckhands are in the crew?", "deck.pptx", "Slide 3: Crew", "role | people\ncaptain | 2"),
        ("When does training for the crew start?", "deck.pptx", "Slide 3: Crew", "Notes: Training"),
        ("What is Ada Lovell's role?", "revenue.xlsx", "Staff > row 2", "name: Ada Lovell\nrole: orchard"),
        ("How many tons of tea were carried?", "marigold.epub", "The Return", "cargo | tons\ntea | 140"),
    ],
)
def test_retrieval_finds_the_file_and_its_place(
    indexed: Settings, question: str, name: str, section: str | None, text: str
) -> None:
    top = Pipeline.from_settings(indexed).retrieve(question)[0].chunk
    assert Path(top.path).name == name
    assert top.section == section
    assert text in top.text


def test_a_spreadsheet_row_is_one_chunk_with_its_labels(indexed: Settings) -> None:
    passages = Pipeline.from_settings(indexed).retrieve("revenue of the North region", top_k=10)
    rows = [p.chunk for p in passages if p.chunk.path.endswith("revenue.xlsx")]
    assert rows and all(c.section and " > row " in c.section for c in rows)
    north = next(c for c in rows if "North" in c.text)
    assert north.text == "region: North\nquarter: Q3\nrevenue (euros): 1200"  # one row, never merged


def test_long_notebook_outputs_are_left_out(tmp_path: Path) -> None:
    from rag.ingestion.loaders import load_document

    path = format_files.ipynb(tmp_path / "soil.ipynb")
    doc, _ = load_document(path, path.read_bytes())
    assert "soil pH 6.4" in doc.text and "4999" not in doc.text
    assert "[an output of 28,890 characters is left out]" in doc.text


def test_the_upload_box_and_the_open_route_take_the_new_types(indexed: Settings) -> None:
    from rag.ui.open_route import open_document

    assert set(format_files.ALL_SUFFIXES) <= set(UPLOADABLE)
    info = next(i for i in rag.list_documents(indexed) if i.path.endswith("revenue.xlsx"))
    response = open_document(indexed, info.doc_id, None, None, None, None)
    assert response.status_code == 200
    assert b"revenue (euros): 8675" in response.body
