"""When rag abstains instead of answering: the one rule, in one place.

rag shows an answer only when all of these hold, and otherwise says the documents do not contain one:

1. retrieval found a passage at least ``answer.min_dense_score`` similar to the question (else the
   model is not even asked);
2. some sentence of the draft answers the question and is supported by a passage that is not flagged
   as instructions (``verify.py`` says what "supported" means);
3. at least ``answer.min_supported_share`` of the draft's sentences are supported;
4. a supported sentence is at least ``answer.min_answer_relevance`` similar (cosine) to the question;
5. the model's confidence in its answer (the geometric-mean probability of the tokens it wrote before
   its first citation) is at least ``answer.min_confidence``, when the backend reports token
   probabilities.

Small models do not refuse by themselves (every one tried invented a population for Kyiv), so
abstention is decided here, from evidence, not left to the prompt.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rag.core.settings import AnswerSettings
from rag.core.types import Passage, SentenceCheck
from rag.verify.rules import ALL


def weak_evidence(passages: Sequence[Passage], min_dense: float) -> str:
    """Return why the retrieved evidence is too weak to answer from, or "" when it is enough."""
    if not passages:
        return "no passages retrieved"
    best = max((p.dense_score for p in passages if p.dense_score is not None), default=0.0)
    if best < min_dense:
        return f"weak evidence: best passage similarity {best:.2f} < {min_dense:.2f}"
    return ""


def confidence(text_logprobs: Sequence[tuple[str, float]]) -> float | None:
    """Return the geometric-mean probability of the answer's tokens (those before the first ``[``).

    Args:
        text_logprobs: (token text, log-probability) pairs as generated; empty when unknown.

    Returns:
        A probability in (0, 1], or None when the backend gave no token probabilities.

    """
    answer: list[float] = []
    for text, logprob in text_logprobs:
        if "[" in text:
            break
        if text.strip():
            answer.append(logprob)
    if not answer:
        return None
    return math.exp(sum(answer) / len(answer))


def abstain_reason(
    checks: Sequence[SentenceCheck],
    passages: Sequence[Passage],
    cfg: AnswerSettings,
    relevance: float = 1.0,
    certainty: float | None = None,
    rules: frozenset[str] = ALL,
) -> str:
    """Return why the system should abstain, or "" to answer (the rule is in the module docstring).

    Args:
        checks: The per-sentence support checks of the draft.
        passages: The passages the model was given.
        cfg: The thresholds.
        relevance: Best cosine similarity between the question and a supported sentence.
        certainty: The model's confidence in its answer (``confidence()``), None when unknown.
        rules: The checker's rules in force (``rag.verify.rules``).

    """
    weak = weak_evidence(passages, cfg.min_dense_score) if "weak-evidence" in rules else ""
    if weak:
        return weak
    supported = [c for c in checks if c.supported]
    if not supported and "a-supported-sentence" in rules:
        return "no sentence of the draft answer is supported by its passages"
    if checks and len(supported) / len(checks) < cfg.min_supported_share and "supported-share" in rules:
        return f"only {len(supported)} of {len(checks)} sentences supported"
    if relevance < cfg.min_answer_relevance and "relevant-answer" in rules:
        return f"the supported sentences do not address the question (similarity {relevance:.2f})"
    if certainty is not None and certainty < cfg.min_confidence and "model-sure" in rules:
        return f"the model is unsure of its answer (confidence {certainty:.2f} < {cfg.min_confidence:.2f})"
    return ""
