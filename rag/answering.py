"""One answer, step by step: the query and its dates, the passages for the model, the draft, the checks."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from .abstain import abstain_reason, confidence
from .cite import ABSTAIN_TEXT, Judge, check_answer, render
from .dates import asks_about_now, question_windows, timely
from .embed import Embedder
from .errors import QuestionError
from .guard import FLAG, flag_instructions
from .models import ChatModel
from .prompt import condense_messages
from .question import Question
from .settings import AnswerSettings
from .types import Citation, Passage, Query, SentenceCheck
from .verify import support


def check_question(question: str, limit: int) -> str:
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


def for_model(passages: Sequence[Passage]) -> tuple[Passage, ...]:
    """Return the passages the model sees (the unflagged ones, which come first)."""
    return tuple(p for p in passages if FLAG not in p.flags)


@dataclass(frozen=True)
class Draft:
    """The model's reply with its token probabilities and token counts."""

    text: str
    logprobs: tuple[tuple[str, float], ...] = ()
    prompt_tokens: int = 0
    completion_tokens: int = 0


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


def judge_for(question: Question, cfg: AnswerSettings, query: Query | None = None) -> Judge:
    """Return the support test for this question; flagged or out-of-time passages support nothing.

    A question that asks for a time ("what year did ...") may be answered from a page of any date.
    """

    def judge(sentence: str, passage: Passage) -> tuple[bool, str]:
        if FLAG in passage.flags:
            return False, "the passage gives instructions to the model; it is not evidence"
        if (
            query
            and not question.asks_when
            and not timely(passage.chunk.date, query.windows, query.as_of, query.recent)
        ):
            return False, f"the passage ({passage.chunk.date}) is older than the time the question asks about"
        verdict = support(sentence, passage, question, cfg.min_answer_coverage, cfg.min_anchor)
        return verdict.ok, verdict.reason

    return judge


@dataclass(frozen=True)
class Verdict:
    """What the checks decided about a draft."""

    checks: tuple[SentenceCheck, ...]
    citations: tuple[Citation, ...]
    invalid: tuple[int, ...]
    reason: str  # why the system abstains; "" when it answers
    confidence: float | None

    @property
    def text(self) -> str:
        """The answer shown: the checked sentences with their citations, or the abstention."""
        return ABSTAIN_TEXT if self.reason else render(self.checks)


def verify_draft(
    query: Query | str,
    draft: Draft,
    passages: Sequence[Passage],
    cfg: AnswerSettings,
    embedder: Embedder,
    weak: str = "",
    rarity: Callable[[str], float] | None = None,
) -> Verdict:
    """Check a draft against its passages and decide whether to answer (see ``rag.abstain``).

    ``rarity`` weighs the question's words by how telling they are in the index (BM25's IDF).
    """
    q = query if isinstance(query, Query) else None
    question = Question.parse(query.text if isinstance(query, Query) else query, rarity)
    checks, citations, invalid = check_answer(draft.text, passages, judge_for(question, cfg, q))
    certainty = confidence(draft.logprobs)
    relevance = answer_relevance(embedder, question.text, checks) if cfg.min_answer_relevance > 0 else 1.0
    reason = weak or abstain_reason(checks, for_model(passages), cfg, relevance, certainty)
    cited = () if reason else tuple(citations)
    return Verdict(tuple(checks), cited, tuple(invalid), reason, certainty)


def answer_relevance(embedder: Embedder, question: str, checks: Sequence[SentenceCheck]) -> float:
    """Return the best cosine similarity between the question and a supported sentence (0 if none)."""
    supported = [c.text for c in checks if c.supported]
    if not supported:
        return 0.0
    q, *sentences = embedder.embed([question, *supported])
    return max(sum(a * b for a, b in zip(q, v, strict=True)) for v in sentences)
