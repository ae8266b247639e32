"""Answer-focused support: a passage must state what a sentence adds beyond the question.

A sentence is supported by a passage when one passage sentence, with its neighbours, holds:

1. its *answer*: what it adds beyond the question. That is the choice it picks when the question
   offers choices (an "Options: a; b; c" line), else its names (by their last word: "Rutte" for
   "Mark Rutte") and numbers that the question does not contain, else its other new words. Words
   that only restate the question ("the incident took place in Boulder"), or echo a question word
   in another form ("Canada" for "Canadian"), are not required beside a name or number;
2. each of its numbers with the same event ("17 killed" is not "17 injured"): a participle next to a
   number in the sentence must not belong to another number in the passage;
3. the question's words, weighted by how telling they are in the index (at least ``min_anchor`` of
   that weight, not counting the answer's own words), and every number the question names, so the
   answer is about what was asked: "baggage" must be there, not only "airline" and "change"; "won
   2-1 over Liverpool" is about one match, not any.

A sentence that adds nothing beyond the question answers nothing and is never supported; nor, when
the question offers choices, does one that names none of them (a restatement of a passage's fact
beside the question is not a pick), nor one without a number for "how many". A page's date counts as
stated for a question asking when, except in a stretch that looks ahead ("next week's summit").
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from rag.core.text import numbers, sentence_spans, terms
from rag.core.types import Passage
from rag.verify.question import Question, key_terms, occurs
from rag.verify.rules import ALL

_AHEAD = re.compile(r"\b(?:next|tomorrow|upcoming|will|later this|coming)\b", re.I)
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[A-Za-z][A-Za-z'’-]*")
# Capitalised but not names: a date's words are checked through its numbers and the passage's date.
_CALENDAR = set(
    calendar.month_name[1:] + calendar.month_abbr[1:] + calendar.day_name[:] + calendar.day_abbr[:]
)


@dataclass(frozen=True)
class Support:
    """How one passage supports one sentence; ``reason`` says what is missing when it does not."""

    ok: bool
    reason: str
    coverage: float = 0.0  # share of the answer found in the best window
    anchor: float = 0.0  # share of the question's words found in that window

    def rank(self) -> tuple[bool, float, float]:
        """Order for picking the best window: a verdict first, then coverage, then anchoring."""
        return self.ok, self.coverage, self.anchor


def answer_content(
    sentence: str, question: Question, rules: frozenset[str] = ALL
) -> tuple[set[str], set[str]]:
    """Return the terms and numbers that are the sentence's answer (see the module docstring)."""
    nums = numbers(sentence) - question.stem_numbers
    said = key_terms(sentence)
    picked = picked_choices(sentence, question) if "names-a-choice" in rules else []
    if picked:
        chosen = max(picked, key=lambda c: len(key_terms(c)))
        return _words(chosen) - question.stem, nums & numbers(chosen)
    names = {t for w in name_heads(sentence, "names-by-surname" in rules) for t in key_terms(w)}
    # Another form of a question word only echoes it: "Canada" adds nothing to "which Canadian city".
    new = {t for t in said - question.stem if not _echoes(t, question.stem, "echo-is-no-answer" in rules)}
    return (names & new) or (set() if nums else new), nums


def name_heads(sentence: str, surname: bool = True) -> list[str]:
    """Return the last word of each run of capitalised words: "Mark Rutte" -> "Rutte".

    A passage names a person by surname once introduced ("Rutte was blunt"); the given name is not
    what must be found. Words of a date are not names. Without ``surname``, every word of a run.
    """
    heads: list[str] = []
    run = False
    for w in _TOKEN.findall(sentence):
        capital = w[:1].isupper() and w not in _CALENDAR
        if capital and run and surname:
            heads[-1] = w
        elif capital:
            heads.append(w)
        run = capital
    return heads


def _echoes(term: str, stem: frozenset[str], forms: bool = True) -> bool:
    """Return True when ``term`` is a question word, or (``forms``) one in another form ("canada")."""
    return occurs(term, set(stem)) or (forms and len(term) >= 5 and any(w[:5] == term[:5] for w in stem))


def _words(text: str) -> set[str]:
    """Key terms of ``text`` that are not digits ("1.80%" is the number 1.8, not the word "80")."""
    return {t for t in key_terms(text) if not t.isdigit()}


def picked_choices(sentence: str, question: Question) -> list[str]:
    """Return the offered choices the sentence names: all of a choice's words and numbers.

    Numbers compare by value, so "1.8%" names the choice "1.80%".
    """
    said, nums = key_terms(sentence), numbers(sentence)
    return [
        c for c in question.choices if (_words(c) or numbers(c)) and _words(c) <= said and numbers(c) <= nums
    ]


def windows(text: str, neighbours: bool = True) -> list[str]:
    """Each sentence of a passage with its neighbours (a fact and its subject often straddle two)."""
    spans = sentence_spans(text) or [(0, len(text))]
    last, reach = len(spans) - 1, int(neighbours)
    return [text[spans[max(0, i - reach)][0] : spans[min(last, i + reach)][1]] for i in range(len(spans))]


