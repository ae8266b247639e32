"""HTML for the chat UI: answers with [n] linked to source cards, cards with the cited span highlighted."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

from rag.core.types import Answer, Citation, DocumentInfo, Passage
from rag.formats.as_markdown import conflict_notes, flag_words, locator
from rag.verify.citations import render_sentence
from rag.verify.confidence import confidence_line

_MARKERS = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
NOT_FOUND = "Not in your documents."

CSS = """
.src-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 12px;
  margin: 0 0 10px 0; }
.src-card.cited { border-left: 4px solid #2e7d32; }
.src-card.uncited { opacity: 0.75; border-left: 4px solid #9e9e9e; }
.src-card.flash { outline: 3px solid #f9a825; }
.src-head { font-size: 0.9em; margin-bottom: 4px; }
.src-n { font-weight: bold; margin-right: 6px; }
.src-meta { color: var(--body-text-color-subdued); font-size: 0.85em; word-break: break-all; }
.src-tag { font-size: 0.8em; padding: 1px 6px; border-radius: 8px; margin-left: 6px; }
.src-tag.ok { background: #c8e6c9; color: #1b5e20; }
.src-tag.no { background: #eeeeee; color: #424242; }
.src-tag.bad { background: #ffcdd2; color: #b71c1c; }
.src-text { white-space: pre-wrap; font-size: 0.92em; line-height: 1.45; }
.src-text mark.quote { background: #fff176; color: #000; padding: 0 1px; }
.src-text mark.quote.bad { background: #ffcdd2; }
.src-title { margin: 4px 0 8px 0; font-weight: 600; }
.src-open { float: right; font-size: 0.85em; margin-left: 8px; }
.unsupported { color: #b71c1c; }
a.cite { text-decoration: none; font-weight: 600; }
"""

# Clicking [n] in an answer scrolls to its source card (Gradio opens links in new tabs otherwise).
HEAD = """<script>
document.addEventListener("click", (e) => {
  const a = e.target.closest && e.target.closest('a[href^="#src-"]');
  if (!a) return;
  e.preventDefault();
  const card = document.getElementById(a.getAttribute("href").slice(1));
  if (!card) return;
  card.scrollIntoView({behavior: "smooth", block: "center"});
  card.classList.add("flash");
  setTimeout(() => card.classList.remove("flash"), 1500);
}, true);
</script>"""


# "Copy as Markdown": the clipboard API needs a secure context (loopback is one); elsewhere, select and copy.
COPY_JS = """(md) => {
  if (!md) return;
  if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(md); return; }
  const box = document.querySelector("#answer-md textarea");
  if (box) { box.select(); document.execCommand("copy"); }
}"""


def card_id(turn: int, n: int) -> str:
    """Return the HTML id of passage ``n``'s card in chat turn ``turn``."""
    return f"src-{turn}-{n}"


def link_markers(text: str, turn: int) -> str:
    """Escape ``text`` and turn each ``[n]`` (or ``[1, 2]``) into links to the source cards."""

    def link(match: re.Match[str]) -> str:
        ns = [int(n) for n in match.group(1).split(",")]
        return "".join(f'<a href="#{card_id(turn, n)}" class="cite">[{n}]</a>' for n in ns)

    return _MARKERS.sub(link, safe_text(text))


def safe_text(text: str) -> str:
    """Escape HTML and defuse Markdown images and links, so a document cannot make the page fetch a URL."""
    return escape(text, quote=False).replace("](", "]&#40;").replace("![", "&#33;[")


def answer_html(answer: Answer, turn: int) -> str:
    """Render the final answer: linked markers, unsupported sentences marked, abstention said plainly."""
    searched = f"<small>Searched for: {safe_text(answer.rewritten)}</small><br>" if answer.rewritten else ""
    if answer.abstained:
        return (
            f"{searched}**{NOT_FOUND}** {escape(answer.text)}\n\n"
            f"<small>Why: {escape(answer.abstain_reason)}. The closest passages are under Sources.</small>"
        )
    out = [searched] if searched else []
    if answer.as_of:
        out.append(f"<small>As of {escape(answer.as_of)}</small><br>")
    for s in answer.sentences:
        sentence = link_markers(render_sentence(s), turn)
        if not s.supported and s.reason != "no claim":
            sentence = (
                f'<span class="unsupported">⚠ <s>{sentence}</s></span> '
                f"<small>(unsupported: {escape(s.reason)})</small>"
            )
        out.append(sentence)
    out += [f"<br><small>Documents disagree: {escape(note)}</small>" for note in conflict_notes(answer)]
    if answer.confidence is not None:
        out.append(
            f'<br><small class="confidence">Confidence: {escape(confidence_line(answer.confidence))}</small>'
        )
    return " ".join(out)


def _spans(passage: Passage, citations: Sequence[Citation]) -> list[tuple[int, int, bool]]:
    """Return merged (start, end, supported) spans of the quotes inside the passage text."""
    chunk, raw = passage.chunk, []
    for c in citations:
        start = max(0, c.quote_start - chunk.start)
        end = min(len(chunk.text), c.quote_end - chunk.start)
        if end > start:
            raw.append((start, end, c.supported))
    merged: list[tuple[int, int, bool]] = []
    for start, end, ok in sorted(raw):
        if merged and start <= merged[-1][1]:
            s0, e0, ok0 = merged[-1]
            merged[-1] = (s0, max(e0, end), ok0 or ok)
        else:
            merged.append((start, end, ok))
    return merged


def highlighted(passage: Passage, citations: Sequence[Citation]) -> str:
    """Return the escaped passage text with each cited quote wrapped in ``<mark class="quote">``."""
    text, out, pos = passage.chunk.text, [], 0
    for start, end, ok in _spans(passage, citations):
        cls = "quote" if ok else "quote bad"
        out += [escape(text[pos:start]), f'<mark class="{cls}">{escape(text[start:end])}</mark>']
        pos = end
    out.append(escape(text[pos:]))
    return "".join(out)


def open_href(p: Passage, cites: Sequence[Citation] = ()) -> str:
    """Return the link that opens a passage's original file: a PDF at its page, other files at the span.

    The link names the document by its id only; the server looks its file up in the index.
    """
    ch = p.chunk
    query = f"start={ch.start}&end={ch.end}"
    quote = next((c for c in cites if c.supported), None)
    if quote is not None:
        query += f"&qs={quote.quote_start}&qe={quote.quote_end}"
    where = f"#page={ch.page}" if ch.page else "#cited"
    return f"rag/open/{ch.doc_id}?{query}{where}"


def _card(n: int, p: Passage, cites: Sequence[Citation], turn: int, final: bool) -> str:
    ch = p.chunk
    if cites:
        bad = [c for c in cites if not c.supported]
        tag = (
            f'<span class="src-tag bad">cited, does not support: {escape(bad[0].sentence)}</span>'
            if bad
            else '<span class="src-tag ok">cited</span>'
        )
    elif p.flags:
        tag = f'<span class="src-tag bad">set aside: {escape(flag_words(p.flags))}</span>'
    else:
        tag = '<span class="src-tag no">not cited</span>' if final else ""
    dense = f", similarity {p.dense_score:.2f}" if p.dense_score is not None else ""
    return (
        f'<div class="src-card {"cited" if cites else "uncited"}" id="{card_id(turn, n)}">'
        f'<div class="src-head"><a class="src-open" href="{escape(open_href(p, cites))}" target="_blank" '
        f'rel="noopener noreferrer">open</a><span class="src-n">[{n}]</span>'
        f"<b>{escape(ch.title or ch.path)}</b>{tag}</div>"
        f'<div class="src-meta">{escape(ch.date or "no date")} · {escape(ch.path)} · '
        f'<span class="src-loc">{escape(locator(ch))}</span>'
        f" · score {p.score:.3f}{dense}</div>"
        f'<div class="src-text">{highlighted(p, cites)}</div></div>'
    )


def sources_html(passages: Sequence[Passage], turn: int, answer: Answer | None = None) -> str:
    """Render one card per passage given to the model: cited ones first, uncited ones marked.

    Args:
        passages: The retrieved passages; position ``n`` (1-based) is the citation number.
        turn: The chat turn, which makes the card ids unique on the page.
        answer: The checked answer, once known; before that the cards show no citation state.

    """
    if not passages:
        return "<p>No passages were found. Add documents under Documents.</p>"
    cites = answer.citations if answer else ()
    by_n = {n: [c for c in cites if c.n == n] for n in range(1, len(passages) + 1)}
    order = sorted(by_n, key=lambda n: (not by_n[n], n))
    if answer is None:
        title = f"{len(passages)} passages found; answering…"
    elif answer.abstained:
        title = f"{NOT_FOUND} The closest passages:"
    else:
        title = f"Sources ({sum(1 for n in order if by_n[n])} cited of {len(passages)} given to the model)"
    cards = "".join(_card(n, passages[n - 1], by_n[n], turn, answer is not None) for n in order)
    return f'<div class="src-title">{escape(title)}</div>{cards}'


def docs_rows(infos: Sequence[DocumentInfo]) -> list[list[object]]:
    """Return table rows (title, date, chunks, path) for the document list."""
    return [[i.title, i.date or "", i.chunks, i.path] for i in infos]
