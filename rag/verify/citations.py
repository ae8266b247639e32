"""Citations in an answer: parse [n] markers, check each sentence with a judge, quote and render."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.core.text import sentence_spans, terms
from rag.core.types import Citation, Passage, SentenceCheck

ABSTAIN_TEXT = "The documents do not contain an answer to this question."
_MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_LIST_MARKER = re.compile(r"\(?\d{1,2}[.)]")
_HEADER = re.compile(r"^\((?:[^()]{0,80}, )?\d{4}-\d{2}-\d{2}\)\s*")  # "(Title, 2025-06-25)" of the prompt


@dataclass(frozen=True)
class CitedSentence:
    """One sentence of the model's reply with the passage numbers it cited."""

    text: str
    cited: tuple[int, ...]


def split_sentences(answer: str, headers: bool = True) -> list[CitedSentence]:
    """Split a reply into sentences, attaching each [n] marker to the sentence before it.

    With ``headers``, a passage header the model copied from the prompt ('(2025-06-25) "...') is
    taken off: it is the prompt's format, not part of the claim.
    """
    drafts: list[CitedSentence] = []
    answer = answer.strip()
    for piece in (answer[a:b] for a, b in sentence_spans(answer)):
        lead = re.match(r"(?:\s*\[\d+(?:\s*,\s*\d+)*\])+", piece)
        if lead and drafts:
            moved = tuple(int(n) for g in _MARKER.findall(lead.group()) for n in g.split(","))
            drafts[-1] = CitedSentence(drafts[-1].text, drafts[-1].cited + moved)
            piece = piece[lead.end() :]
        cited = tuple(int(n) for g in _MARKER.findall(piece) for n in g.split(","))
        text = _MARKER.sub("", piece).strip()
        if headers:
            text = _HEADER.sub("", text).strip().strip('"“”')
        if not text:
            continue
        if _LIST_MARKER.fullmatch(text):  # "1." or "2)" alone numbers a list item, it is no sentence
            if drafts and cited:
                drafts[-1] = CitedSentence(drafts[-1].text, drafts[-1].cited + cited)
            continue
        drafts.append(CitedSentence(text, cited))
    return drafts


Judge = Callable[[str, Passage], tuple[bool, str]]  # (sentence, passage) -> (supported, reason)


def best_quote(sentence: str, passage: Passage) -> tuple[str, int, int]:
    """Return the passage sentence sharing most terms with ``sentence``, with document offsets."""
    chunk, want = passage.chunk, set(terms(sentence))
    best, best_score = (0, len(chunk.text)), -1
    for start, end in sentence_spans(chunk.text):
        score = len(want & set(terms(chunk.text[start:end])))
        if score > best_score:
            best, best_score = (start, end), score
    return chunk.text[best[0] : best[1]], chunk.start + best[0], chunk.start + best[1]


def _check_sentence(
    draft: CitedSentence, passages: Sequence[Passage], judge: Judge, others: bool = True
) -> tuple[SentenceCheck, tuple[int, ...], bool]:
    """Check one sentence; return its check, the passages to cite and whether the checker chose them.

    The passages the model cited are tried first. When they do not support the sentence (or it has
    no marker), the other passages are tried in rank order and the first that supports it is cited
    instead (unless ``others`` is False): a wrong number is corrected rather than shown as broken.
    """
    valid = [n for n in dict.fromkeys(draft.cited) if 1 <= n <= len(passages)]
    verdicts = {n: judge(draft.text, passages[n - 1]) for n in valid}
    good = [n for n, (ok, _) in verdicts.items() if ok]
    if good:
        dropped = [n for n in valid if n not in good]
        note = f"dropped {dropped}: they do not support it" if dropped else ""
        return SentenceCheck(draft.text, tuple(good), True, note), tuple(good), False
    for n in (n for n in range(1, len(passages) + 1) if others and n not in valid):
        if judge(draft.text, passages[n - 1])[0]:
            note = (
                f"cited {valid} did not support it; [{n}] does" if valid else f"no marker; [{n}] supports it"
            )
            return SentenceCheck(draft.text, (n,), True, note), (n,), True
    reason = "; ".join(sorted({r for _, r in verdicts.values()}))[:300] or "no passage supports it"
    return SentenceCheck(draft.text, tuple(valid), False, reason), tuple(valid), False


def check_answer(
    reply: str, passages: Sequence[Passage], judge: Judge, others: bool = True, headers: bool = True
) -> tuple[list[SentenceCheck], list[Citation], list[int]]:
    """Check every sentence of a reply against the passages it cites.

    Args:
        reply: The model's draft with ``[n]`` markers.
        passages: The passages it was given; ``[n]`` names the n-th.
        judge: Decides whether one passage supports one sentence.
        others: Try passages the sentence does not cite when its own do not support it.
        headers: Take off passage headers the model copied (see ``split_sentences``).

    Returns:
        Per-sentence checks, the citations (valid numbers only) and the invalid numbers cited.

    """
    checks: list[SentenceCheck] = []
    citations: list[Citation] = []
    invalid: list[int] = []
    for draft in split_sentences(reply, headers):
        invalid += [n for n in draft.cited if not 1 <= n <= len(passages)]
        check, cited, chosen = _check_sentence(draft, passages, judge, others)
        checks.append(check)
        for n in cited:
            quote, qs, qe = best_quote(draft.text, passages[n - 1])
            citations.append(Citation(n, passages[n - 1], draft.text, check.supported, quote, qs, qe, chosen))
    return checks, citations, invalid


def render_sentence(check: SentenceCheck) -> str:
    """Return one sentence with its citation markers before its final stop."""
    marks = "".join(f"[{n}]" for n in check.cited)
    text = check.text
    body, end = (text[:-1], text[-1]) if text[-1:] in ".!?" else (text, ".")
    return f"{body} {marks}{end}" if marks else f"{body}{end}"


def render(checks: Sequence[SentenceCheck]) -> str:
    """Rebuild the answer text with each sentence's citation markers before its final stop."""
    return " ".join(render_sentence(c) for c in checks)
