"""Uploads through the UI never replace each other, are not stored twice, and failed ones do not linger."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import free_port, make_settings
from filelock import FileLock
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from rag import api
from rag.core.errors import RagError
from rag.ui.app import launch


@pytest.fixture
def app(tmp_path):
    s = make_settings(tmp_path / "index")
    demo, url = launch(s, port=free_port())
    try:
        yield s, Client(url, verbose=False)
    finally:
        demo.close()


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def uploads(s) -> list[str]:
    folder = s.data_dir / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_same_name_different_content_are_two_documents(app, tmp_path):
    s, client = app
    first = write(tmp_path / "one", "a.txt", "The blue kettle holds 2 litres of water.\n")
    second = write(tmp_path / "two", "a.txt", "The red teapot was bought in Lisbon in 2019.\n")
    client.predict([handle_file(first)], api_name="/add")
    note, *_ = client.predict([handle_file(second)], api_name="/add")
    assert "Added 1 file(s)" in note
    assert uploads(s) == ["a (2).txt", "a.txt"]
    texts = {(s.data_dir / "uploads" / n).read_text() for n in uploads(s)}
    assert texts == {first.read_text(), second.read_text()}, "neither upload replaced the other"
    assert len(api.list_documents(s)) == 2

    note, *_ = client.predict([handle_file(second)], api_name="/add")
    assert "Already uploaded as a (2).txt" in note
    again = write(tmp_path / "three", "other-name.txt", first.read_text())
    note, *_ = client.predict([handle_file(again)], api_name="/add")
    assert "Already uploaded as a.txt" in note
    assert uploads(s) == ["a (2).txt", "a.txt"] and len(api.list_documents(s)) == 2, "same content: no copy"


def test_names_equal_after_sanitising_are_two_documents(app, tmp_path):
    s, client = app
    q = write(tmp_path / "q", "a?b.txt", "Ferries leave the north pier every 40 minutes.\n")
    star = write(tmp_path / "star", "a*b.txt", "The museum shop sells 12 kinds of postcards.\n")
    client.predict([handle_file(q), handle_file(star)], api_name="/add")
    numbered_name, name = uploads(s)  # Gradio drops "?" and "*" itself ("ab.txt"); we would make "a_b.txt"
    assert numbered_name == name.replace(".txt", " (2).txt")
    assert len(api.list_documents(s)) == 2


def test_failed_upload_is_not_kept_and_leftovers_are_removable(app, tmp_path):
    s, client = app
    junk = tmp_path / "in" / "report.pdf"
    junk.parent.mkdir()
    junk.write_bytes(b"this is not a PDF at all")
    good = write(tmp_path / "in", "notes.md", "The choir rehearses on Tuesdays at 7 pm.\n")
    note, _, _, _, status = client.predict([handle_file(junk), handle_file(good)], api_name="/add")
    assert uploads(s) == ["notes.md"], "the upload ingest could not read is deleted again"
    assert "Problem, not kept: report.pdf" in note
    assert "Uploads not in the index" not in status

    (s.data_dir / "uploads" / "left over.html").write_text("<html><body></body></html>")  # e.g. an old run
    _, _, status = client.predict(api_name="/documents")
    assert "Uploads not in the index" in status and "left over.html" in status
    note, _, _, status = client.predict("upload:left over.html", api_name="/remove")
    assert "Deleted the upload left over.html" in note and "left over.html" not in status
    assert uploads(s) == ["notes.md"]
    for hostile in ("upload:notes.md", "upload:../../index/manifest.json"):  # the menu does not offer them
        with pytest.raises(AppError, match="not in the list of choices"):
            client.predict(hostile, api_name="/remove")
        with pytest.raises(RagError, match="No upload named"):  # nor does the API behind it take them
            api.remove_stray_upload(hostile.removeprefix("upload:"), s)
    assert uploads(s) == ["notes.md"] and (s.index_dir / "manifest.json").is_file()


def test_uploads_of_a_failed_ingest_are_deleted(tmp_path):
    s = make_settings(tmp_path / "index")
    doc = write(tmp_path / "in", "kept.md", "The orchard has 31 pear trees.\n")
    s.index_dir.mkdir(parents=True)
    with FileLock(str(s.index_dir / ".write.lock")), pytest.raises(RagError, match="Another process"):
        api.add_uploads([(doc, "kept.md")], s)
    assert uploads(s) == []
    report = api.add_uploads([(doc, "kept.md")], s)
    assert report.stored == ("kept.md",) and len(api.list_documents(s)) == 1


@pytest.mark.fast
def test_place_upload_never_overwrites(tmp_path):
    from rag.ingestion.uploads import numbered, place_upload

    s = make_settings(tmp_path / "index")
    src = write(tmp_path / "in", "x.md", "one")
    first, existed = place_upload(src, "x.md", s)
    assert (first.name, existed) == ("x.md", False)
    assert place_upload(src, "renamed.md", s) == (first, True)
    (s.data_dir / "uploads" / "x (2).md").write_text("taken by hand")
    src.write_text("two")
    third, existed = place_upload(src, "x.md", s)
    assert (third.name, existed) == ("x (3).md", False) and third.read_text() == "two"
    assert (s.data_dir / "uploads" / "x (2).md").read_text() == "taken by hand"
    assert numbered("a.tar.md", 2) == "a.tar (2).md"
