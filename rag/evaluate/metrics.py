"""Evaluation metrics, one small function each (SQuAD-style normalisation for answer matching)."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

import numpy as np

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": " ", "—": " "})
_POSSESSIVE = re.compile(r"'s\b")  # "India's ambassador" names India
_PUNCT = set(string.punctuation) - {"."}
_STRAY_DOT = re.compile(r"(?<!\d)\.|\.(?!\d)")  # every dot but a decimal point
_TRAILING_ZEROS = re.compile(r"\b(\d+)\.(\d*?)0+\b")  # "1.80" -> "1.8", "2.00" -> "2"


def normalize(text: str) -> str:
    """Lower-case, drop punctuation, articles and extra whitespace (SQuAD's normalisation; "&" is "and").

    Unlike SQuAD, a decimal point stays and decimals compare by value: "1.8%" is "1.80%", not "18%";
    and a possessive names its owner: "India's ambassador" contains "India".
    """
    text = _POSSESSIVE.sub("", text.translate(_QUOTES).lower()).replace("&", " and ")
    text = _TRAILING_ZEROS.sub(lambda m: m.group(1) + (f".{m.group(2)}" if m.group(2) else ""), text)
    text = _STRAY_DOT.sub("", "".join(ch for ch in text if ch not in _PUNCT))
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, answers: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals a normalised accepted answer."""
    pred = normalize(prediction)
    return float(any(pred == normalize(a) for a in answers))


def token_f1(prediction: str, answers: Sequence[str]) -> float:
    """Best token-overlap F1 between the prediction and any accepted answer."""
    pred = normalize(prediction).split()
    best = 0.0
    for answer in answers:
        gold = normalize(answer).split()
        common = sum((Counter(pred) & Counter(gold)).values())
        if common:
            precision, recall = common / len(pred), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def contains_answer(prediction: str, answers: Sequence[str]) -> float:
    """1.0 when some normalised accepted answer occurs inside the normalised prediction."""
    pred = f" {normalize(prediction)} "
    return float(any(f" {normalize(a)} " in pred for a in answers if normalize(a)))


def hit_at_k(relevant_ranks: Sequence[int], k: int) -> float:
    """1.0 when a relevant passage is among the top k (ranks are 1-based)."""
    return float(any(r <= k for r in relevant_ranks))


def recall_at_k(found_at: dict[str, int], wanted: Sequence[str], k: int) -> float:
    """Share of wanted items (gold doc ids or evidence) found within the top k."""
    if not wanted:
        return 0.0
    return sum(1 for w in wanted if found_at.get(w, 10**9) <= k) / len(wanted)


def mrr_at_k(relevant_ranks: Sequence[int], k: int = 10) -> float:
    """Reciprocal rank of the first relevant passage within the top k, else 0."""
    ranks = [r for r in relevant_ranks if r <= k]
    return 1.0 / min(ranks) if ranks else 0.0


def citation_precision(cited_relevant: Sequence[bool]) -> float:
    """Share of cited passages that contain or support the answer (0 when nothing is cited)."""
    return sum(cited_relevant) / len(cited_relevant) if cited_relevant else 0.0


def citation_recall(cited_relevant: Sequence[bool]) -> float:
    """1.0 when a supporting passage is among the cited ones."""
    return float(any(cited_relevant))


def answer_precision(right: Sequence[bool]) -> float:
    """Share of the answers given that are right (0 when none was given)."""
    return sum(right) / len(right) if right else 0.0


def coverage(answered: Sequence[bool]) -> float:
    """Share of questions answered rather than abstained on."""
    return sum(answered) / len(answered) if answered else 0.0


def risk_coverage(scored: Sequence[tuple[float, bool]]) -> list[tuple[float, float, float]]:
    """Precision as the abstention threshold moves: (threshold, coverage, precision) per distinct score.

    Args:
        scored: (confidence, right) for each answer the system would give at threshold 0.

    Returns:
        Points from the lowest threshold (everything answered) to the highest (only the surest);
        coverage is the share of ``scored`` kept.

    """
    points = []
    for t in sorted({c for c, _ in scored}):
        kept = [ok for c, ok in scored if c >= t]
        points.append((t, len(kept) / len(scored), sum(kept) / len(kept)))
    return points


def reliability(scored: Sequence[tuple[float, bool]], bins: int = 5) -> list[tuple[float, float, int]]:
    """Stated confidence against observed precision: (mean confidence, share right, count) per bin.

    Args:
        scored: (confidence, right) for each answer shown.
        bins: Equal-width bins over [0, 1]; empty bins are left out.

    """
    out = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [(c, ok) for c, ok in scored if low <= c < high or (b == bins - 1 and c == 1.0)]
        if inside:
            out.append(
                (
                    sum(c for c, _ in inside) / len(inside),
                    sum(ok for _, ok in inside) / len(inside),
                    len(inside),
                )
            )
    return out


def rate(flags: Sequence[bool]) -> float:
    """Share of True values (0 for an empty list)."""
    return sum(flags) / len(flags) if flags else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Return the q-th percentile (0-100) of values, 0 for none."""
    return float(np.percentile(values, q)) if values else 0.0


def looks_like_refusal(text: str) -> bool:
    """Return True when a free-text answer says the context lacks the answer (no-abstention pipelines)."""
    t = normalize(text)
    cues = (
        "does not provide",
        "does not contain",
        "does not mention",
        "not mentioned",
        "no information",
        "not provided",
        "cannot answer",
        "can not answer",
        "not specified",
        "not stated",
        "unable to",
        "do not contain",
        "not in your documents",
        "context does not",
    )
    return any(c in t for c in cues)
