"""Text helpers shared by every stage: sentences, numbers, search terms, day numbers, spans."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from typing import Any

# A sentence ends at a stop (a closing quote or bracket may follow it) before whitespace, or at a
# blank line: "... he said." Then, and '"... five percent by 2035."\n\n[2] ...' are two sentences.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”’)]))\s+|\n\s*\n\s*")


# A stop after these is not the end of a sentence: "U.S.", "J.", "Mr.", "Jan.", "e.g.".
_ABBREVIATION = re.compile(
    r"(?:\b(?:[A-Z]\.){1,3}|\b(?:Mr|Mrs|Ms|Dr|Prof|St|Gen|Sen|Rep|Gov|Jan|Feb|Mar|Apr|Jun|Jul|Aug|"
    r"Sep|Sept|Oct|Nov|Dec|No|vs|etc|approx|e\.g|i\.e)\.)$"
)


# A number, not part of a name such as G7 (a letter before it); units glued after it (5bn, 10km) are
# fine: "$9bn" against a passage saying "$5bn" must compare 9 with 5.
_NUMBER = re.compile(r"(?<![A-Za-z\d])\d+(?:[.,]\d+)*")


_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "fifty": 50,
    "hundred": 100,
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
}


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Return (start, end) of each sentence, not splitting after abbreviations such as "U.S."."""
    spans: list[tuple[int, int]] = []
    start = 0
    for brk in [*_SENTENCE_END.finditer(text), None]:
        end = brk.start() if brk else len(text)
        if spans and _ABBREVIATION.search(text[spans[-1][0] : spans[-1][1]]):
            spans[-1] = (spans[-1][0], end)
        elif end > start:
            spans.append((start, end))
        start = brk.end() if brk else end
    return spans


def numbers(text: str) -> set[str]:
    """Numbers in ``text`` as digit strings, with number words ("five", "fourth") converted."""
    found = digit_numbers(text)
    found |= {str(_WORDS[w]) for w in re.findall(r"[a-z]+", text.lower()) if w in _WORDS}
    return found


def digit_numbers(text: str) -> set[str]:
    """Numbers written with digits in ``text`` (number words such as "first" left out), canonical."""
    return {_canonical(n) for n in _NUMBER.findall(text)}


def _canonical(number: str) -> str:
    """'1,200' -> '1200', '06' -> '6', '5.0' -> '5'."""
    n = number.replace(",", "").lstrip("0") or "0"
    return n.rstrip("0").rstrip(".") if "." in n else n


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def terms(text: str, strict: bool = False) -> list[str]:
    """Lower-case, stop-word-free, stemmed terms of ``text`` (the same analysis BM25 uses).

    ``strict`` drops the longer (NLTK) English stop-word list too: "how", "many", "were", "than"
    carry no content when a claim is compared with its evidence.
    """
    import bm25s

    stop = _strict_stopwords() if strict else "en"
    tokens = bm25s.tokenize([text], stopwords=stop, stemmer=_stemmer(), return_ids=False, show_progress=False)
    return list(tokens[0])


@lru_cache(maxsize=1)
def _strict_stopwords() -> list[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return [*STOPWORDS_EN_PLUS, "many", "much", "also", "would", "could", "may", "might", "must"]


def day_number(iso: str | None) -> int:
    """Return YYYYMMDD as an int for an ISO date (0 when undated): sortable and filterable in Chroma."""
    if not iso or len(iso) < 10:
        return 0
    try:
        return int(iso[:10].replace("-", ""))
    except ValueError:
        return 0


def days_between(a: str, b: str) -> int:
    """Return the number of days from ISO date ``a`` to ``b`` (negative when ``b`` is earlier)."""
    return (date.fromisoformat(b[:10]) - date.fromisoformat(a[:10])).days


def page_of(pages: Sequence[Sequence[int]], start: int, end: int) -> int | None:
    """Return the page holding most of ``[start, end)`` (the first such on a tie), None if unpaged."""
    best, most = None, 0
    for number, p_start, p_end in pages:
        overlap = min(end, p_end) - max(start, p_start)
        if overlap > most:
            best, most = number, overlap
    return best


def section_of(sections: Sequence[Sequence[Any]], start: int, end: int) -> str | None:
    """Return the heading path covering most of ``[start, end)``; None before the first heading."""
    best: str | None = None
    most = 0
    regions = [(0, None), *((int(s), str(path)) for s, path in sections)]
    for i, (s_start, path) in enumerate(regions):
        s_end = regions[i + 1][0] if i + 1 < len(regions) else end
        overlap = min(end, s_end) - max(start, s_start)
        if overlap > most:
            best, most = path, overlap
    return best
