"""Scanned PDFs: pages without a text layer are read by Tesseract (only those), page numbers kept.

The PDFs are made here from page images (text drawn with Pillow, no text layer). Without Tesseract
(its program made unfindable) the file is listed as skipped with the command that installs it.
"""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from conftest import FARM, cli_env, make_settings
from PIL import Image, ImageDraw, ImageFont

import rag
from rag.core.settings import OcrSettings
from rag.core.types import Scope
from rag.formats.as_markdown import locator
from rag.ingestion.loaders import LoadError, LoadOptions, load_document

CREATED = datetime(2025, 5, 2, 9, 30)  # fixed, so the prompt (which shows dates) is the same every day
INSTALL = "apt-get install tesseract-ocr tesseract-ocr-eng"
PAGES = [
    ["Harbour survey, page one.", "The north quay is 120 metres long."],
    ["Page two covers the moorings.", "There are 44 moorings in the inner basin."],
    [
        "Page three: the lighthouse.",
        "The Kestrel Point lighthouse was repainted",
        "in 1987 by the engineer Ada Lovell.",
    ],
]


def scan(lines: list[str]) -> Image.Image:
    """A letter-size page image at 150 dpi with the lines drawn on it, as a scanner would give."""
    img = Image.new("L", (1275, 1650), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=30)
    for i, line in enumerate(lines):
        draw.text((120, 150 + 50 * i), line, fill=0, font=font)
    return img


def scanned_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A PDF of page images only (Pillow writes no text layer)."""
    images = [scan(lines) for lines in pages]
    images[0].save(
        path, save_all=True, append_images=images[1:], resolution=150, creationDate=CREATED.timetuple()
    )
    return path


def mixed_pdf(path: Path) -> Path:
    """Four pages: text, a scanned image, a blank page, another scanned image."""
    from fpdf import FPDF

    pdf = FPDF(format="letter")
    pdf.set_creation_date(CREATED)
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, "Page one has a text layer: the granary roof was rebuilt in 2004 with slate tiles.")
    for lines in (
        ["The mill pond holds 3,000 cubic metres."],
        None,
        ["The weir was raised by 40 centimetres."],
    ):
        pdf.add_page()
        if lines:
            buf = io.BytesIO()
            scan(lines).save(buf, format="PNG")
            pdf.image(buf, x=0, y=0, w=pdf.w)
    pdf.add_page()
    pdf.multi_cell(0, 8, "Page five has a text layer again and closes the report on the mill.")
    pdf.output(str(path))
    return path


@pytest.fixture
def ocr_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the pages Tesseract is asked to read (the real Tesseract still reads them)."""
    import pytesseract

    real, calls = pytesseract.image_to_string, []

    def counted(image: Image.Image, *args: object, **kwargs: object) -> str:
        calls.append(image.size[0])
        return str(real(image, *args, **kwargs))

    monkeypatch.setattr(pytesseract, "image_to_string", counted)
    return calls


@pytest.fixture
def no_tesseract(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the tesseract program unfindable, as on a machine without the package."""
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")


def test_scanned_pdf_answers_with_the_page_cited(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    scanned_pdf(docs / "survey.pdf", PAGES)
    (docs / "orchard.md").write_text(FARM)
    settings = make_settings(tmp_path / "index")
    report = rag.ingest([docs], settings, show_bar=False)
    assert not report.failures, report.failures
    # Limited to the PDF (rag ask --in): the 135M test model answers cleanly from its three pages.
    where = Scope(paths=("*survey.pdf",))
    answer = rag.ask("Who repainted the Kestrel Point lighthouse?", settings, as_of="2025-06-01", where=where)
    assert not answer.abstained, answer.abstain_reason
    assert "Ada Lovell" in answer.text
    cited = [c.passage.chunk for c in answer.citations if c.supported]
    assert cited and all(c.path.endswith("survey.pdf") for c in cited)
    assert {c.page for c in cited} == {3}
    assert locator(cited[0]) == "p. 3"


def test_mixed_pdf_reads_only_its_image_pages_with_progress_per_page(
    tmp_path: Path, ocr_calls: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    path = mixed_pdf(tmp_path / "mill.pdf")
    ticks: list[tuple[int, int, str]] = []
    options = LoadOptions(OcrSettings(), show_bar=True, progress=lambda *t: ticks.append(t))
    doc, warning = load_document(path, path.read_bytes(), options)
    assert len(ocr_calls) == 2, "page 3 is blank and pages 1 and 5 have text: only 2 and 4 are read"
    assert [t[:2] for t in ticks] == [(1, 2), (2, 2)]
    assert ticks[-1][2] == "OCR mill.pdf page 4"
    assert "OCR mill.pdf" in capsys.readouterr().err  # the progress bar, page by page
    pages = {n: doc.text[s:e] for n, s, e in doc.pages}
    assert sorted(pages) == [1, 2, 4, 5]
    assert "granary roof" in pages[1] and "closes the report" in pages[5]
    assert "3,000 cubic metres" in pages[2] and "40 centimetres" in pages[4]
    assert warning is None


def test_without_tesseract_a_scanned_pdf_is_skipped_with_the_install_command(
    tmp_path: Path, no_tesseract: None
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    scanned_pdf(docs / "survey.pdf", PAGES)
    mixed_pdf(docs / "mill.pdf")
    (docs / "orchard.md").write_text(FARM)
    report = rag.ingest([docs], make_settings(tmp_path / "index"), show_bar=False)
    reasons = {Path(p.path).name: p.reason for p in report.failures}
    assert sorted(reasons) == ["mill.pdf", "survey.pdf"], "never indexed as nothing, never partly"
    assert "no page has a text layer" in reasons["survey.pdf"]
    assert "pages 2 and 4 have no text layer" in reasons["mill.pdf"]
    assert all(INSTALL in r and r.startswith("scanned PDF (") for r in reasons.values())
    assert report.documents_changed == 1  # the Markdown file is in


def test_rag_ingest_without_tesseract_on_path_prints_the_install_command(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    scanned_pdf(docs / "survey.pdf", PAGES[:1])
    bare = tmp_path / "bin"  # a PATH with no tesseract on it
    bare.mkdir()
    env = cli_env(tmp_path / "index", tmp_path, PATH=str(bare))
    rag_cmd = str(Path(sys.executable).with_name("rag"))
    done = subprocess.run(
        [rag_cmd, "ingest", str(docs)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 3, done.stderr
    assert "skipped:" in done.stderr and "survey.pdf" in done.stderr and INSTALL in done.stderr


def test_a_language_without_its_data_names_the_package(tmp_path: Path) -> None:
    path = scanned_pdf(tmp_path / "one.pdf", PAGES[:1])
    options = LoadOptions(OcrSettings(language="deu"))
    with pytest.raises(LoadError, match="apt-get install tesseract-ocr-deu"):
        load_document(path, path.read_bytes(), options)


def test_ocr_off_keeps_text_pages_and_warns(tmp_path: Path) -> None:
    path = mixed_pdf(tmp_path / "mill.pdf")
    doc, warning = load_document(path, path.read_bytes(), LoadOptions(OcrSettings(enabled=False)))
    assert [n for n, _, _ in doc.pages] == [1, 5]
    assert warning and "pages 2 and 4 have no text layer" in warning and "RAG_OCR__ENABLED" in warning
    scanned = scanned_pdf(tmp_path / "survey.pdf", PAGES[:1])
    with pytest.raises(LoadError, match="OCR is off"):
        load_document(scanned, scanned.read_bytes(), LoadOptions(OcrSettings(enabled=False)))
