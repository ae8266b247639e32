"""The answer checker as one component: a draft and its passages in, a ``Verdict`` out.

``Verifier(settings, rarity, embedder).verify(query, draft, passages)`` checks every sentence of the
draft against the passages it cites (``rag.verify.support``), corrects or drops citations
(``rag.verify.citations``) and decides whether to answer at all (``rag.verify.abstain``). The rules
it applies are declared in ``rag.verify.rules``; pass ``rules`` to switch some off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from rag.core.answer_settings import AnswerSettings
from rag.core.types import Citation, Conflict, Draft, Passage, Query, SentenceCheck
from rag.models.embedder import Embedder
from rag.retrieval.question_dates import timely
from rag.verify.abstain import abstain_reason, weak_evidence
from rag.verify.citations import ABSTAIN_TEXT, check_answer, render
from rag.verify.confidence import ConfidenceModel
from rag.verify.conflicts import SUPERSEDED, set_aside_older
from rag.verify.injection import FLAG, for_model
from rag.verify.question import Question
from rag.verify.rules import ALL
from rag.verify.signals import answer_signals, complete
from rag.verify.support import support


@dataclass(frozen=True)
class Verdict:
    """What the checker decided about a draft."""

    checks: tuple[SentenceCheck, ...]
    citations: tuple[Citation, ...]
    invalid: tuple[int, ...]
    reason: str  # why the system abstains; "" when it answers
    confidence: float | None  # the answer's estimated probability of being right (None: not estimated)
    signals: tuple[tuple[str, float], ...] = ()  # what the confidence was computed from

    @property
    def text(self) -> str:
        """The answer shown: the checked sentences with their citations, or the abstention."""
        return ABSTAIN_TEXT if self.reason else render(self.checks)


class Verifier:
    """Checks drafts against their passages and decides when to abstain."""

    def __init__(
        self,
        settings: AnswerSettings,
        rarity: Callable[[str], float] | None = None,
        embedder: Embedder | None = None,
        rules: Iterable[str] = ALL,
        confidence: ConfidenceModel | None = None,
    ) -> None:
        """Set up the checker.

        Args:
            settings: The thresholds (``answer.*``).
            rarity: How telling a term is in the index (BM25's IDF); None weighs every word alike.
            embedder: Needed only when ``answer.min_answer_relevance`` is set.
            rules: The ids of the rules to apply (default: all of ``rag.verify.rules``).
            confidence: The fitted confidence model (None: answers get no confidence).

        """
        self.settings, self.rarity, self.embedder = settings, rarity, embedder
        self.confidence = confidence
        threshold = settings.min_confidence
        self.threshold = threshold if threshold is not None else (confidence.threshold if confidence else 0.0)
        self.rules = frozenset(rules)
        unknown = self.rules - ALL
        if unknown:
            raise ValueError(f"unknown checker rules: {', '.join(sorted(unknown))}")

    def set_aside(
        self, query: Query, passages: Sequence[Passage]
    ) -> tuple[tuple[Passage, ...], tuple[Conflict, ...]]:
        """Set aside each passage a newer one contradicts (rag.verify.conflicts); return all, reordered."""
        if "newest-wins" not in self.rules:
            return tuple(passages), ()
        return set_aside_older(Question.parse(query.text, self.rarity, self.rules), passages)

    def too_weak(self, passages: Sequence[Passage]) -> str:
        """Return why the passages are too weak to ask the model at all, or "" when they may do."""
        if "weak-evidence" not in self.rules:
            return ""
        return weak_evidence(for_model(passages), self.settings.min_dense_score)

    def verify(
        self,
        query: Query | str,
        draft: Draft,
        passages: Sequence[Passage],
        self_check: Callable[[], float | None] | None = None,
        known: Mapping[str, float] | None = None,
    ) -> Verdict:
        """Check a draft against its passages, estimate its confidence and decide whether to answer.

        Args:
            query: The question (with its as-of day and the dates it names), or its bare text.
            draft: The model's reply with ``[n]`` markers (empty when the model was not asked).
            passages: The passages the draft was written from, numbered from 1; flagged ones last.
            self_check: Asks the model whether the passages state its answer: its P("yes"). Called
                only when the rules let the answer through (or ``answer.signals_always``).
            known: Signals already measured (a saved run's model signals), used instead of new ones.

        Returns:
            The per-sentence checks, the citations kept, the confidence and, when it abstains, why.

        """
        q = query if isinstance(query, Query) else Query(str(query), date.today().isoformat())
        question = Question.parse(q.text, self.rarity, self.rules)
        others = "other-passages-may-support" in self.rules
        headers = "copied-header-is-no-claim" in self.rules
        checks, citations, invalid = check_answer(
            draft.text, passages, self.judge(question, q), others, headers
        )
        relevance = self.relevance(question.text, checks)
        reason = self.too_weak(passages) or abstain_reason(
            checks, for_model(passages), self.settings, relevance, self.rules
        )
        signals: dict[str, float] = {}
        if draft.text and (not reason or self.settings.signals_always):
            similarity = (lambda text: self._cosines(q.text, [text])[0]) if self.embedder else None
            signals = answer_signals(q, question, draft, passages, checks, citations, similarity)
            signals = complete(signals, self._model_signals(self_check, known))
        confidence = self.confidence.predict(signals) if self.confidence and signals else None
        if (
            not reason
            and confidence is not None
            and confidence < self.threshold
            and "confident" in self.rules
        ):
            reason = f"its confidence {confidence:.2f} is below answer.min_confidence {self.threshold:.2f}"
        cited = () if reason else tuple(citations)
        return Verdict(tuple(checks), cited, tuple(invalid), reason, confidence, tuple(signals.items()))

    def _model_signals(
        self, self_check: Callable[[], float | None] | None, known: Mapping[str, float] | None
    ) -> dict[str, float]:
        """Return the signals only the model can give: saved ones, else the self-check when it is wanted.

        The self-check costs about a second; it runs only when the confidence model weighs ``p_yes``
        (the packaged one does not: it added nothing on the news sets) or every signal is asked for.
        """
        found = dict(known or {})
        weighed = self.confidence is not None and "p_yes" in self.confidence.names
        wanted = self.settings.self_check and (weighed or self.settings.signals_always)
        if "p_yes" not in found and self_check is not None and wanted:
            p_yes = self_check()
            if p_yes is not None:
                found["p_yes"] = p_yes
        return found

    def _cosines(self, question: str, sentences: Sequence[str]) -> list[float]:
        """Return the cosine similarity of the question to each sentence (the embedder's unit vectors)."""
        if self.embedder is None:
            raise ValueError("answer.min_answer_relevance needs an embedder: Verifier(..., embedder=...)")
        q, *vectors = self.embedder.embed([question, *sentences])
        return [sum(a * b for a, b in zip(q, v, strict=True)) for v in vectors]

    def judge(self, question: Question, query: Query | None) -> Callable[[str, Passage], tuple[bool, str]]:
        """Return the support test for this question; flagged or out-of-time passages support nothing.

        A question that asks for a time ("what year did ...") may be answered from a page of any date.
        """
        cfg, rules = self.settings, self.rules

        def judge(sentence: str, passage: Passage) -> tuple[bool, str]:
            if FLAG in passage.flags and "instructions-are-not-evidence" in rules:
                return False, "the passage gives instructions to the model; it is not evidence"
            if SUPERSEDED in passage.flags and "newest-wins" in rules:
                return False, "a newer passage states otherwise"
            if (
                query
                and "timely" in rules
                and not question.asks_when
                and not timely(passage.chunk.date, query.windows, query.as_of, query.recent)
            ):
                return (
                    False,
                    f"the passage ({passage.chunk.date}) is older than the time the question asks about",
                )
            verdict = support(sentence, passage, question, cfg.min_answer_coverage, cfg.min_anchor, rules)
            return verdict.ok, verdict.reason

        return judge

    def relevance(self, question: str, checks: Sequence[SentenceCheck]) -> float:
        """Best cosine similarity between the question and a supported sentence (1 when not measured)."""
        if self.settings.min_answer_relevance <= 0 or "relevant-answer" not in self.rules:
            return 1.0
        supported = [c.text for c in checks if c.supported]
        return max(self._cosines(question, supported)) if supported else 0.0
