"""Passages that disagree: two pages about what is asked state different figures; the newer one wins.

News moves: a 2019 page says NATO endorsed a 12% target, a 2025 page says five percent by 2035. Both
are about the question, and a small model picks either. So before the model reads them, each pair of
passages whose best stretches are both about the question (at least ``ABOUT`` of its rarity-weighted
words) and state figures that share none (numbers the question does not name) is a conflict: the
older page is set aside (flagged ``superseded``: shown to the user beside the newer one, never given
to the model, never evidence). A question that asks *when* is left alone: its answer may be old.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rag.core.text import numbers
from rag.core.types import Conflict, Passage
from rag.verify.injection import for_model
from rag.verify.question import Question, key_terms
from rag.verify.support import windows

SUPERSEDED = "superseded"
ABOUT = 0.5  # share of the question's weight a stretch must hold to count as stating its answer


def _stated(passage: Passage, question: Question) -> tuple[str, frozenset[str]] | None:
    """Return the passage's stretch most about the question and its figures, if it is about it."""
    best: tuple[float, str] | None = None
    for window in windows(passage.chunk.text):
        share = question.anchored(key_terms(window))
        if best is None or share > best[0]:
            best = (share, window)
    if best is None or best[0] < ABOUT:
        return None
    figures = frozenset(numbers(best[1]) - question.stem_numbers)
    return (best[1], figures) if figures else None


def find_conflicts(question: Question, passages: Sequence[Passage]) -> tuple[Conflict, ...]:
    """Return the pairs of passages, older first, that state different figures for what is asked.

    Args:
        question: The parsed question (its words weighted by rarity).
        passages: The passages the model would see; undated ones are never compared.

    """
    if question.asks_when:
        return ()
    stated = [(p, s) for p in passages if p.chunk.date and (s := _stated(p, question))]
    found = []
    for old, (old_says, old_figures) in stated:
        for new, (new_says, new_figures) in stated:
            if old.chunk.date < new.chunk.date and not old_figures & new_figures:  # type: ignore[operator]
                found.append(Conflict(old, new, old_says, new_says))
    return tuple(found)


def set_aside_older(
    question: Question, passages: Sequence[Passage]
) -> tuple[tuple[Passage, ...], tuple[Conflict, ...]]:
    """Flag every passage a newer one contradicts as ``superseded`` and move it after the others.

    Returns:
        The passages in their new order (the model sees the unflagged ones, which come first), and
        the conflicts found.

    """
    conflicts = find_conflicts(question, for_model(passages))
    older = {c.older.chunk.id for c in conflicts}
    marked = [replace(p, flags=(*p.flags, SUPERSEDED)) if p.chunk.id in older else p for p in passages]
    kept = [p for p in marked if not p.flags]
    return (*kept, *(p for p in marked if p.flags)), conflicts
