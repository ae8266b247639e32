"""Finding 2: the "open" route serves only the file that was indexed, never what a symbolic link now names.

Each case changes the file system under an indexed document the way an attacker (or an accident)
could, then asks for it: by the route's own function on every case, and once through a launched
page exactly as the finding was reported (``GET /rag/open/<id>`` after ``ln -s /etc/passwd``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest
from conftest import FARM, free_port, make_settings
from summit import make_summit_pdf

from rag import ingest
from rag.api import list_documents
from rag.core.settings import Settings
from rag.ui.app import launch
from rag.ui.open_route import open_document

SECRET = "the safe code is 4711"


@pytest.fixture
def indexed(tmp_path: Path) -> tuple[Settings, Path]:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(FARM)
    make_summit_pdf(docs / "report.pdf")
    (tmp_path / "secret.txt").write_text(SECRET)
    make_summit_pdf(tmp_path / "other.pdf")
    with (tmp_path / "other.pdf").open("ab") as fh:
        fh.write(b"\n% a different PDF\n")
    s = make_settings(tmp_path / "index")
    ingest([docs], s, show_bar=False)
    return s, docs


def opened(s: Settings, name: str):  # type: ignore[no-untyped-def]
    doc_id = next(i.doc_id for i in list_documents(s) if i.path.endswith(name))
    return open_document(s, doc_id, 0, 10, None, None)


def test_the_indexed_files_open(indexed):
    s, docs = indexed
    assert opened(s, "a.md").status_code == 200
    pdf = opened(s, "report.pdf")
    assert pdf.status_code == 200 and pdf.body == (docs / "report.pdf").read_bytes()


def test_a_text_file_replaced_by_a_link_to_another_file_is_refused(indexed, tmp_path):
    s, docs = indexed
    (docs / "a.md").rename(tmp_path / "moved.md")
    (docs / "a.md").symlink_to(tmp_path / "secret.txt")
    page = opened(s, "a.md")
    assert page.status_code == 409 and SECRET not in page.body.decode()
    assert "symbolic link" in page.body.decode() and "ingest" in page.body.decode()


def test_a_link_to_a_copy_of_the_same_bytes_is_still_refused(indexed, tmp_path):
    s, docs = indexed
    shutil.copy(docs / "a.md", tmp_path / "copy.md")
    (docs / "a.md").unlink()
    (docs / "a.md").symlink_to(tmp_path / "copy.md")
    assert opened(s, "a.md").status_code == 409, "no link is followed out of what was ingested"


def test_a_pdf_replaced_by_a_link_or_rewritten_is_refused(indexed, tmp_path):
    s, docs = indexed
    original = (docs / "report.pdf").read_bytes()
    (docs / "report.pdf").unlink()
    (docs / "report.pdf").symlink_to(tmp_path / "other.pdf")
    linked = opened(s, "report.pdf")
    assert linked.status_code == 409 and linked.body != (tmp_path / "other.pdf").read_bytes()
    (docs / "report.pdf").unlink()
    (docs / "report.pdf").write_bytes((tmp_path / "other.pdf").read_bytes())  # same path, other bytes
    changed = opened(s, "report.pdf")
    assert changed.status_code == 409 and "changed since it was indexed" in changed.body.decode()
    (docs / "report.pdf").write_bytes(original)
    assert opened(s, "report.pdf").status_code == 200


def test_a_folder_on_the_path_replaced_by_a_link_is_refused(indexed, tmp_path):
    s, docs = indexed
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a.md").write_text(SECRET)
    docs.rename(tmp_path / "docs-moved")
    docs.symlink_to(elsewhere, target_is_directory=True)
    page = opened(s, "a.md")
    assert page.status_code == 409 and SECRET not in page.body.decode()


def test_a_link_loop_a_changed_file_and_a_gone_file_each_say_what_happened(indexed):
    s, docs = indexed
    (docs / "a.md").write_text(FARM + "\nA line added later.\n")
    changed = opened(s, "a.md")
    assert changed.status_code == 409 and "changed since it was indexed" in changed.body.decode()
    (docs / "a.md").unlink()
    gone = opened(s, "a.md")
    assert gone.status_code == 404 and "no longer there" in gone.body.decode()
    os.symlink(docs / "a.md", docs / "a.md.tmp")
    (docs / "a.md.tmp").rename(docs / "a.md")  # a.md -> a.md: a loop
    loop = opened(s, "a.md")
    assert loop.status_code == 409 and "loop" in loop.body.decode()


def test_the_reported_attack_through_the_launched_page(indexed, tmp_path):
    s, docs = indexed
    doc_id = next(i.doc_id for i in list_documents(s) if i.path.endswith("a.md"))
    demo, url = launch(s, port=free_port())
    try:
        assert httpx.get(f"{url}rag/open/{doc_id}", timeout=30).status_code == 200
        (docs / "a.md").rename(tmp_path / "x")
        (docs / "a.md").symlink_to("/etc/passwd")
        page = httpx.get(f"{url}rag/open/{doc_id}", timeout=30)
        assert page.status_code == 409 and "root:" not in page.text, page.text
        assert "symbolic link" in page.text
    finally:
        demo.close()
