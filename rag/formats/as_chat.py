"""An answer as a chat reply (``rag serve``'s OpenAI-compatible API): [n] markers, then the sources.

A generic chat client shows the content as Markdown: the checked sentences with their ``[n]``
markers (unsupported ones struck out), then one footnote per cited passage. Text from documents and
from the model is escaped, so a passage cannot make the client fetch an image or show a link.
"""

from __future__ import annotations

from rag.core.types import Answer, Citation, SentenceCheck
from rag.formats.as_markdown import locator, md_escape

SOURCES = "Sources:"
_SEPARATOR = f"\n\n{SOURCES}\n"


def _sentence(s: SentenceCheck, cited: set[int]) -> str:
    """Return one checked sentence with its [n] markers before its final stop; unsupported struck."""
    body, end = (s.text[:-1], s.text[-1]) if s.text[-1:] in ".!?" else (s.text, ".")
    if not s.supported and s.reason != "no claim":
        return f"~~{md_escape(body)}{end}~~ *(unsupported: {md_escape(s.reason)})*"
    marks = "".join(f"[{n}]" for n in s.cited if n in cited)
    return f"{md_escape(body)}{' ' + marks if marks else ''}{end}"


def footnote(c: Citation) -> str:
    """Return one source line: ``[n] Title (date), page or section, `path`: "quote"``."""
    ch = c.passage.chunk
    note = " *(does not support the sentence)*" if not c.supported else ""
    return (
        f"[{c.n}] {md_escape(ch.title or ch.path)} ({ch.date or 'no date'}), {locator(ch)}, "
        f'`{ch.path.replace("`", "")}`: "{md_escape(c.quote)}"{note}'
    )


def chat_content(answer: Answer) -> str:
    """Return the reply's content: the checked answer with [n] markers, then its sources as footnotes.

    Args:
        answer: A checked answer from ``ask()``.

    Returns:
        Markdown text; an abstention says so with the reason and has no sources.

    """
    if answer.abstained:
        return f"Not in your documents: {answer.text} ({md_escape(answer.abstain_reason)})"
    notes: dict[int, Citation] = {}
    for c in answer.citations:
        notes.setdefault(c.n, c)
    text = (
        " ".join(_sentence(s, set(notes)) for s in answer.sentences)
        if answer.sentences
        else md_escape(answer.text)
    )
    if not notes:
        return text
    return text + _SEPARATOR + "\n\n".join(footnote(notes[n]) for n in sorted(notes))


def answer_part(content: str) -> str:
    """Return a reply's content without its sources (an earlier turn sent back as chat history)."""
    return content.split(_SEPARATOR, 1)[0]
