"""The answer checker."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.core.setting_groups import AnswerSettings
from rag.core.types import Citation, Draft, Passage, Query, SentenceCheck
from rag.models.embedder import Embedder
from rag.retrieval.question_dates import timely
from rag.verify.abstain import abstain_reason, confidence
from rag.verify.citations import ABSTAIN_TEXT, Judge, check_answer, render
from rag.verify.injection import FLAG, for_model
from rag.verify.question import Question
from rag.verify.support import support


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
    """Check a draft against its passages and decide whether to answer (see ``rag.verify.abstain``).

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
