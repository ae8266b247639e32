"""Aggregate one config's result lines into the report's metrics (none of them uses rag's checker)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from rag.evaluate import metrics as m

RETRIEVAL = ("hit@1", "hit@3", "hit@5", "recall@5", "mrr@10")
ANSWER = ("em", "f1", "contains")
HONEST = (
    "precision",
    "coverage",
    "answered_right",
    "right_citation",
    "abstain_unanswerable",
    "false_abstain",
)
CHECKER = ("kept_right", "stopped_right", "kept_wrong", "stopped_wrong")
LATENCY = ("retrieve", "first_token", "total", "prompt_tokens")


def _mean(rows: list[dict[str, Any]], key: str) -> float:
    return round(sum(r["scores"][key] for r in rows) / len(rows), 4) if rows else 0.0


def _score(r: dict[str, Any], key: str) -> float:
    """Return a per-question score (results written before a metric existed count it from the record)."""
    scores = r["scores"]
    if key in scores:
        return float(scores[key])
    if key == "answered":
        return float(not r["abstained"])
    if key in ("right", "draft_right"):
        text = r["draft"] if key == "draft_right" else ("" if r["abstained"] else r["answer"])
        return m.contains_answer(text, r["accepted"])
    raise KeyError(key)


def honest(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Answer precision, coverage, right answers, right citations and abstention, from gold alone.

    ``precision`` is right answers over answers given (an answer to an unanswerable question is
    wrong); ``coverage`` is answers given over answerable questions; ``answered_right`` is right
    answers over answerable questions; ``right_citation`` is the share of answers given whose cited
    passage holds an accepted answer.
    """
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    given = [r for r in rows if _score(r, "answered")]
    right = [bool(_score(r, "right")) for r in given]
    return {
        "precision": round(m.answer_precision(right), 4),
        "coverage": round(m.coverage([bool(_score(r, "answered")) for r in answerable]), 4),
        "answered_right": round(sum(_score(r, "right") for r in answerable) / max(1, len(answerable)), 4),
        "right_citation": round(m.rate([bool(r["scores"].get("right_citation", 0)) for r in given]), 4),
        "abstain_unanswerable": round(m.rate([r["abstained"] for r in unanswerable]), 4),
        "false_abstain": round(m.rate([r["abstained"] for r in answerable]), 4),
    }


def checker_matrix(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Count drafts by gold (right or wrong) and by the checker (kept or stopped)."""
    out = dict.fromkeys(CHECKER, 0)
    for r in rows:
        if r["draft"]:
            kept = "kept" if _score(r, "answered") else "stopped"
            out[f"{kept}_{'right' if _score(r, 'draft_right') else 'wrong'}"] += 1
    return out


def by_kind(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Return the honest metrics for each question ``kind`` (when the questions file has kinds)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r.get("kind"):
            groups[r["kind"]].append(r)
    return {k: {"questions": len(v), **honest(v)} for k, v in sorted(groups.items())}


def risk_points(rows: list[dict[str, Any]]) -> list[tuple[float, float, float]]:
    """Precision against coverage as the confidence threshold moves (answers with a confidence)."""
    scored = [
        (float(r["confidence"]), bool(m.contains_answer(r["draft"], r["accepted"])))
        for r in rows
        if r.get("confidence") is not None
        and (not r["abstained"] or r["abstain_reason"].startswith("its confidence"))
    ]
    return m.risk_coverage(scored)


def summarize_config(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate one config's result lines into the metrics of the report."""
    answerable = [r for r in rows if r["answerable"]]
    answered = [r for r in answerable if not r["abstained"]]
    out: dict[str, Any] = {
        "questions": len(rows),
        "answerable": len(answerable),
        "unanswerable": len(rows) - len(answerable),
    }
    out |= honest(rows)
    out |= {k: _mean(answerable, k) for k in (*RETRIEVAL, *ANSWER, "cite_recall")}
    out["cite_precision"] = _mean([r for r in answered if r["citations"]], "cite_precision")
    out["invalid_citations"] = int(sum(r["scores"]["invalid_citations"] for r in rows))
    out |= checker_matrix(rows)
    for key in LATENCY:
        values = [float(r["timings"][key]) for r in rows]
        out[f"{key}_p50"] = round(m.percentile(values, 50), 3)
        out[f"{key}_p95"] = round(m.percentile(values, 95), 3)
    out["by_kind"] = by_kind(rows)
    out["risk_coverage"] = risk_points(rows)
    shown = [r for r in rows if not r["abstained"] and r.get("confidence") is not None]
    out["reliability"] = m.reliability([(float(r["confidence"]), bool(r["scores"]["right"])) for r in shown])
    return out
