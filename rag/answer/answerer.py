"""One answer from given passages: the draft as the model writes it, then the checked Answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from rag.answer.prompt import build_messages, self_check_messages
from rag.answer.steps import generate
from rag.core.clock import StageClock
from rag.core.types import Answer, Conflict, Done, Draft, Passage, Query, Token
from rag.models.chat_protocol import ChatModel
from rag.verify.injection import for_model
from rag.verify.verifier import Verdict, Verifier


@dataclass(frozen=True)
class Answerer:
    """Writes a draft with the chat model (loaded on first use) and has the Verifier check it.

    ``hold`` is held around each use of the model (one answer at a time on an in-process model;
    retrieval and the checks of other answers run meanwhile).
    """

    model: Callable[[], ChatModel]
    verifier: Verifier
    excerpt_sentences: int = 0
    hold: Callable[[], AbstractContextManager[object]] = nullcontext

    def answer(
        self,
        query: Query,
        passages: Sequence[Passage],
        clock: StageClock,
        asked: str = "",
        conflicts: Sequence[Conflict] = (),
    ) -> Iterator[Token | Done]:
        """Yield the draft's text as generated, then the checked Answer.

        Args:
            query: The (self-contained) question with its as-of date.
            passages: The passages, numbered from 1 in this order; flagged ones are not shown to the model.
            clock: The stage clock of this answer.
            asked: The question as the user asked it, when ``query`` is a rewritten follow-up.
            conflicts: Passages set aside because a newer one states otherwise (shown with the answer).

        """
        messages = build_messages(query, for_model(passages), self.excerpt_sentences)
        draft = Draft("")
        if not self.verifier.too_weak(passages):
            model = clock.load(self.model)
            clock.lap("prompt")
            with self.hold():
                for piece in generate(model, messages):
                    if isinstance(piece, Draft):
                        draft = piece
                    else:
                        clock.first_token()
                        yield Token(piece)
            clock.lap("generate")
        ask_back = self_check_messages(messages, draft.text)

        def self_check() -> float | None:
            with self.hold():
                return self.model().yes_probability(ask_back)

        verdict = self.verifier.verify(query, draft, passages, self_check)
        clock.lap("check")
        yield Done(_answer(query, passages, clock, asked or query.text, draft, verdict, conflicts))


def _answer(
    query: Query,
    passages: Sequence[Passage],
    clock: StageClock,
    asked: str,
    draft: Draft,
    verdict: Verdict,
    conflicts: Sequence[Conflict],
) -> Answer:
    """Assemble the Answer every surface reads."""
    return Answer(
        question=asked,
        text=verdict.text,
        citations=verdict.citations,
        passages=tuple(passages),
        abstained=bool(verdict.reason),
        timings=clock.timings(draft.prompt_tokens, draft.completion_tokens),
        sentences=verdict.checks,
        draft=draft.text,
        rewritten=query.text if query.text != asked else "",
        abstain_reason=verdict.reason,
        invalid_citations=verdict.invalid,
        as_of=query.as_of,
        confidence=verdict.confidence,
        scope=query.scope,
        signals=verdict.signals,
        conflicts=tuple(conflicts),
    )