def number_owners(text: str) -> dict[str, set[str]]:
    """Map each number to the participles that say what happened to it ("killed", "injured").

    A participle within three words belongs to the nearest number (the later one on a tie): in
    "killed 17 people and injured more than 200", "killed" belongs to 17 and "injured" to 200.
    Without a parser this is the one relation that is cheap and reliable enough to check.
    """
    tokens: list[tuple[str, str, bool]] = []  # (number or "", stem, is participle)
    for raw in _TOKEN.findall(text):
        if raw[0].isdigit():
            tokens.append((next(iter(numbers(raw)), raw), "", False))
        else:
            tokens.extend(("", t, raw.lower().endswith(("ed", "ing"))) for t in terms(raw, strict=True))
    spots = [i for i, (n, _, _) in enumerate(tokens) if n]
    owners: dict[str, set[str]] = {}
    for i, (n, word, participle) in enumerate(tokens):
        if n or not spots:
            continue
        nearest = min(spots, key=lambda p: (abs(p - i), -p))
        if participle and abs(nearest - i) <= 3:
            owners.setdefault(tokens[nearest][0], set()).add(word)
    return owners


def _misplaced_number(sentence: str, window: str, wanted: set[str]) -> str:
    """Return a number of the sentence whose own words belong to another number in the window, or ""."""
    mine, theirs = number_owners(sentence), number_owners(window)
    for n in sorted(wanted):
        others = set().union(*(w for m, w in theirs.items() if m != n)) - theirs.get(n, set())
        if mine.get(n, set()) & others:
            return n
    return ""


def _window_support(
    sentence: str,
    answer: tuple[set[str], set[str]],
    window: str,
    question: Question,
    limits: tuple[float, float],
    rules: frozenset[str] = ALL,
) -> Support:
    """Judge one window of a passage against the sentence's ``answer`` (``answer_content``).

    ``limits`` are the coverage and anchor the window needs. The rule is in the module docstring.
    """
    (content, nums), (coverage, anchor) = answer, limits
    found = key_terms(window)
    covered = sum(occurs(t, found) for t in content) / len(content) if content else 1.0
    # The answer's own words do not tie the window to the question ("Arabia" is not "Arab nations").
    own = content if "answer-is-no-anchor" in rules else set()
    anchored = question.anchored({w for w in found if not any(occurs(c, {w}) for c in own)})
    missing = nums - numbers(window)
    if missing and "numbers-stated" in rules:
        return Support(False, f"numbers not in the passage: {', '.join(sorted(missing))}", covered, anchored)
    if covered < coverage and "answer-stated" in rules:
        absent = sorted(t for t in content if not occurs(t, found))
        return Support(False, f"the passage does not state: {', '.join(absent)}", covered, anchored)
    if (anchored < anchor or anchored == 0) and "about-the-question" in rules:
        return Support(False, "the passage is not about what was asked", covered, anchored)
    unnamed = question.stem_numbers - numbers(window)
    if unnamed and "event-numbers" in rules:
        return Support(
            False, f"the passage is not about the {', '.join(sorted(unnamed))} asked of", covered, anchored
        )
    misplaced = _misplaced_number(sentence, window, nums | (numbers(sentence) & numbers(window)))
    if misplaced and "number-keeps-its-words" in rules:
        return Support(False, f"in the passage, {misplaced} counts something else", covered, anchored)
    return Support(True, "", covered, anchored)


def support(
    sentence: str,
    passage: Passage,
    question: Question,
    coverage: float = 1.0,
    anchor: float = 0.0,
    rules: frozenset[str] = ALL,
) -> Support:
    """Decide whether a passage states what ``sentence`` adds beyond the question.

    Args:
        sentence: One sentence of the draft answer, without its citation markers.
        passage: The passage; its title and date count as part of every window.
        question: The parsed question.
        coverage: Share of the sentence's answer that one window must hold.
        anchor: Share of the question's words that window must hold (at least one always).
        rules: The ids of the rules applied (``rag.verify.rules``).

    Returns:
        The best window's verdict.

    """
    if question.choices and not picked_choices(sentence, question) and "names-a-choice" in rules:
        return Support(False, "it names none of the choices the question offers")
    content, nums = answer_content(sentence, question, rules)
    if not content and not nums and "adds-something" in rules:
        return Support(False, "adds nothing to the question, so it does not answer it")
    if question.asks_count and not nums and "count-needs-a-number" in rules:
        return Support(False, "the question asks how many or how much; the sentence gives no number")
    chunk = passage.chunk
    best: Support | None = None
    for window in windows(chunk.text, "neighbour-sentences" in rules):
        # The passage's title always counts; its date only when the question asks about time
        # (otherwise the publication year would vouch for any year the model writes) and the
        # stretch does not look ahead ("next week's summit" is not on the day the page came out).
        ahead = "look-ahead" in rules and _AHEAD.search(window)
        dated = question.asks_when and "page-date-for-when" in rules and not ahead
        meta = f"{chunk.title}, {chunk.date or ''}" if dated else chunk.title
        verdict = _window_support(
            sentence, (content, nums), f"{window}\n{meta}", question, (coverage, anchor), rules
        )
        if best is None or verdict.rank() > best.rank():
            best = verdict
    assert best is not None
    return best
