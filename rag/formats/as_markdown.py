"""An answer as Markdown (``rag ask --markdown``, the UI's "Copy as Markdown"): sources as footnotes."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.core.types import Answer, Chunk, Citation, SentenceCheck
from rag.retrieval.scope import describe
from rag.verify.confidence import confidence_line

_SPECIAL = re.compile(r"([\\`*_\[\]<>])")


def locator(chunk: Chunk) -> str:
    """Return where a chunk is in its file: "p. 12", "§ Costs > 2024", both, or its character span.

    A slide deck's page is its slide, named in its section already ("§ Slide 3: Costs").
    """
    slides = chunk.path.lower().endswith(".pptx")
    parts = [f"p. {chunk.page}"] if chunk.page and not (slides and chunk.section) else []
    parts += [f"§ {chunk.section}"] if chunk.section else []
    if not parts:
        start, end = chunk.file_span
        parts.append(f"chars {start}-{end}")
    return ", ".join(parts)


def md_escape(text: str) -> str:
    """Escape Markdown's inline markup in text from a document (titles, quotes)."""
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _sentence(s: SentenceCheck, notes: dict[int, Citation]) -> str:
    """Return one checked sentence with footnote markers before its final stop; unsupported struck."""
    body, end = (s.text[:-1], s.text[-1]) if s.text[-1:] in ".!?" else (s.text, ".")
    marks = "".join(f"[^{n}]" for n in s.cited if n in notes)
    if not s.supported and s.reason != "no claim":
        return f"~~{body}{end}~~ *(unsupported: {s.reason})*"
    return f"{body}{marks}{end}"


def _footnote(c: Citation) -> str:
    """Return the footnote of one citation: title, date, page or section, path, and the quote."""
    ch = c.passage.chunk
    note = " *(does not support the sentence)*" if not c.supported else ""
    return (
        f"[^{c.n}]: {md_escape(ch.title or ch.path)} ({ch.date or 'no date'}), {locator(ch)}, "
        f'`{ch.path.replace("`", "")}`: "{md_escape(c.quote)}"{note}'
    )


FLAG_WORDS = {
    "instructions": "gives instructions to the model",
    "superseded": "a newer page states otherwise",
}


def flag_words(flags: Sequence[str]) -> str:
    """Return why a flagged passage was set aside, in words ("a newer page states otherwise")."""
    return "; ".join(FLAG_WORDS.get(f, f) for f in flags)


def conflict_notes(answer: Answer) -> list[str]:
    """Return one line per conflict: what the older page says, and the newer page that was used."""
    number = {p.chunk.id: n for n, p in enumerate(answer.passages, 1)}
    notes = []
    for c in answer.conflicts:
        old, new = c.older.chunk, c.newer.chunk
        says = " ".join(c.older_says.split())[:160]
        notes.append(
            f'[{number.get(old.id, "?")}] ({old.date}) says "{says}"; the newer [{number.get(new.id, "?")}] '
            f"({new.date}) states otherwise, so the older page was set aside."
        )
    return notes


def answer_markdown(answer: Answer) -> str:
    """Return the answer as Markdown: the question, the checked answer, and its sources as footnotes.

    Args:
        answer: A checked answer from ``ask()``.

    Returns:
        Markdown with ``[^n]`` footnotes (title, date, page or section, path, quote) for every
        citation; an abstention says so, with the reason.

    """
    notes: dict[int, Citation] = {}
    for c in answer.citations if not answer.abstained else ():
        notes.setdefault(c.n, c)
    lines = [f"**Q:** {md_escape(answer.question)}", ""]
    if answer.abstained:
        lines.append(f"*Not in your documents:* {answer.text} ({answer.abstain_reason})")
    elif answer.sentences:
        lines.append(" ".join(_sentence(s, notes) for s in answer.sentences))
    else:
        lines.append(answer.text)
    if answer.confidence is not None and not answer.abstained:
        lines += ["", f"*Confidence: {confidence_line(answer.confidence)}.*"]
    lines += [f"*Documents disagree:* {md_escape(n)}" for n in conflict_notes(answer)]
    scope = f"; searched only {describe(answer.scope)}" if answer.scope else ""
    if answer.as_of or scope:
        lines += ["", f"*As of {answer.as_of or 'today'}{scope}.*"]
    if notes:
        lines += ["", *(_footnote(notes[n]) for n in sorted(notes))]
    return "\n".join(lines) + "\n"
