"""The `rag eval` command: thin rendering over ``rag.evaluate.evaluate``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rag.core.errors import RagError
from rag.evaluate import DEFAULT_CONFIGS, DEFAULT_CORPUS, DEFAULT_QUESTIONS, evaluate, latest_report
from rag.evaluate.runner import PRESETS


@click.command("eval")
@click.argument("more_configs", nargs=-1, metavar="[CONFIG]...")
@click.option(
    "--configs",
    "configs",
    multiple=True,
    help=f"Presets ({', '.join(PRESETS)}) or settings .toml files; several may follow.",
)
@click.option(
    "--corpus",
    type=click.Path(exists=True, path_type=Path),
    default=DEFAULT_CORPUS,
    show_default=True,
    help="A folder of documents or a corpus.jsonl file.",
)
@click.option(
    "--questions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_QUESTIONS,
    show_default=True,
    help="questions.jsonl",
)
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Report folder (resumed if it exists)."
)
@click.option("--resume", is_flag=True, help="Continue the newest report in eval/reports.")
@click.option("--check", "gate", is_flag=True, help="Exit 1 when a metric falls below eval/thresholds.toml.")
@click.option(
    "--thresholds", type=click.Path(path_type=Path), default=Path("eval/thresholds.toml"), show_default=True
)
@click.option("--html", "with_html", is_flag=True, help="Also write report.html.")
@click.pass_context
def eval_command(
    ctx: click.Context,
    more_configs: tuple[str, ...],
    configs: tuple[str, ...],
    corpus: Path,
    questions: Path,
    out: Path | None,
    resume: bool,
    gate: bool,
    thresholds: Path,
    with_html: bool,
) -> None:
    """Evaluate retrieval, answers, citations, abstention and latency on gold questions, side by side."""
    names = list(configs + more_configs) or list(DEFAULT_CONFIGS)
    if resume and out is None:
        out = latest_report(Path("eval/reports"))
    try:
        run = evaluate(
            names,
            ctx.obj,
            corpus,
            questions,
            out,
            thresholds=thresholds if gate else None,
            with_html=with_html,
        )
    except RagError as exc:
        click.secho(f"Error: {exc}", fg="red", err=True)
        sys.exit(2)
    click.echo((run.out / "summary.md").read_text().split("\n![")[0])
    click.echo(
        f"Report: {run.out}/ (results.jsonl, summary.json, summary.md, metrics.png, latency.png, "
        "risk_coverage.png, reliability.png)"
    )
    if run.failures:
        click.secho("Regression gate failed:\n  " + "\n  ".join(run.failures), fg="red", err=True)
        sys.exit(1)
    if gate:
        click.secho("Regression gate passed.", fg="green")
