"""A question as the checker reads it: its telling words, the choices it offers, what it asks for."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rag.core.text import digit_numbers, terms
from rag.verify.rules import ALL

# Asking for a time ("when did", "what year"), not naming one ("this week", "at a time when ...").
_WHEN = re.compile(
    r"^\s*when\b|\bwhen\s+(?:did|was|were|is|are|will|does|do|has|have|had|can|could|would)\b"
    r"|\b(?:what|which)\s+(?:exact\s+|specific\s+)?(?:date|day|week|month|year|time|decade|century)\b"
    r"|\bhow long ago\b",
    re.I,
)
_COUNT = re.compile(r"\bhow\s+(?:many|much)\b", re.I)  # answered by a number, not "dozens"
_OPTIONS = re.compile(r"^\s*(?:options|choices)\s*:(.*)$", re.I | re.M)
# A person's age describes the person, not the event, and pages state it unevenly (or a year apart):
# "his 19-year-old son" must not require "19" in the passage that names the team.
_AGE = re.compile(r"\b\d+(?:-year-old|\s+years?\s+old)\b|\baged\s+\d+\b", re.I)
# Words an answer uses about the passages themselves; they carry no claim to check.
META = {"passag", "document", "text", "articl", "accord", "mention", "state", "answer", "provid", "cite"}


def key_terms(text: str) -> set[str]:
    """Stemmed content words of ``text`` (long stop-word list, no words about the passages)."""
    return set(terms(text, strict=True)) - META


@dataclass(frozen=True)
class Question:
    """A question split into the words it asks with (``stem``) and the choices it offers."""

    text: str
    stem: frozenset[str]
    stem_numbers: frozenset[str]
    choices: tuple[str, ...] = ()
    asks_when: bool = False  # the question asks for a time ("when", "what year", "which day")
    weights: tuple[tuple[str, float], ...] = ()  # how telling each stem word is (its IDF); 1 when unknown
    asks_count: bool = False  # the question asks "how many" or "how much"

    @classmethod
    def parse(
        cls, text: str, rarity: Callable[[str], float] | None = None, rules: frozenset[str] = ALL
    ) -> Question:
        """Split off an "Options: a; b; c" line: its items are answers to pick, not words to search.

        Args:
            text: The question.
            rarity: How telling a term is in the index (BM25's IDF); "baggage" says more than "change".
            rules: The checker's rules in force (``rag.verify.rules``).
        """
        found = _OPTIONS.search(text)
        choices = tuple(x.strip() for x in found.group(1).split(";") if x.strip()) if found else ()
        stem = _OPTIONS.sub("", text).strip()
        words = frozenset(key_terms(stem))
        weights = tuple((t, max(0.0, rarity(t)) if rarity else 1.0) for t in sorted(words))
        when, count = bool(_WHEN.search(stem)), bool(_COUNT.search(stem))
        # Only numbers written as digits identify the event ("won 2-1", "a 40-day boycott"); a number
        # word ("their first debate", "one of the reasons") rarely recurs in the passage that answers,
        # and neither does an age.
        ageless = _AGE.sub(" ", stem) if "age-is-no-event-number" in rules else stem
        event_numbers = frozenset(digit_numbers(ageless))
        return cls(stem, words, event_numbers, choices, when, weights, count)

    def anchored(self, found: set[str]) -> float:
        """Return the share of the stem's weight whose words occur in ``found``."""
        total = sum(w for _, w in self.weights)
        return sum(w for t, w in self.weights if occurs(t, found)) / total if total else 1.0


def occurs(term: str, found: set[str]) -> bool:
    """Return True when a term, or a longer or shorter form of it (4+ letters), is in ``found``.

    "egypt" matches "egyptian", "ukrain" matches "ukrainian": a name and its adjective.
    """
    if term in found:
        return True
    return len(term) >= 4 and any(len(w) >= 4 and (w.startswith(term) or term.startswith(w)) for w in found)
