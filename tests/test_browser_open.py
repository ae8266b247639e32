"""In a real browser: a PDF citation opens the PDF at its page; in a scoped chat, notes open at their span."""

from __future__ import annotations

import json
import re

import pytest
from conftest import FARM, LIGHTHOUSE, free_port, make_settings
from summit import ANSWER_PAGE, AS_OF, PAGES, QUESTION, make_summit_pdf
from test_browser import ARGS, CHROMIUM, SHOTS

from rag import ingest
from rag.ui.app import launch

pytestmark = pytest.mark.browser
SHOWN_PAGE = """(() => {
  const toolbar = document.querySelector("pdf-viewer").shadowRoot.querySelector("viewer-toolbar");
  const selector = toolbar.shadowRoot.querySelector("viewer-page-selector");
  return selector.shadowRoot.querySelector("input").value + "/" + selector.docLength;
})()"""


def viewer_page(browser, page, want: str) -> str:  # type: ignore[no-untyped-def]
    """Return "shown/pages" from Chromium's PDF viewer once it shows ``want`` (else the last it showed).

    The viewer is an extension frame Playwright does not list, so it is asked over CDP. It reports
    "0/0" while loading and "1/3" before it has scrolled to the URL's #page, so it is asked until it
    shows the wanted page or 30 s have passed.
    """
    cdp = browser.new_browser_cdp_session()
    replies: dict[int, dict] = {}

    def reply(event: dict) -> None:
        message = json.loads(event["message"])
        replies[message.get("id", 0)] = message.get("result", {}).get("result") or {}

    cdp.on("Target.receivedMessageFromTarget", reply)
    shown = "the viewer did not report its page"
    for attempt in range(1, 101):
        targets = cdp.send("Target.getTargets")["targetInfos"]
        viewer = next((t for t in targets if t["url"].startswith("chrome-extension://")), None)
        if viewer is not None:
            session = cdp.send("Target.attachToTarget", {"targetId": viewer["targetId"], "flatten": False})
            request = {"id": attempt, "method": "Runtime.evaluate"}
            request["params"] = {"expression": SHOWN_PAGE, "returnByValue": True}
            message = {"sessionId": session["sessionId"], "message": json.dumps(request)}
            cdp.send("Target.sendMessageToTarget", message)
        page.wait_for_timeout(300)
        value = replies.get(attempt, {}).get("value")
        if isinstance(value, str) and re.fullmatch(r"[1-9]\d*/[1-9]\d*", value):
            shown = value
            if value == want:
                break
    return shown


def ask(page, question: str, turn: int, timeout_s: float = 180) -> None:  # type: ignore[no-untyped-def]
    """Type the question, press Ask, and wait for this turn's checked answer (or abstention)."""
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    page.locator(f'#sources .src-card[id^="src-{turn}-"]').first.wait_for(timeout=timeout_s * 1000)
    done = page.locator("#sources .src-title", has_text="Sources (").or_(
        page.locator("#sources .src-title", has_text="Not in your documents")
    )
    done.wait_for(timeout=timeout_s * 1000)


def open_card(context, card):  # type: ignore[no-untyped-def]
    """Click a source card's "open" link; return the tab it opens, loaded."""
    with context.expect_page() as opened:
        card.locator("a.src-open").click()
    tab = opened.value
    tab.wait_for_load_state()
    return tab


def check_pdf_citation(browser, context, page) -> None:  # type: ignore[no-untyped-def]
    """The cited card says p. 2; "open" shows the PDF at page 2; "Copy as Markdown" copies its footnote."""
    ask(page, QUESTION, turn=1)
    card = page.locator("#sources .src-card.cited").first
    assert card.locator(".src-loc").inner_text() == f"p. {ANSWER_PAGE}"
    pdf = open_card(context, card)
    assert pdf.url.endswith(f"#page={ANSWER_PAGE}")
    want = f"{ANSWER_PAGE}/{len(PAGES)}"
    assert viewer_page(browser, pdf, want) == want, "the viewer shows that page"
    pdf.screenshot(path=str(SHOTS / "pdf-page.png"))
    page.bring_to_front()
    page.locator("#copy-md").click()
    exported = page.locator("#answer-md textarea")
    exported.wait_for(state="visible", timeout=10_000)
    markdown = exported.input_value()
    assert f"[^1]: Alliance summit report (2025-06-26), p. {ANSWER_PAGE}, `" in markdown
    assert "summit.pdf`" in markdown.split("[^1]:")[1]
    assert page.evaluate("navigator.clipboard.readText()") == markdown, "copied to the clipboard"


def check_scoped_chat(context, page) -> None:  # type: ignore[no-untyped-def]
    """Only the notes: the question abstains, and "open" shows a note with the passage marked."""
    page.locator("#scope input").click()
    page.get_by_role("option", name="Collection: notes").click()
    page.keyboard.press("Escape")
    ask(page, QUESTION, turn=2)
    sources = page.locator("#sources")
    assert "Not in your documents" in sources.inner_text() and "summit.pdf" not in sources.inner_text()
    first = page.locator("#sources .src-card").first
    passage = " ".join(first.locator(".src-text").inner_text().split())
    text = open_card(context, first)
    assert text.url.endswith("#cited")
    marked = text.locator("mark#cited")
    assert marked.is_visible() and " ".join(marked.inner_text().split()) == passage
    text.screenshot(path=str(SHOTS / "text-span.png"))


def check_cited_text(context, page) -> None:  # type: ignore[no-untyped-def]
    """Still only the notes, a new chat: a cited answer opens the note with the cited sentence marked."""
    page.get_by_role("button", name="New chat").click()
    ask(page, "What is the range of the harbour lighthouse?", turn=1)
    card = page.locator("#sources .src-card.cited").first
    assert "lighthouse.html" in card.inner_text()
    text = open_card(context, card)
    assert text.url.endswith("#cited")
    quote = text.locator("mark.passage mark.quote#cited")
    assert quote.is_visible() and "range of 18 nautical miles" in quote.inner_text()
    text.screenshot(path=str(SHOTS / "text-quote.png"))


@pytest.mark.heavy  # minutes of subprocesses: CI's heavy tier keeps the default under 12 min
def test_a_pdf_citation_opens_its_page_and_a_scoped_chat_opens_the_text(tmp_path):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/test does).", pytrace=False)
    from playwright.sync_api import sync_playwright

    make_summit_pdf(tmp_path / "docs" / "reports" / "summit.pdf")
    (tmp_path / "docs" / "notes").mkdir()
    (tmp_path / "docs" / "notes" / "orchard.md").write_text(FARM)
    (tmp_path / "docs" / "notes" / "lighthouse.html").write_text(LIGHTHOUSE)
    s = make_settings(tmp_path / "index")
    ingest([tmp_path / "docs" / "reports"], s, show_bar=False, collection="reports")
    ingest([tmp_path / "docs" / "notes"], s, show_bar=False, collection="notes")
    SHOTS.mkdir(parents=True, exist_ok=True)
    demo, url = launch(s, port=free_port())
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
            try:
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
                page = context.new_page()
                page.goto(url)
                sidebar = page.get_by_role("button", name="Toggle Sidebar")
                sidebar.click()
                page.locator("#as-of textarea, #as-of input").first.fill(AS_OF)
                sidebar.click()
                check_pdf_citation(browser, context, page)
                check_scoped_chat(context, page)
                check_cited_text(context, page)
            finally:
                browser.close()
    finally:
        demo.close()
