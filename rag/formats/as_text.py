"""What the command line prints for people: ingest reports, check results and answers with sources."""

from __future__ import annotations

import time
from pathlib import Path

import click

from rag.core.types import Answer, IndexCheck, IngestReport, WatchEvent
from rag.formats.as_markdown import conflict_notes, flag_words, locator
from rag.formats.terminal import plain
from rag.retrieval.scope import describe
from rag.verify.confidence import confidence_line


def print_report(report: IngestReport) -> None:
    """Print what an ingest did, and each file's problem on stderr."""
    click.echo(
        f"{report.documents_seen} documents seen, {report.documents_changed} new or changed: "
        f"{report.chunks_embedded} chunks embedded, {report.chunks_skipped} unchanged, "
        f"{report.chunks_removed} removed ({report.seconds:.1f} s)."
    )
    for note in report.notes:
        click.secho(f"  note: {plain(note)}", fg="yellow", err=True)
    for p in report.problems:
        click.secho(
            f"  {'skipped' if p in report.failures else 'warning'}: {plain(p.path)}: {plain(p.reason)}",
            fg="yellow",
            err=True,
        )


def watch_line(event: WatchEvent) -> str:
    """Return one line of ``rag watch`` output: the time, what happened and to which file."""
    detail = {
        "watching": " (Ctrl-C stops)",
        "renamed": f" (was {plain(event.detail)})",
        "failed": f": {plain(event.detail)}",
        "error": f": {plain(event.detail)}",
    }.get(event.kind, f" ({plain(event.detail)})" if event.detail else "")
    return f"{time.strftime('%H:%M:%S')} {event.kind:<8} {plain(event.path)}{detail}"


CHECK_LABELS = {
    "orphan_vectors": "vectors no document lists (never answered from)",
    "missing_vectors": "indexed chunks without a vector (dense search misses them)",
    "span_mismatches": "vectors whose spans, title or date differ from the manifest",
    "bm25_missing": "indexed chunks missing from the BM25 index",
    "bm25_extra": "BM25 rows that are not indexed chunks",
    "bm25_version_missing": "the BM25 index the manifest names is gone or unreadable",
    "stale_bm25_versions": "old BM25 folders left behind",
    "unfinished_journal": "an ingest died before it cleaned up",
    "outdated_metadata": "chunk metadata of an older rag: no pages, sections, collections or sources",
    "manifest_missing": "the manifest is missing (the vector store still holds chunks)",
    "manifest_damaged": "the manifest is damaged",
    "store_damaged": "the vector store cannot be opened or searched",
    "store_missing": "the vector store is missing (the manifest lists chunks)",
    "bm25_damaged": "the BM25 folder the manifest names is damaged",
    "unplaced_vectors": "vectors that belong to no document (deleted only with --force)",
    "lost_chunks": "listed chunks whose vectors and files are both gone (forgotten only with --force)",
}


def print_check(result: IndexCheck, index_dir: Path) -> None:
    """Print what ``rag check`` found and repaired."""
    click.echo(
        f"Index {index_dir}: {result.documents} documents, {result.chunks} chunks, {result.vectors} "
        f"vectors, generation {result.generation}."
    )
    for action in result.repairs:
        click.echo(f"  repaired: {plain(action)}")
    for name, count in result.problems().items():
        click.secho(f"  {count:6d}  {CHECK_LABELS.get(name, name)} ({name})", fg="yellow")
    for note in result.notes:
        click.secho(f"  {plain(note)}", fg="yellow")
    if result.clean:
        click.secho("Consistent: the vector store, the manifest and BM25 agree.", fg="green")
    else:
        click.secho("Problems found. Fix them with: rag check --repair", fg="yellow")


def print_answer(answer: Answer) -> None:
    """Print a checked answer with its sources (title, date, path, page or section, quote)."""
    click.echo()
    for p in (p for p in answer.passages if p.flags):
        click.secho(f"Not used: {plain(p.chunk.path)}: {flag_words(p.flags)}.", fg="yellow")
    for note in conflict_notes(answer):
        click.secho(f"Documents disagree: {plain(note)}", fg="yellow")
    if answer.abstained:
        click.secho(plain(answer.text), fg="yellow", bold=True)
        click.echo(f"({plain(answer.abstain_reason)})")
        click.echo("\nClosest passages:")
        for n, p in enumerate(answer.passages[:3], 1):
            at = f"{plain(p.chunk.path)} {p.chunk.date or ''} {plain(locator(p.chunk))}"
            text = " ".join(p.chunk.text.split())[:160]  # one line each, however the passage breaks
            click.echo(f"  [{n}] {at}: {plain(text)}…")
        _scope_note(answer)
        return
    click.secho("Checked answer: ", nl=False, dim=True)
    click.secho(plain(answer.text), bold=True)
    if answer.confidence is not None:
        click.secho(f"Confidence: {confidence_line(answer.confidence)}", dim=True)
    for s in answer.sentences:
        if not s.supported and s.reason != "no claim":
            click.secho(f"  unsupported: {plain(s.text)} ({plain(s.reason)})", fg="red")
    click.echo("\nSources:")
    for n in sorted({c.n for c in answer.citations}):
        c = next(c for c in answer.citations if c.n == n)
        ch = c.passage.chunk
        mark = (
            "  (does not support the sentence)"
            if not c.supported
            else "  (cited by the checker)"
            if c.inferred
            else ""
        )
        where = f"{plain(ch.title)} ({ch.date or 'no date'}), {plain(ch.path)}"
        click.echo(f"  [{n}] {where}, {plain(locator(ch))}{mark}")
        click.echo(f'      "{plain(c.quote)}"')
    _scope_note(answer)
    t = answer.timings
    click.secho(
        f"\nas of {answer.as_of}; retrieve {t.retrieve:.2f} s, first token {t.first_token:.1f} s, "
        f"total {t.total:.1f} s, {t.prompt_tokens} prompt tokens",
        dim=True,
    )


def _scope_note(answer: Answer) -> None:
    """Say which documents were searched, when the question was scoped."""
    if answer.scope:
        click.secho(f"\nSearched only {plain(describe(answer.scope))}.", dim=True)
