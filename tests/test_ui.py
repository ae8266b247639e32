"""The Gradio UI through gradio_client against a launched app on a free loopback port."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import NATO, free_port, make_settings
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from rag.api import list_documents
from rag.core.settings import ModelSettings, UiSettings
from rag.core.types import Answer, Chunk, Citation, Passage, SentenceCheck, Timings
from rag.formats.as_html import answer_html, link_markers, sources_html
from rag.ingestion.uploads import UploadError, safe_filename, store_upload
from rag.ui.app import concurrency, exposure_warning, launch

MEETING = "How long did the meeting between Zelenskyy and Trump last?"
BAKERY = """---
title: Marlow bakery
date: 2024-11-05
---
The Marlow village bakery bakes 340 loaves of rye bread every Saturday morning.
"""


def last_reply(chat: list[dict]) -> str:
    """Text of the last chat message (Gradio 6 sends content as a list of parts)."""
    content = chat[-1]["content"]
    return content if isinstance(content, str) else "".join(p.get("text", "") for p in content)


@pytest.fixture(scope="module")
def seed_app(seed_index):
    demo, url = launch(seed_index, host="127.0.0.1", port=free_port())
    try:
        yield url
    finally:
        demo.close()


# --- safe uploads ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("/abs/path/notes.md", "notes.md"),
        ("..", "upload"),
        ("../", "upload"),
        (".hidden.txt", "hidden.txt"),
        ("a/../../b.txt", "b.txt"),
        ("x\x00y.md", "x_y.md"),
        ("rep<or>t?.pdf", "rep_or_t_.pdf"),
        ("Заметки 2024.md", "Заметки 2024.md"),
        ("evil／..／..／x.md", "x.md"),  # fullwidth solidus turns into "/" under NFKC
    ],
)
def test_safe_filename_never_escapes(name, safe, tmp_path):
    assert safe_filename(name) == safe
    assert (tmp_path / safe_filename(name)).resolve().parent == tmp_path.resolve()


def test_safe_filename_keeps_suffix_of_long_names():
    name = safe_filename("x" * 500 + ".docx")
    assert len(name) <= 120 and name.endswith(".docx")


def test_store_upload_limits(tmp_path):
    s = make_settings(tmp_path / "index").model_copy(update={"ui": UiSettings(max_upload_mb=0.001)})
    small, big, exe = tmp_path / "in.md", tmp_path / "big.md", tmp_path / "tool.exe"
    small.write_text("tiny")
    big.write_text("x" * 5_000)
    exe.write_bytes(b"MZ")
    stored = store_upload(small, "../../../etc/notes.md", s)
    assert stored == (tmp_path / "data" / "uploads" / "notes.md").resolve()
    assert stored.read_text() == "tiny"
    with pytest.raises(UploadError, match=r"the limit is 0\.001 MB .*RAG_UI__MAX_UPLOAD_MB"):
        store_upload(big, "big.md", s)
    with pytest.raises(UploadError, match="unsupported type"):
        store_upload(exe, "tool.exe", s)
    assert sorted(p.name for p in (tmp_path / "data" / "uploads").iterdir()) == ["notes.md"]


# --- rendering ------------------------------------------------------------------------------------


def _passage(text: str, start: int, rank: int) -> Passage:
    chunk = Chunk(f"c{rank}", "d1", start, start + len(text), text, "Title <b>", "docs/a.md", "2024-01-02")
    return Passage(chunk, 0.5, rank, "fused", dense_score=0.7)


def test_cards_highlight_quote_escape_text_and_order_cited_first():
    p1 = _passage("Intro <script>x</script>. The fee is 40 euros. Other.", 100, 1)
    p2 = _passage("The garden opens at 9.", 500, 2)
    quote = "The fee is 40 euros."
    qs = 100 + p1.chunk.text.index(quote)
    cite = Citation(1, p1, "The fee is 40 euros.", True, quote, qs, qs + len(quote))
    check = SentenceCheck("The fee is 40 euros.", (1,), True)
    bad = SentenceCheck("It was 12 euros in 1990.", (2,), False, "numbers not in the passage: 12, 1990")
    answer = Answer("q", "...", (cite,), (p1, p2), False, Timings(), (check, bad))
    html = sources_html(answer.passages, 3, answer)
    assert '<mark class="quote">The fee is 40 euros.</mark>' in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "Title &lt;b&gt;" in html
    assert html.index('id="src-3-1"') < html.index('id="src-3-2"')
    assert "not cited" in html.split('id="src-3-2"')[1]
    text = answer_html(answer, 3)
    assert '<a href="#src-3-1" class="cite">[1]</a>' in text
    assert 'class="unsupported"' in text and "numbers not in the passage: 12, 1990" in text
    assert link_markers("a <b> [1, 2]", 1) == (
        'a &lt;b&gt; <a href="#src-1-1" class="cite">[1]</a><a href="#src-1-2" class="cite">[2]</a>'
    )


def test_concurrency_and_exposure_warnings(tmp_path):
    s = make_settings(tmp_path / "index")
    assert concurrency(s) == 1
    server = s.model_copy(update={"model": ModelSettings(backend="openai"), "ui": UiSettings(concurrency=3)})
    assert concurrency(server) == 3
    assert exposure_warning("127.0.0.1", False) == ""
    assert "network" in exposure_warning("0.0.0.0", False)
    assert "public" in exposure_warning("127.0.0.1", True)


# --- the launched app -----------------------------------------------------------------------------


def test_ask_streams_sources_before_tokens_then_cited_answer(seed_app):
    client = Client(seed_app, verbose=False)
    job = client.submit(MEETING, api_name="/ask")
    _, chat, sources = job.result(timeout=180)
    outputs = job.outputs()
    first_sources = next(i for i, o in enumerate(outputs) if "src-card" in str(o[2]))
    first_token = next(i for i, o in enumerate(outputs) if "50" in last_reply(o[1]))
    assert first_sources < first_token, "the passages are shown before the answer streams in"
    reply = last_reply(chat)
    assert "50 minutes" in reply and '<a href="#src-1-1" class="cite">[1]</a>' in reply
    cited = re.search(r'<div class="src-card cited" id="src-1-(\d)">.*?</div></div>', sources)
    assert cited and '<mark class="quote">The meeting, which reportedly lasted 50 minutes' in cited.group()
    assert sources.count("src-card") == 4 and "not cited" in sources

    follow = client.predict("And where did it take place?", api_name="/ask")
    assert 'id="src-2-1"' in follow[2], "the second turn knows the first (history kept per session)"


def test_nato_question_shows_the_passage(seed_app):
    """SmolLM2 may abstain on NATO; either way the five-percent passage is in the sources panel."""
    _, chat, sources = Client(seed_app, verbose=False).predict(NATO, api_name="/ask")
    assert "five percent of gross domestic product" in sources
    reply = last_reply(chat)
    if "Not in your documents" in reply:
        assert "The closest passages" in sources and "src-card cited" not in sources
    else:
        assert 'class="cite"' in reply and '<mark class="quote"' in sources


def test_unanswerable_shows_abstention_and_closest_passages(seed_app):
    _, chat, sources = Client(seed_app, verbose=False).predict(
        "What is the population of Kyiv?", api_name="/ask"
    )
    assert "Not in your documents." in last_reply(chat)
    assert "The closest passages" in sources and sources.count("src-card") >= 1


def test_the_as_of_date_is_shown_and_used(seed_app):
    """Documents dated after the as-of day are not used; the answer says which day it was asked on."""
    client = Client(seed_app, verbose=False)
    _, chat, sources = client.predict(MEETING, as_of="2025-06-26", api_name="/ask")
    assert "50 minutes" in sources and "As of 2025-06-26" in last_reply(chat)
    _, _, before = client.predict(MEETING, as_of="2024-01-01", api_name="/ask")
    assert "50 minutes" not in before, "the seed (2025-06-25) is later than the as-of day"
    _, chat, _ = client.predict(MEETING, as_of="next Tuesday", api_name="/ask")
    assert "Error" in last_reply(chat) and "2025-06-06" in last_reply(chat)


def test_drawer_settings_reach_the_pipeline(seed_app):
    client = Client(seed_app, verbose=False)
    _, _, sources = client.predict(MEETING, k=2, hybrid=False, api_name="/ask")
    assert sources.count("src-card") == 2
    with pytest.raises(AppError, match="not in the list of choices"):  # Gradio's check; ours is below
        client.predict(MEETING, choice="openai", api_name="/ask")
    with pytest.raises(AppError, match="less than minimum"):
        client.predict(MEETING, k=0, api_name="/ask")
    long = "why " * 3_000
    box, chat, _ = client.predict(long, api_name="/ask")
    assert "Error" in last_reply(chat) and "RAG_ANSWER__MAX_QUESTION_CHARS" in last_reply(chat)
    assert box == long.strip(), "the question stays in the box after an error"


def test_drawer_picks_only_configured_models(seed_index):
    """With a model server configured, the drawer offers it and the bundled model, by name only."""
    dead = f"http://127.0.0.1:{free_port()}/v1"
    server = seed_index.model_copy(
        update={"model": seed_index.model.model_copy(update={"backend": "openai", "base_url": dead})}
    )
    demo, url = launch(server, port=free_port())
    try:
        client = Client(url, verbose=False)
        _, chat, _ = client.predict(MEETING, choice="configured", api_name="/ask")
        assert "Error" in last_reply(chat) and dead in last_reply(chat) and "running" in last_reply(chat)
        _, chat, sources = client.predict(MEETING, choice="bundled", api_name="/ask")
        assert "Error" not in last_reply(chat) and "50 minutes" in sources
    finally:
        demo.close()


def test_slow_answer_does_not_block_other_requests(seed_app):
    client = Client(seed_app, verbose=False)
    job = client.submit(MEETING, api_name="/ask")
    table, _, status = client.predict(api_name="/documents")
    assert not job.done(), "listing documents did not wait for the answer"
    assert "3 documents" in status and "all-MiniLM-L6-v2" in status
    assert len(table["data"]) == 3
    job.result(timeout=180)


def test_upload_ask_and_remove(tmp_path):
    s = make_settings(tmp_path / "index").model_copy(update={"ui": UiSettings(max_upload_mb=0.002)})
    demo, url = launch(s, port=free_port())
    try:
        client = Client(url, verbose=False)
        folder = tmp_path / "in"
        folder.mkdir()
        (folder / "bakery.md").write_text(BAKERY)
        (folder / "tool.exe").write_bytes(b"MZ")
        with pytest.raises(AppError, match="Invalid file type"):
            client.predict([handle_file(folder / "tool.exe")], api_name="/add")
        big = httpx.post(f"{url}gradio_api/upload", files={"files": ("big.md", b"word " * 1_000)})
        assert big.status_code == 413, "the server refuses uploads over ui.max_upload_mb"
        note, _, table, _, status = client.predict([handle_file(folder / "bakery.md")], api_name="/add")
        assert "Added 1 file(s)" in note and "1 new or changed" in note
        assert "1 documents" in status and table["data"][0][:3] == ["Marlow bakery", "2024-11-05", 1]
        assert sorted(p.name for p in (tmp_path / "data" / "uploads").iterdir()) == ["bakery.md"]

        _, chat, sources = client.predict(
            "How many loaves of rye bread does the bakery bake?", api_name="/ask"
        )
        assert "340 loaves of rye bread" in sources and "Marlow bakery" in sources
        assert last_reply(chat)

        (doc,) = list_documents(s)
        note, table, _, status = client.predict(doc.doc_id, api_name="/remove")
        assert "Removed" in note and "0 documents" in status
        assert not any(row and row[0] for row in table["data"])
        assert not (tmp_path / "data" / "uploads" / "bakery.md").exists()
    finally:
        demo.close()


def test_rag_ui_command_prints_url_and_serves_on_loopback(seed_index):
    port = free_port()
    rag = Path(sys.executable).with_name("rag")
    proc = subprocess.Popen(
        [str(rag), "--index", str(seed_index.index_dir), "ui", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"open http://127.0.0.1:{port}/ in your browser" in line
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200 and "rag: ask your documents" in page.text
    finally:
        # SIGTERM, not SIGINT: a suite started as a background job of a non-interactive shell
        # (`pytest &`) runs with SIGINT ignored, and this child inherits that. What is tested here is
        # the URL line and the loopback page.
        proc.terminate()
        proc.wait(60)


def test_model_text_cannot_make_the_page_fetch_a_url():
    from rag.formats.as_html import link_markers

    html = link_markers("See ![x](http://198.51.100.7/?q=secret) and [site](http://x.test) [1].", 1)
    assert "![" not in html and "](" not in html
    assert 'class="cite">[1]</a>' in html


def test_drawer_values_are_validated(seed_index):
    from rag.core.errors import RagError
    from rag.ui.handlers import backend_choices, request_settings

    assert list(backend_choices(seed_index)) == ["configured"]
    for choice, k, hybrid in [
        ("bogus", 4, True),
        ("openai", 4, True),
        ("http://127.0.0.1:1/v1", 4, True),
        (None, 4, True),
        ("configured", -3, True),
        ("configured", 21, True),
        ("configured", 10**30, True),
        ("configured", "4", True),
        ("configured", True, True),
        ("configured", 4, "yes"),
    ]:
        with pytest.raises(RagError, match="Invalid choice"):
            request_settings(seed_index, choice, k, hybrid)
    chosen = request_settings(seed_index, "configured", 2.0, False)
    assert chosen.retrieve.top_k == 2 and not chosen.retrieve.hybrid and chosen.model == seed_index.model
