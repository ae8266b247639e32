"""A real browser (headless Debian Chromium via Playwright) asks a question and checks the cited source."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import NATO, ROOT, free_port, make_settings

from rag import ingest
from rag.core.settings import ModelSettings
from rag.ui.app import launch

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("RAG_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
MEETING = "How long did the meeting between Zelenskyy and Trump last?"
SHOTS = ROOT / "eval" / "reports" / "ui"


def ask_in_browser(url: str, question: str, screenshot: Path, timeout_s: float) -> dict[str, str]:
    """Open the page, type the question, wait for the checked answer; return what the page shows."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; scripts/test "
            "does this) or point RAG_CHROMIUM at a Chromium binary.",
            pytrace=False,
        )
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        except Error as exc:
            pytest.fail(f"Chromium at {CHROMIUM} could not start: {exc}", pytrace=False)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url)
            page.locator("#question textarea").fill(question)
            page.locator("#ask").click()
            page.locator("#sources .src-card").first.wait_for(timeout=timeout_s * 1000)
            done = page.locator("#sources .src-title", has_text="Sources (").or_(
                page.locator("#sources .src-title", has_text="Not in your documents")
            )
            done.wait_for(timeout=timeout_s * 1000)
            mark = page.locator("#sources .src-card.cited mark.quote").first
            shown = {
                "answer": page.locator("#chat .message-content").last.inner_text(),
                "sources": page.locator("#sources").inner_text(),
                "quote": mark.inner_text() if mark.is_visible() else "",
            }
            if shown["quote"]:  # clicking [n] brings its card into view and flashes it
                link = page.locator("#chat a.cite").first
                target = link.get_attribute("href")
                link.click()
                page.locator(f"{target}.src-card.flash").wait_for(state="visible", timeout=5000)
                shown["clicked"] = page.locator(f"{target}.src-card").inner_text()
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot))
            return shown
        finally:
            browser.close()


def test_browser_answer_with_highlighted_source(seed_index):
    demo, url = launch(seed_index, port=free_port())
    try:
        shown = ask_in_browser(url, MEETING, SHOTS / "browser.png", timeout_s=120)
    finally:
        demo.close()
    assert "50 minutes" in shown["answer"] and "[1]" in shown["answer"]
    assert "50 minutes" in shown["quote"], "the cited span is highlighted in a visible source card"
    assert "50 minutes" in shown["clicked"], "the [1] marker links to the card with the quote"
    assert (SHOTS / "browser.png").stat().st_size > 10_000


@pytest.mark.slow
def test_readme_screenshot_nato_with_default_model(tmp_path, monkeypatch):
    """Regenerate docs/ui.png: the default 1.5B model answers the NATO question on the seed."""
    monkeypatch.chdir(ROOT)  # paths on the cards read seeds/..., as for a user in the repo
    s = make_settings(tmp_path / "index").model_copy(update={"model": ModelSettings()})
    ingest([ROOT / "seeds"], s, show_bar=False)
    demo, url = launch(s, port=free_port())
    try:
        shown = ask_in_browser(url, NATO, ROOT / "docs" / "ui.png", timeout_s=300)
    finally:
        demo.close()
    assert "five percent" in shown["answer"] and "five percent of gross domestic product" in shown["quote"]
