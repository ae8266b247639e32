"""Dates in questions: "on Monday", "this week", "in March", "last year" resolved against an as-of date.

Parsing is dateparser's (``search_dates`` with ``add_period``); this module only turns its points and
periods into inclusive windows and drops matches that are not dates in a question (a bare month or
weekday that is a name: "Theresa May", "the Sunday Times"). It adds the one period dateparser does not
know, "this/last weekend".
"""

from __future__ import annotations

import calendar
import re
import warnings
from datetime import date, datetime, timedelta

from rag.core.types import DateWindow

# A match counts as a date when it has one of these words, a year, or a relative word of its own.
_CUES = {"on", "in", "last", "this", "since", "ago", "during", "past", "earlier", "yesterday", "today"}
_CUES |= {"tonight", "week", "month", "year", "weekend", "recently", "previous"}
_WEEKEND = re.compile(r"\b(this|last|past) weekend\b", re.I)  # dateparser 1.5 has no "weekend"


def _period(day: date, period: str) -> tuple[date, date]:
    """Expand dateparser's point and period into an inclusive (start, end) range."""
    if period == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if period == "month":
        return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])
    if period == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    return day, day


def _is_date(text: str) -> bool:
    """Return True when a matched stretch reads as a date, not a name that contains a month or day."""
    words = text.lower().replace(",", " ").split()
    return any(w in _CUES for w in words) or any(w.isdigit() and len(w) == 4 for w in words)


def question_windows(question: str, as_of: date) -> tuple[DateWindow, ...]:
    """Return the date windows a question mentions, resolved against ``as_of`` (none in the future).

    Args:
        question: The question text.
        as_of: The day the question is asked: "this week" is that day's Monday to Sunday.

    Returns:
        Inclusive windows, each with the words it came from; empty when the question names no date.

    """
    found = _search(question, as_of)
    clauses = [c for c in re.split(r"[,;:!?]", question) if c.strip()]
    if not found and len(clauses) > 1:  # one odd clause can hide the rest ("this week, as part of")
        found = [hit for clause in clauses for hit in _search(clause, as_of)]
    windows: list[DateWindow] = []
    spans = [(t, *_period(when.date(), period)) for t, when, period in found if _is_date(t)]
    for text, start, end in spans + _weekends(question, as_of):
        if start <= as_of:
            windows.append(DateWindow(start.isoformat(), min(end, as_of).isoformat(), text.strip()))
    return tuple(windows)


def _search(text: str, as_of: date) -> list[tuple[str, datetime, str]]:
    """Return dateparser's (text, point, period) matches in ``text``, relative dates from ``as_of``."""
    from dateparser.search import search_dates

    base = datetime.combine(as_of, datetime.min.time()).replace(hour=12)
    settings = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past", "RETURN_AS_TIMEZONE_AWARE": False}
    with warnings.catch_warnings():  # dateparser warns about pytz/locale details on some inputs
        warnings.simplefilter("ignore")
        try:
            found = search_dates(text, languages=["en"], add_period=True, settings=settings) or []
        except (ValueError, OverflowError):  # an impossible date such as "February 30"
            found = []
    return list(found)


def _weekends(question: str, as_of: date) -> list[tuple[str, date, date]]:
    """Return "this/last weekend" as Saturday-Sunday windows: dateparser 1.5 does not parse "weekend".

    "Last weekend" is the one before the as-of day's week; "this weekend" is that week's own weekend
    once it has begun, else (asked on a weekday, about the past) the last one.
    """
    monday = as_of - timedelta(days=as_of.weekday())
    last = (monday - timedelta(days=2), monday - timedelta(days=1))
    this = (monday + timedelta(days=5), monday + timedelta(days=6))
    out = []
    for match in _WEEKEND.finditer(question):
        which = last if match.group(1).lower() in ("last", "past") or this[0] > as_of else this
        out.append((match.group(0), *which))
    return out


# Words that ask about the present without naming a date; dateparser resolves named dates only.
_RECENT = re.compile(
    r"\b(?:recent|recently|latest|currently|days ago|newly|just now)\b|\bnew\b(?! (?-i:[A-Z]))", re.I
)
RECENT_DAYS = 30  # "recently" reaches back this far
SLACK_DAYS = 7  # news of an event is dated up to a week after it


def asks_about_now(question: str) -> bool:
    """Return True when a question asks about the present ("recently", "the latest", "a new ...")."""
    return bool(_RECENT.search(question))


def timely(date_iso: str | None, windows: tuple[DateWindow, ...], as_of: str, recent: bool) -> bool:
    """Return True when a passage dated ``date_iso`` can speak for the time a question asks about.

    A question that names a short period ("on Monday", "this week", "yesterday": 8 days at most) or
    asks about the present needs evidence dated from a week before that period (or 30 days before
    the as-of day) up to the as-of day. Longer periods ("in 2019", "last year") and questions without
    a time ask nothing of the date; undated passages always pass.
    """
    if not date_iso or not as_of:
        return True
    spans = [(date.fromisoformat(w.start), date.fromisoformat(w.end)) for w in windows]
    starts = [s for s, e in spans if (e - s).days <= 8]
    today = date.fromisoformat(as_of)
    if recent:
        starts.append(today - timedelta(days=RECENT_DAYS))
    if not starts:
        return True
    try:
        day = date.fromisoformat(date_iso[:10])
    except ValueError:
        return True
    return any(s - timedelta(days=SLACK_DAYS) <= day <= today for s in starts)
