"""The source card's "open" action, the scope menu and Markdown export, on a launched page."""

from __future__ import annotations

import re
import shutil

import httpx
import pytest
from conftest import FARM, LIGHTHOUSE, free_port, make_settings
from gradio_client import Client
from gradio_client.exceptions import AppError
from summit import ANSWER_PAGE, AS_OF, QUESTION, make_summit_pdf

from rag import ingest
from rag.api import list_documents, remove_document
from rag.core.errors import RagError
from rag.core.settings import Settings, UiSettings
from rag.core.types import Answer, Chunk, Citation, Passage, Scope, SentenceCheck, Timings
from rag.formats.as_markdown import answer_markdown, locator
from rag.ingestion.loaders import doc_id_for
from rag.ui.app import launch


@pytest.fixture(scope="module")
def summit_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The summit PDF (collection reports) and two notes (collection notes)."""
    base = tmp_path_factory.mktemp("summit")
    make_summit_pdf(base / "docs" / "reports" / "summit.pdf")
    notes = base / "docs" / "notes"
    notes.mkdir()
    (notes / "orchard.md").write_text(FARM)
    (notes / "lighthouse.html").write_text(LIGHTHOUSE)
    (base / "docs" / "secret.txt").write_text("not indexed: the safe code is 4711")
    s = make_settings(base / "index")
    ingest([base / "docs" / "reports"], s, show_bar=False, collection="reports")
    ingest([notes], s, show_bar=False, collection="notes")
    return s


@pytest.fixture(scope="module")
def summit_app(summit_index):
    demo, url = launch(summit_index, port=free_port())
    try:
        yield url
    finally:
        demo.close()


def doc_id(s: Settings, suffix: str) -> str:
    return next(i.doc_id for i in list_documents(s) if i.path.endswith(suffix))


def last_reply(chat: list[dict]) -> str:
    content = chat[-1]["content"]
    return content if isinstance(content, str) else "".join(p.get("text", "") for p in content)


# --- the open route ----------------------------------------------------------------------------------


def test_open_serves_the_indexed_pdf_as_it_is(summit_index, summit_app):
    pdf = summit_index.index_dir.parent / "docs" / "reports" / "summit.pdf"
    page = httpx.get(f"{summit_app}rag/open/{doc_id(summit_index, 'summit.pdf')}?start=0&end=5", timeout=30)
    assert page.status_code == 200 and page.headers["content-type"] == "application/pdf"
    assert page.content == pdf.read_bytes()
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["content-disposition"] == 'inline; filename="summit.pdf"'


def test_open_shows_a_text_file_with_the_cited_span_marked(summit_index, summit_app):
    orchard = doc_id(summit_index, "orchard.md")
    text = (summit_index.index_dir.parent / "docs" / "notes" / "orchard.md").read_text()
    body = text[text.index("# Orchard") :]
    start, end = body.index("The Bramley"), body.index("Ada Lovell.") + len("Ada Lovell.")
    qs, qe = body.index("planted in 1998"), body.index("planted in 1998") + len("planted in 1998")
    page = httpx.get(f"{summit_app}rag/open/{orchard}?start={start}&end={end}&qs={qs}&qe={qe}", timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src" not in page.headers["content-security-policy"]
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert (
        '<mark class="passage">The Bramley apple trees in the north orchard were '
        '<mark class="quote" id="cited">planted in 1998</mark> by Ada Lovell.</mark>'
    ) in page.text
    lighthouse = httpx.get(f"{summit_app}rag/open/{doc_id(summit_index, '.html')}", timeout=30)
    assert "<h1>" not in lighthouse.text and "18 nautical miles" in lighthouse.text, "HTML is shown as text"


@pytest.mark.parametrize(
    "path",
    [
        "../../../../etc/passwd",
        "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "%2e%2e/%2e%2e/etc/passwd",
        "/etc/passwd",
        "..",
        "0123456789abcdef",
        "0123456789ABCDEF",
        "x" * 5000,
    ],
)
def test_open_refuses_anything_but_an_indexed_document(summit_app, path):
    page = httpx.get(f"{summit_app}rag/open/{path}", timeout=30)
    assert page.status_code == 404 and "root:x:0" not in page.text


def test_open_refuses_an_existing_file_that_is_not_indexed(summit_index, summit_app):
    secret = summit_index.index_dir.parent / "docs" / "secret.txt"
    page = httpx.get(f"{summit_app}rag/open/{doc_id_for(secret)}", timeout=30)
    assert page.status_code == 404 and "4711" not in page.text


def test_open_forgets_a_removed_document_and_says_when_a_file_is_gone(tmp_path):
    s = make_settings(tmp_path / "index")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(FARM)
    (docs / "b.html").write_text(LIGHTHOUSE)
    ingest([docs], s, show_bar=False)
    a, b = doc_id(s, "a.md"), doc_id(s, "b.html")
    demo, url = launch(s, port=free_port())
    try:
        assert httpx.get(f"{url}rag/open/{a}", timeout=30).status_code == 200
        remove_document(a, s)
        assert httpx.get(f"{url}rag/open/{a}", timeout=30).status_code == 404
        shutil.move(docs / "b.html", tmp_path / "moved.html")
        gone = httpx.get(f"{url}rag/open/{b}", timeout=30)
        assert gone.status_code == 404 and "ingest it again" in gone.text
    finally:
        demo.close()


def test_open_asks_for_the_same_login_as_the_page(summit_index):
    s = summit_index.model_copy(update={"ui": UiSettings(auth="ada:correct-horse")})
    demo, url = launch(s, port=free_port())
    target = f"{url}rag/open/{doc_id(s, 'summit.pdf')}"
    try:
        assert httpx.get(target, timeout=30).status_code == 401
        with httpx.Client(timeout=30) as browser:
            wrong = browser.post(f"{url}login", data={"username": "ada", "password": "nope"})
            assert wrong.status_code >= 400 and browser.get(target).status_code == 401
            browser.post(f"{url}login", data={"username": "ada", "password": "correct-horse"})
            assert browser.get(target).status_code == 200
    finally:
        demo.close()


# --- the chat: page on the card, the scope menu, Markdown -------------------------------------------


def test_the_card_shows_the_page_and_opens_the_pdf_there(summit_index, summit_app):
    client = Client(summit_app, verbose=False)
    _, chat, sources = client.predict(QUESTION, as_of=AS_OF, api_name="/ask")
    assert "Not in your documents" not in last_reply(chat), last_reply(chat)
    card = re.search(r'<div class="src-card cited" id="src-1-\d">.*?</div></div>', sources, re.S)
    assert card, sources
    assert f'<span class="src-loc">p. {ANSWER_PAGE}</span>' in card.group()
    link = re.search(r'href="(rag/open/[0-9a-f]{16}\?[^"#]*#page=(\d+))"', card.group())
    assert link and int(link.group(2)) == ANSWER_PAGE
    assert link.group(1).startswith(f"rag/open/{doc_id(summit_index, 'summit.pdf')}?")
    pdf = httpx.get(summit_app + link.group(1).split("#")[0], timeout=30)
    assert pdf.headers["content-type"] == "application/pdf"


def scoped_client(url: str) -> Client:
    """A session that has loaded the "Search only in" menu, as the page does when it opens."""
    client = Client(url, verbose=False)
    client.predict(api_name="/scopes")
    return client


def test_the_scope_menu_limits_the_chat(summit_index, summit_app):
    _, chat, sources = scoped_client(summit_app).predict(
        QUESTION, as_of=AS_OF, scope=["col:notes"], api_name="/ask"
    )
    assert "Not in your documents" in last_reply(chat)
    assert "summit.pdf" not in sources and "orchard.md" in sources
    one = doc_id(summit_index, "summit.pdf")
    _, chat, sources = scoped_client(summit_app).predict(
        QUESTION, as_of=AS_OF, scope=[f"doc:{one}"], api_name="/ask"
    )
    assert "orchard.md" not in sources and "summit.pdf" in sources


@pytest.mark.parametrize("hostile", [["doc:../../etc/passwd"], ["col:nope"], "col:notes", [{"x": 1}], 7])
def test_the_scope_menu_takes_only_what_it_lists(summit_app, hostile):
    try:
        _, chat, _ = scoped_client(summit_app).predict(QUESTION, scope=hostile, api_name="/ask")
    except AppError as exc:  # Gradio's own check of a menu's value
        assert "not in the list of choices" in str(exc) or "Invalid" in str(exc)
    else:
        assert "Invalid choice under Search only in" in last_reply(chat)


def test_a_scope_choice_gone_from_the_index_is_refused(summit_index):
    from rag.ui.handlers import request_scope

    with pytest.raises(RagError, match="Search only in"):
        request_scope(summit_index, ["doc:0123456789abcdef"])
    assert request_scope(summit_index, []) is None
    notes = request_scope(summit_index, ["col:notes"])
    assert notes == Scope(collections=("notes",))
    mixed = request_scope(summit_index, ["col:notes", f"doc:{doc_id(summit_index, 'summit.pdf')}"])
    assert mixed is not None and len(mixed.doc_ids) == 3 and not mixed.collections


def test_markdown_export_has_numbered_sources_as_footnotes():
    text = "NATO endorsed a defence spending target of five percent of GDP by 2035."
    chunk = Chunk(
        "c1", "d1", 10, 10 + len(text), text, "Summit *report*", "docs/summit.pdf", "2025-06-26", page=2
    )
    other = Chunk("c2", "d2", 0, 5, "Intro", "Guide", "docs/guide.md", None, section="Setup > Install")
    cite = Citation(1, Passage(chunk, 0.9, 1, "fused"), "It endorsed 5%.", True, text[:30], 10, 40)
    answer = Answer(
        "What did NATO endorse?",
        "It endorsed five percent [1].",
        (cite,),
        (cite.passage, Passage(other, 0.5, 2, "fused")),
        False,
        Timings(),
        (
            SentenceCheck("It endorsed five percent.", (1,), True),
            SentenceCheck("It was 9%.", (2,), False, "numbers"),
        ),
        as_of="2025-07-01",
        scope=Scope(collections=("reports",)),
    )
    md = answer_markdown(answer)
    assert "It endorsed five percent[^1]. ~~It was 9%.~~ *(unsupported: numbers)*" in md
    assert '[^1]: Summit \\*report\\* (2025-06-26), p. 2, `docs/summit.pdf`: "NATO endorsed a defence' in md
    assert "searched only collection reports" in md and "[^2]" not in md
    assert locator(other) == "§ Setup > Install" and locator(chunk) == "p. 2"
    assert locator(Chunk("c", "d", 5, 9, "x", file_offset=16)) == "chars 21-25"
    abstained = answer_markdown(
        Answer("q", "The documents do not contain an answer.", (), (), True, Timings())
    )
    assert "*Not in your documents:*" in abstained and "[^" not in abstained
