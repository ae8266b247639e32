"""Cut a paragraph too long for one chunk into pieces that fit, packed by the embedder's token counts.

Pieces end at sentence ends (or line breaks, in a table), else at whitespace, else anywhere.

The scans are plain linear regexes (one character class each, no nested repetition) and every
tokenizer call sees a bounded string; ``rag.ingestion.chunking`` decides what is cut.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s)|[。！？]")
_SPACE = re.compile(r"\s+")
# A chunk holds at most this many characters per token of budget: a tokenizer may read a long
# run of letters as one [UNK], so a token count alone does not bound a chunk's size.
CHARS_PER_TOKEN_CAP = 32

Span = tuple[int, int]
Counter = Callable[[str], int]


def trim(text: str, start: int, end: int) -> Span | None:
    """Return ``(start, end)`` without surrounding whitespace, or None when only whitespace is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


class Budget:
    """Whether a span fits one chunk: at most ``max_tokens`` tokens and a bounded number of characters."""

    def __init__(self, text: str, count_tokens: Counter, max_tokens: int) -> None:
        self.text, self.count, self.max_tokens = text, count_tokens, max_tokens
        self.max_chars = max_tokens * CHARS_PER_TOKEN_CAP
        self.overhead = count_tokens("")  # [CLS] and [SEP]: counted once per chunk

    def tokens(self, start: int, end: int) -> int | None:
        """Return the bare token count of a span, or None when it is too long to be counted cheaply."""
        if end - start > self.max_chars:
            return None
        return self.count(self.text[start:end]) - self.overhead

    def fits(self, start: int, end: int) -> bool:
        """Return True when the span fits one chunk."""
        n = self.tokens(start, end)
        return n is not None and n + self.overhead <= self.max_tokens


def _sentences(text: str, start: int, end: int) -> Iterator[Span]:
    """Yield trimmed sentence spans of ``text[start:end]`` (cut after an end mark and its closers)."""
    pos = start
    for mark in _SENTENCE_END.finditer(text, start, end):
        span = trim(text, pos, mark.end())
        if span:
            yield span
        pos = mark.end()
    span = trim(text, pos, end)
    if span:
        yield span


def _longest_fit(budget: Budget, start: int, end: int, guess: int) -> int:
    """Return ``q`` in (start, end] with ``text[start:q]`` fitting, within 3% of the longest such.

    The search starts from a guess (the previous piece's length), grows by 1/8 until a probe does
    not fit, then bisects: a handful of tokenizer calls on bounded strings per piece.
    """
    lo, hi = start, end + 1  # text[start:lo] fits; text[start:hi] does not (end + 1: not probed yet)
    q = min(end, start + max(1, guess))
    while True:
        if budget.fits(start, q):
            lo = q
        else:
            hi = q
        if lo == end or hi - lo <= max(1, (lo - start) // 32):
            return max(lo, start + 1)
        q = (lo + hi) // 2 if hi <= end else min(end, lo + max(1, (lo - start) // 8))


def _cut(budget: Budget, start: int, end: int) -> Iterator[Span]:
    """Cut a span too long for one chunk at whitespace (else anywhere) into pieces that fit."""
    guess = budget.max_tokens * 4
    while start < end:
        q = _longest_fit(budget, start, end, guess)
        cut = next_start = q
        if q < end:
            spaces = list(_SPACE.finditer(budget.text, start + 1, q + 1))  # a bounded window
            if spaces:  # cut before the last whitespace run that starts in the piece
                cut, next_start = spaces[-1].start(), spaces[-1].end()
        yield start, cut
        guess = q - start  # the next piece is likely about as long
        start = next_start
        while start < end and budget.text[start].isspace():
            start += 1


def _lines(text: str, start: int, end: int) -> Iterator[Span]:
    """Yield the trimmed non-empty line spans of ``text[start:end]`` (rows of a table, lines of code)."""
    pos = start
    while pos < end:
        brk = text.find("\n", pos, end)
        stop = end if brk < 0 else brk
        span = trim(text, pos, stop)
        if span:
            yield span
        pos = stop + 1


def _pieces(budget: Budget, start: int, end: int, by_line: bool = False) -> Iterator[tuple[int, int, int]]:
    """Yield (start, end, bare tokens) of the sentences (or lines) of a span, long ones cut further."""
    for s, e in (_lines if by_line else _sentences)(budget.text, start, end):
        n = budget.tokens(s, e)
        if n is not None and n + budget.overhead <= budget.max_tokens:
            yield s, e, n
        else:
            for a, b in _cut(budget, s, e):
                yield a, b, budget.tokens(a, b) or 0


def pack(budget: Budget, start: int, end: int, overlap: int, by_line: bool = False) -> Iterator[Span]:
    """Pack a long paragraph's pieces greedily into chunks; each next one repeats ``overlap`` tokens."""
    pieces = list(_pieces(budget, start, end, by_line))
    limit = budget.max_tokens - budget.overhead
    i = 0
    while i < len(pieces):
        j, total = i + 1, pieces[i][2]
        while (
            j < len(pieces)
            and total + pieces[j][2] <= limit
            and pieces[j][1] - pieces[i][0] <= budget.max_chars
        ):
            total += pieces[j][2]
            j += 1
        while j - i > 1 and not budget.fits(pieces[i][0], pieces[j - 1][1]):  # a non-additive tokenizer
            j -= 1
        yield pieces[i][0], pieces[j - 1][1]
        if j == len(pieces):
            return
        k, carried = j, 0
        while k - 1 > i and carried + pieces[k - 1][2] <= overlap:
            k -= 1
            carried += pieces[k][2]
        i = k
