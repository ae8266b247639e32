"""When rag abstains instead of answering: the one rule, in one place.

rag shows an answer only when all of these hold, and otherwise says the documents do not contain one:

1. retrieval found a passage at least ``answer.min_dense_score`` similar to the question (else the
   model is not even asked);
2. some sentence of the draft answers the question and is supported by a passage that is not flagged
   as instructions (``rag.verify.support`` says what "supported" means);
3. at least ``answer.min_supported_share`` of the draft's sentences are supported;
4. a supported sentence is at least ``answer.min_answer_relevance`` similar (cosine) to the question;
5. the answer's confidence (``rag.verify.confidence``: its estimated probability of being right) is
   at least ``answer.min_confidence`` (the Verifier applies this one, after the signals are read).

Small models do not refuse by themselves (every one tried invented a population for Kyiv), so
abstention is decided here, from evidence, not left to the prompt.
"""

from __future__ import annotations

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


def abstain_reason(
    checks: Sequence[SentenceCheck],
    passages: Sequence[Passage],
    cfg: AnswerSettings,
    relevance: float = 1.0,
    rules: frozenset[str] = ALL,
) -> str:
    """Return why the system should abstain, or "" to answer (the rule is in the module docstring).

    Args:
        checks: The per-sentence support checks of the draft.
        passages: The passages the model was given.
        cfg: The thresholds.
        relevance: Best cosine similarity between the question and a supported sentence.
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
    return ""
