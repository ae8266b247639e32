import re
from pathlib import Path

import pytest
from conftest import FARM, LIGHTHOUSE, SEED

from rag.ingestion.loaders import LoadError, load_document

pytestmark = pytest.mark.fast


def load(path: Path):
    return load_document(path, path.read_bytes())


def test_seed_date_header_is_metadata_not_text():
    doc, warning = load(SEED)
    assert doc.date == "2025-06-25"
    assert not doc.text.lstrip().startswith("date")
    assert doc.text.startswith("Ukrainian President")
    raw = SEED.read_text()
    assert raw[doc.body_offset :] == doc.text
    assert warning is None


def test_markdown_front_matter(tmp_path):
    p = tmp_path / "orchard.md"
    p.write_text(FARM)
    doc, _ = load(p)
    assert (doc.title, doc.date) == ("Orchard notes", "2024-04-02")
    assert "Bramley" in doc.text and "---" not in doc.text


def test_html_title_date_and_text(tmp_path):
    p = tmp_path / "l.html"
    p.write_text(LIGHTHOUSE)
    doc, _ = load(p)
    assert (doc.title, doc.date) == ("Harbour lighthouse", "2023-09-14")
    assert "18 nautical miles" in doc.text and "<p>" not in doc.text


def test_pdf_text_and_metadata(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.set_title("Bridge report")
    pdf.set_creation_date(__import__("datetime").datetime(2022, 3, 4))
    pdf.multi_cell(0, 8, "The Selby bridge carries 9,000 vehicles a day.")
    p = tmp_path / "bridge.pdf"
    pdf.output(str(p))
    doc, _ = load(p)
    assert doc.title == "Bridge report" and doc.date == "2022-03-04"
    assert "9,000 vehicles" in doc.text


def test_docx_text_and_title(tmp_path):
    import docx

    d = docx.Document()
    d.core_properties.title = "Boiler manual"
    d.add_paragraph("Bleed the radiator when the pressure drops below 1.2 bar.")
    p = tmp_path / "boiler.docx"
    d.save(str(p))
    doc, _ = load(p)
    assert doc.title == "Boiler manual"
    assert "1.2 bar" in doc.text


def test_non_utf8_text_is_decoded_with_a_warning(tmp_path):
    p = tmp_path / "latin.txt"
    p.write_bytes("Café prices rose 3 percent.".encode("cp1252"))
    doc, warning = load(p)
    assert "Café" in doc.text
    assert warning and "cp1252" in warning


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"  \n\n ", "empty"),
        ("binary.txt", b"\x00\x01\x02PNG\x00" * 20, "binary"),
        ("broken.pdf", b"%PDF-1.4\n this is not really a pdf", "PDF"),
        ("broken.docx", b"PK\x03\x04 not a zip", "docx"),
        ("image.png", b"\x89PNG data", "unsupported"),
    ],
)
def test_bad_files_raise_clear_errors(tmp_path, name, data, reason):
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(LoadError, match=reason):
        load(p)


def test_utf16_text_with_bom_is_read(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_bytes("Ferry tickets cost 12 euros.".encode("utf-16"))
    doc, warning = load(p)
    assert "12 euros" in doc.text and warning is None


def test_password_protected_pdf_says_so(tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("secret", algorithm="RC4-128")
    p = tmp_path / "locked.pdf"
    with p.open("wb") as fh:
        writer.write(fh)
    with pytest.raises(LoadError, match="password"):
        load(p)


def _blank_pdf() -> bytes:
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        (
            "empty.html",
            b"<html><head><title>T</title><script>var x = 1;</script></head><body> </body></html>",
            "in the HTML",
        ),
        ("blank.pdf", _blank_pdf(), "in the PDF (its pages are blank"),
        ("dated.txt", b"date 2024-01-02\n  \n", "after its header"),
    ],
)
def test_no_text_is_reported_in_the_terms_of_its_format(tmp_path, name, data, reason):
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(LoadError, match=re.escape(reason)) as caught:
        load(p)
    assert name.endswith(".pdf") or "OCR" not in str(caught.value)


def test_pypdf_warnings_go_into_the_reason_not_onto_stderr(tmp_path, capfd):
    p = tmp_path / "corrupt.pdf"
    p.write_bytes(b"%PDF-1.7\n garbage")
    with pytest.raises(LoadError, match="EOF marker not found"):
        load(p)
    assert "EOF marker" not in capfd.readouterr().err
