"""Signals about one checked answer, from which its confidence is computed (``rag.verify.confidence``).

Each signal is a number read off the draft, its passages and the model; none decides alone. The
fitted confidence model weighs them, so a signal that does not help on gold questions gets no weight
instead of becoming another hand-written rule. Names and meanings (all computed for the *answer
sentence*: the first supported sentence, else the first one, and the passage it cites):

- ``sentences``, ``supported_share``: how many sentences the draft has, and the share supported;
- ``coverage``, ``anchor``: of the cited passage's best stretch, the share of the answer's content it
  holds, and the share of the question's (rarity-weighted) words (``rag.verify.support``);
- ``cited_rank``, ``cited_dense``, ``top_dense``: the cited passage's rank and similarity, and the
  best similarity of any passage;
- ``agree_passages``, ``agree_docs``: how many passages, and distinct documents, state the answer;
- ``age_days``: log(1 + days) from the cited page's date to the day asked (a year when undated);
- ``inferred``: the checker moved the citation to another passage;
- ``token_p_mean``, ``token_p_min``, ``token_p_new``: the model's probabilities for the tokens it
  wrote before its first citation (geometric mean, lowest, lowest among words not in the question);
- ``p_yes``: asked after its draft whether the passages state its answer, the model's P("yes");
- ``asks_when``, ``asks_count``, ``choices``: what kind of question it is;
- ``answer_number``, ``answer_terms``, ``echo``: the answer holds a number; log(1 + its content
  words); the share of its words that only repeat the question;
- ``relevance``: cosine similarity of the question and the answer sentence;
- ``supported``: the checker's rules found the answer sentence supported.

Signals from the model (``MODEL_SIGNALS``) cannot be recomputed from a saved draft; the others can.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date

from rag.core.text import numbers
from rag.core.types import Citation, Draft, Passage, Query, SentenceCheck
from rag.verify.injection import for_model
from rag.verify.question import Question, key_terms, occurs
from rag.verify.support import answer_content, support, windows

NAMES = (
    "sentences",
    "supported_share",
    "coverage",
    "anchor",
    "cited_rank",
    "cited_dense",
    "top_dense",
    "agree_passages",
    "agree_docs",
    "age_days",
    "inferred",
    "token_p_mean",
    "token_p_min",
    "token_p_new",
    "p_yes",
    "asks_when",
    "asks_count",
    "choices",
    "answer_number",
    "answer_terms",
    "echo",
    "relevance",
    "supported",
)
MODEL_SIGNALS = ("token_p_mean", "token_p_min", "token_p_new", "p_yes")
_WORD = re.compile(r"[A-Za-z0-9]+")


def token_signals(draft: Draft, question: str) -> dict[str, float]:
    """Return the model's token probabilities for its answer, before the first citation marker.

    ``token_p_new`` is the lowest probability among tokens of words the question does not contain:
    the answer itself, where a guess shows.
    """
    asked = {w.lower() for w in _WORD.findall(question)}
    probs, new = [], []
    for text, logprob in draft.logprobs:
        if "[" in text:
            break
        if not text.strip():
            continue
        probs.append(logprob)
        if any(w.lower() not in asked for w in _WORD.findall(text)):
            new.append(logprob)
    if not probs:
        return {}
    mean = math.exp(sum(probs) / len(probs))
    return {
        "token_p_mean": mean,
        "token_p_min": math.exp(min(probs)),
        "token_p_new": math.exp(min(new or probs)),
    }


def _states(passage: Passage, content: set[str], nums: set[str]) -> bool:
    """Return True when one stretch of the passage holds all of an answer's content words and numbers."""
    for window in windows(passage.chunk.text):
        found = key_terms(window)
        if all(occurs(t, found) for t in content) and nums <= numbers(window):
            return True
    return False


def _age(passage: Passage, as_of: str) -> float:
    """log(1 + days) from the passage's date to the day asked; a year when either is unknown."""
    try:
        days = (date.fromisoformat(as_of) - date.fromisoformat((passage.chunk.date or "")[:10])).days
    except ValueError:
        days = 365
    return math.log1p(max(0, days))


def answer_signals(
    query: Query,
    question: Question,
    draft: Draft,
    passages: Sequence[Passage],
    checks: Sequence[SentenceCheck],
    citations: Sequence[Citation],
    relevance: Callable[[str], float] | None = None,
) -> dict[str, float]:
    """Return every signal that can be read off the draft and its passages (see the module docstring).

    Args:
        query: The question with its as-of day.
        question: The parsed question (stem, choices, weights).
        draft: The model's reply, with token probabilities when the backend gave them.
        passages: The passages, numbered from 1 (flagged ones last).
        checks: The checker's per-sentence verdicts.
        citations: The citations the checker resolved (kept even when it abstains).
        relevance: Similarity of the question to a sentence (None: not measured).

    Returns:
        Signal name -> value; ``p_yes`` is added by the caller, which owns the model.

    """
    shown = for_model(passages)
    if not checks or not shown:
        return {}
    pick = next((c for c in checks if c.supported), checks[0])
    n = pick.cited[0] if pick.cited and 1 <= pick.cited[0] <= len(passages) else 1
    cited = passages[n - 1]
    verdict = support(pick.text, cited, question)
    content, nums = answer_content(pick.text, question)
    agreeing = [p for p in shown if (content or nums) and _states(p, content, nums)]
    words = key_terms(pick.text)
    return {
        "sentences": float(len(checks)),
        "supported_share": sum(c.supported for c in checks) / len(checks),
        "coverage": verdict.coverage,
        "anchor": verdict.anchor,
        "cited_rank": float(n),
        "cited_dense": cited.dense_score or 0.0,
        "top_dense": max(p.dense_score or 0.0 for p in shown),
        "agree_passages": float(len(agreeing)),
        "agree_docs": float(len({p.chunk.doc_id for p in agreeing})),
        "age_days": _age(cited, query.as_of),
        "inferred": float(any(c.inferred and c.sentence == pick.text for c in citations)),
        "asks_when": float(question.asks_when),
        "asks_count": float(question.asks_count),
        "choices": float(bool(question.choices)),
        "answer_number": float(bool(nums)),
        "answer_terms": math.log1p(len(content)),
        "echo": sum(occurs(w, set(question.stem)) for w in words) / len(words) if words else 1.0,
        "relevance": relevance(pick.text) if relevance else 0.0,
        "supported": float(pick.supported),
        **token_signals(draft, question.text),
    }


def complete(signals: Mapping[str, float], known: Mapping[str, float] | None = None) -> dict[str, float]:
    """Return the signals in ``NAMES`` order, ``known`` ones (e.g. saved model signals) taking precedence."""
    merged = {**signals, **(known or {})}
    return {name: float(merged[name]) for name in NAMES if name in merged}
