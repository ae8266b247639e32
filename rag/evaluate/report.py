"""Summaries, Markdown tables, PNG plots and the regression gate for an evaluation run."""

from __future__ import annotations

import html
import json
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any

from rag.evaluate.summary import ANSWER, CHECKER, HONEST, LATENCY, RETRIEVAL, summarize_config

HEADLINE = (*HONEST, "hit@3", "mrr@10", "contains", "cite_recall")


def load_results(results: Path) -> dict[str, list[dict[str, Any]]]:
    """Group the lines of results.jsonl by config, in first-seen order."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in results.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        groups[row["config"]].append(row)
    return dict(groups)


def markdown(summary: dict[str, dict[str, Any]], title: str) -> str:
    """Render the summary as Markdown tables, one column per config."""
    names = list(summary)
    lines = [f"# {title}", ""]
    sections = [
        ("Answers judged by gold, not by rag's checker", HONEST),
        ("Retrieval (answerable questions)", RETRIEVAL),
        ("Answer text (abstaining on an answerable question scores 0)", ANSWER),
        ("Citations", ("cite_precision", "cite_recall", "invalid_citations")),
        ("The checker as a classifier of drafts (right/wrong by gold x kept/stopped)", CHECKER),
        ("Latency (seconds; prompt tokens)", tuple(f"{k}_{p}" for k in LATENCY for p in ("p50", "p95"))),
    ]
    n = summary[names[0]]
    lines.append(
        f"{n['questions']} questions: {n['answerable']} answerable, {n['unanswerable']} unanswerable."
    )
    for head, keys in sections:
        lines += [
            "",
            f"## {head}",
            "",
            "| metric | " + " | ".join(names) + " |",
            "|---|" + "---|" * len(names),
        ]
        lines += [f"| {k} | " + " | ".join(f"{summary[c][k]}" for c in names) + " |" for k in keys]
    return "\n".join(lines + _kinds(summary)) + "\n"


def _kinds(summary: dict[str, dict[str, Any]]) -> list[str]:
    """One table per config of the honest metrics by question kind (empty when there are no kinds)."""
    lines = []
    for name, values in summary.items():
        kinds = values.get("by_kind") or {}
        if not kinds:
            continue
        lines += ["", f"## By question kind: {name}", "", "| kind | questions | " + " | ".join(HONEST) + " |"]
        lines.append("|---|---|" + "---|" * len(HONEST))
        for kind, v in kinds.items():
            lines.append(f"| {kind} | {v['questions']} | " + " | ".join(str(v[k]) for k in HONEST) + " |")
    return lines


def plots(
    summary: dict[str, dict[str, Any]], groups: dict[str, list[dict[str, Any]]], out: Path
) -> list[Path]:
    """Write metric bars per config and the latency distribution as PNG files."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summary)
    fig, ax = plt.subplots(figsize=(11, 4.5))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        xs = [j + i * width for j in range(len(HEADLINE))]
        ax.bar(xs, [summary[name][k] for k in HEADLINE], width, label=name)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(HEADLINE))], HEADLINE, rotation=25, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_title("Metrics per config (higher is better, except false_abstain)")
    ax.legend()
    fig.tight_layout()
    bars = out / "metrics.png"
    fig.savefig(bars, dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.boxplot([[r["timings"]["total"] for r in groups[n]] for n in names], tick_labels=names)
    ax.set_ylabel("seconds per answer (excluding model load)")
    ax.set_title("Latency distribution")
    fig.tight_layout()
    latency = out / "latency.png"
    fig.savefig(latency, dpi=110)
    plt.close(fig)
    return [bars, latency, _risk_plot(summary, out, plt), _reliability_plot(summary, out, plt)]


def _reliability_plot(summary: dict[str, dict[str, Any]], out: Path, plt: Any) -> Path:
    """Confidence stated against precision observed, for the answers shown: on the diagonal is honest."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="as stated")
    for name, values in summary.items():
        points = values.get("reliability") or []
        if points:
            ax.plot([c for c, _, _ in points], [p for _, p, _ in points], marker="o", label=name)
            for c, p, n in points:
                ax.annotate(str(n), (c, p), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xlabel("confidence stated (mean of the bin)")
    ax.set_ylabel("share of those answers that were right")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_title("Reliability of the confidence (answers shown; n per point)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = out / "reliability.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _risk_plot(summary: dict[str, dict[str, Any]], out: Path, plt: Any) -> Path:
    """Precision against coverage as the confidence threshold moves, one line per config."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, values in summary.items():
        points = values.get("risk_coverage") or []
        if points:
            ax.plot([c for _, c, _ in points], [p for _, _, p in points], marker=".", label=name)
    ax.set_xlabel("coverage (share of checked drafts answered)")
    ax.set_ylabel("precision (right answers / answers given)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_title("Risk-coverage: raising the confidence threshold")
    ax.grid(alpha=0.3)
    if any(v.get("risk_coverage") for v in summary.values()):
        ax.legend()
    fig.tight_layout()
    path = out / "risk_coverage.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(out: Path, title: str, with_html: bool = False) -> dict[str, dict[str, Any]]:
    """Write summary.json, summary.md, the plots and optionally report.html from results.jsonl."""
    groups = load_results(out / "results.jsonl")
    summary = {name: summarize_config(rows) for name, rows in groups.items()}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    md = markdown(summary, title)
    (out / "summary.md").write_text(
        md + "\n![metrics](metrics.png)\n\n![latency](latency.png)\n\n![risk-coverage](risk_coverage.png)\n"
        "\n![reliability](reliability.png)\n"
    )
    plots(summary, groups, out)
    if with_html:
        body = "".join(f"<pre>{html.escape(md)}</pre>")
        (out / "report.html").write_text(
            f"<html><meta charset='utf-8'><title>{html.escape(title)}</title><body>{body}"
            "<img src='metrics.png'><img src='latency.png'><img src='risk_coverage.png'>"
            "<img src='reliability.png'></body></html>"
        )
    return summary


def check(summary: dict[str, dict[str, Any]], thresholds: Path) -> list[str]:
    """Return one line per metric below its threshold; a config with no thresholds fails too."""
    if not thresholds.exists():
        return [f"no thresholds file at {thresholds}: create it with a [config] table of metric floors"]
    limits = tomllib.loads(thresholds.read_text())
    failures = []
    for name, values in summary.items():
        if name not in limits:
            failures.append(f"{name}: no thresholds in {thresholds}; add a [{name}] table or drop --check")
        for metric, floor in limits.get(name, {}).items():
            value = values.get(metric)
            ceiling = metric.startswith(("false_abstain", "invalid"))  # lower is better for these
            if value is None:
                failures.append(f"{name}: unknown metric {metric} in {thresholds}")
            elif ceiling and value > floor:
                failures.append(f"{name}: {metric} = {value} above the ceiling {floor}")
            elif not ceiling and value < floor:
                failures.append(f"{name}: {metric} = {value} below {floor}")
    return failures
