"""One answer, step by step: the query and its dates, the passages for the model, the draft, the checks."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from datetime import date

from rag.answer.prompt import condense_messages
from rag.core.errors import QuestionError
from rag.core.types import Draft, Passage, Query
from rag.models.chat_protocol import ChatModel
from rag.retrieval.question_dates import asks_about_now, question_windows
from rag.verify.injection import FLAG, flag_instructions
from rag.verify.question import Question


def validate_question(question: str, limit: int) -> str:
    """Return the stripped question, or raise QuestionError saying how to fix it."""
    q = question.strip()
    if not q:
        raise QuestionError('The question is empty. Ask something, e.g. rag ask "What did NATO endorse?"')
    if len(q) > limit:
        raise QuestionError(
            f"The question is {len(q):,} characters; the limit is {limit:,}. Shorten it, or raise "
            "RAG_ANSWER__MAX_QUESTION_CHARS."
        )
    return q


def query_day(as_of: date | str | None) -> date:
    """Return the day a question is asked: ``as_of`` (a date or "YYYY-MM-DD"), else today."""
    if as_of is None or as_of == "":
        return date.today()
    if isinstance(as_of, date):
        return as_of
    try:
        return date.fromisoformat(str(as_of).strip())
    except ValueError:
        raise QuestionError(f"The as-of date must look like 2025-06-06, not {as_of!r}.") from None


def make_query(text: str, as_of: date) -> Query:
    """Return the query for a question asked on ``as_of``, with the dates it names or implies.

    Dates are read from the question's stem: years among offered choices are answers, not the time
    the question is about.
    """
    stem = Question.parse(text).text
    return Query(text, as_of.isoformat(), question_windows(stem, as_of), asks_about_now(stem))


def condense(
    model: Callable[[], ChatModel], question: str, history: Sequence[tuple[str, str]], limit: int
) -> str:
    """Rewrite a follow-up as a self-contained question from the chat history (model loaded lazily)."""
    if not history:
        return question
    text = "".join(d.text for d in model().stream(condense_messages(history, question)))
    line = next((x.strip() for x in text.splitlines() if x.strip()), "")
    line = re.sub(r"^(?:Q|Question|Rewritten question)\s*:\s*", "", line, flags=re.I)  # echoed format
    return line if 0 < len(line) <= limit else question


def split_flagged(passages: Sequence[Passage], top_k: int) -> tuple[Passage, ...]:
    """Return the top ``top_k`` unflagged passages, then the flagged ones (never shown to the model).

    Citation numbers follow this order, so the model's ``[n]`` names the n-th passage it saw.
    """
    marked = flag_instructions(passages)
    clean = [p for p in marked if FLAG not in p.flags][:top_k]
    flagged = [p for p in marked if FLAG in p.flags]
    return tuple(clean + flagged)


def generate(model: ChatModel, messages: list[dict[str, str]]) -> Iterator[str | Draft]:
    """Yield text pieces as the model writes them, then the whole Draft."""
    text, logprobs, counts = "", [], (0, 0)
    for delta in model.stream(messages):
        if delta.text:
            text += delta.text
            if delta.logprobs:  # spread one piece's text over its tokens' probabilities
                logprobs += [(delta.text, lp) for lp in delta.logprobs]
            yield delta.text
        if delta.prompt_tokens or delta.completion_tokens:
            counts = (delta.prompt_tokens, delta.completion_tokens)
    yield Draft(text, tuple(logprobs), *counts)
