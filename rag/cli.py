"""The `rag` command line: thin click commands over the Python API; rendering only."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from . import api
from .errors import RagError
from .settings import Settings, load_settings
from .terminal import plain
from .types import Answer, Done, IndexCheck, IngestReport, Retrieved, Token


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


# Exit codes (README "Exit codes"): 0 done; 1 `rag check` found problems; 2 an error (the message
# says the fix); 3 `rag ingest` finished but some files could not be ingested.
EXIT_PROBLEMS, EXIT_ERROR, EXIT_FILES_FAILED = 1, 2, 3


def _fail(exc: RagError) -> None:
    click.secho(f"Error: {plain(str(exc))}", fg="red", err=True)
    sys.exit(EXIT_ERROR)


@click.group()
@click.option("--config", type=click.Path(dir_okay=False), help="A settings TOML file (default: rag.toml).")
@click.option(
    "--index", "index_dir", type=click.Path(file_okay=False), help="Index folder (default: index/)."
)
@click.pass_context
def main(ctx: click.Context, config: str | None, index_dir: str | None) -> None:
    """Answer questions from your own documents, with checked citations."""
    overrides: dict[str, Any] = {"index_dir": Path(index_dir)} if index_dir else {}
    try:
        ctx.obj = load_settings(config, **overrides)
    except RagError as exc:
        _fail(exc)


def _print_report(report: IngestReport) -> None:
    click.echo(
        f"{report.documents_seen} documents seen, {report.documents_changed} new or changed: "
        f"{report.chunks_embedded} chunks embedded, {report.chunks_skipped} unchanged, "
        f"{report.chunks_removed} removed ({report.seconds:.1f} s)."
    )
    for p in report.problems:
        click.secho(
            f"  {'skipped' if p in report.failures else 'warning'}: {plain(p.path)}: {plain(p.reason)}",
            fg="yellow",
            err=True,
        )


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Remove documents whose files are gone.")
@click.option("--rebuild", is_flag=True, help="Delete the index first and embed everything again.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...], prune: bool, rebuild: bool, as_json: bool) -> None:
    """Add files and folders (.txt .md .html .pdf .docx) to the index; unchanged ones are skipped.

    Exits with 3 when some files could not be ingested (the rest are), 2 on an error.
    """
    settings = _settings(ctx)
    try:
        report = api.ingest(paths, settings, prune=prune, show_bar=not as_json, rebuild=rebuild)
    except RagError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        _print_report(report)
    if report.failures:
        sys.exit(EXIT_FILES_FAILED)


_CHECK_LABELS = {
    "orphan_vectors": "vectors no document lists (never answered from)",
    "missing_vectors": "indexed chunks without a vector (dense search misses them)",
    "span_mismatches": "vectors whose spans, title or date differ from the manifest",
    "bm25_missing": "indexed chunks missing from the BM25 index",
    "bm25_extra": "BM25 rows that are not indexed chunks",
    "bm25_version_missing": "the BM25 index the manifest names is gone or unreadable",
    "stale_bm25_versions": "old BM25 folders left behind",
    "unfinished_journal": "an ingest died before it cleaned up",
}


def _print_check(result: IndexCheck, index_dir: Path) -> None:
    click.echo(
        f"Index {index_dir}: {result.documents} documents, {result.chunks} chunks, {result.vectors} "
        f"vectors, generation {result.generation}."
    )
    for action in result.repairs:
        click.echo(f"  repaired: {plain(action)}")
    for name, count in result.problems().items():
        click.secho(f"  {count:6d}  {_CHECK_LABELS.get(name, name)} ({name})", fg="yellow")
    if result.clean:
        click.secho("Consistent: the vector store, the manifest and BM25 agree.", fg="green")
    else:
        click.secho("Problems found. Fix them with: rag check --repair", fg="yellow")


@main.command()
@click.option("--repair", is_flag=True, help="Fix what disagrees, then check again.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def check(ctx: click.Context, repair: bool, as_json: bool) -> None:
    """Check that the vector store, the manifest and BM25 agree; --repair fixes them.

    Exits with 0 when they agree, 1 when problems are found (or remain after --repair), 2 on an error.
    """
    settings = _settings(ctx)
    try:
        result = api.check_index(settings, repair=repair)
    except RagError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_check(result, settings.index_dir)
    sys.exit(0 if result.clean else EXIT_PROBLEMS)


def _print_answer(answer: Answer) -> None:
    click.echo()
    for p in (p for p in answer.passages if p.flags):
        click.secho(
            f"Not used: {p.chunk.path} gives instructions to the model ({', '.join(p.flags)}).", fg="yellow"
        )
    if answer.abstained:
        click.secho(plain(answer.text), fg="yellow", bold=True)
        click.echo(f"({plain(answer.abstain_reason)})")
        click.echo("\nClosest passages:")
        for n, p in enumerate(answer.passages[:3], 1):
            click.echo(f"  [{n}] {plain(p.chunk.path)} {p.chunk.date or ''}: {plain(p.chunk.text[:160])}…")
        return
    click.secho("Checked answer: ", nl=False, dim=True)
    click.secho(plain(answer.text), bold=True)
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
        start, end = ch.file_span
        where = f"{plain(ch.title)} ({ch.date or 'no date'}), {plain(ch.path)}"
        click.echo(f"  [{n}] {where} chars {start}-{end}{mark}")
        click.echo(f'      "{plain(c.quote)}"')
    t = answer.timings
    click.secho(
        f"\nas of {answer.as_of}; retrieve {t.retrieve:.2f} s, first token {t.first_token:.1f} s, "
        f"total {t.total:.1f} s, {t.prompt_tokens} prompt tokens",
        dim=True,
    )


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@click.option(
    "--as-of",
    "as_of",
    metavar="YYYY-MM-DD",
    help="The day the question is asked (default today): later documents are not used, and "
    '"this week" or "on Monday" are read against it.',
)
@click.pass_context
def ask(ctx: click.Context, question: str, as_json: bool, as_of: str | None) -> None:
    """Answer QUESTION from the indexed documents, citing the passages it comes from."""
    settings = _settings(ctx)
    try:
        for event in api.ask_stream(question, settings, as_of=as_of):
            if as_json:
                if isinstance(event, Done):
                    click.echo(json.dumps(event.answer.to_dict(), indent=2, ensure_ascii=False))
            elif isinstance(event, Retrieved):
                click.secho(f"Found {len(event.passages)} passages. Draft: ", nl=False, dim=True, err=True)
            elif isinstance(event, Token):
                click.secho(plain(event.text), nl=False, dim=True, err=True)
            elif isinstance(event, Done):
                click.echo("", err=True)
                _print_answer(event.answer)
    except RagError as exc:
        _fail(exc)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def docs(ctx: click.Context, as_json: bool) -> None:
    """List the indexed documents with their chunk counts."""
    try:
        infos = api.list_documents(_settings(ctx))
    except RagError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps([i.__dict__ for i in infos], indent=2, ensure_ascii=False))
        return
    for i in infos:
        click.echo(f"{i.chunks:5d} chunks  {i.date or '----------'}  {plain(i.path)}  {plain(i.title)}")
    click.echo(f"{len(infos)} documents, {sum(i.chunks for i in infos)} chunks")


@main.command()
@click.option("--host", help="Address to listen on (default: ui.host, 127.0.0.1). 0.0.0.0 exposes it.")
@click.option("--port", type=int, help="Port (default: ui.port, 7860).")
@click.option("--share", is_flag=True, help="Also make a public Gradio link (needs internet and ui.auth).")
@click.option(
    "--unsafe-no-auth",
    is_flag=True,
    help="UNSAFE: serve beyond loopback without a password (set RAG_UI__AUTH=user:password instead).",
)
@click.pass_context
def ui(ctx: click.Context, host: str | None, port: int | None, share: bool, unsafe_no_auth: bool) -> None:
    """Start the chat page (on 127.0.0.1 unless asked) and print its URL."""
    from .ui import exposure_warning, launch

    settings = _settings(ctx)
    try:
        demo, url = launch(settings, host, port, share, unsafe_no_auth)
    except OSError as exc:
        _fail(RagError(f"Cannot start the UI: {exc}. Choose another port with --port or RAG_UI__PORT."))
    except RagError as exc:
        _fail(exc)
    warning = exposure_warning(host or settings.ui.host, share)
    if warning:
        click.secho(
            warning + (" No password: --unsafe-no-auth." if not settings.ui.auth else ""),
            fg="yellow",
            err=True,
        )
    click.echo(f"rag UI: open {url} in your browser (Ctrl-C stops it).")
    try:
        demo.block_thread()
    finally:
        demo.close()


from .evaluate.cli import eval_command  # noqa: E402  (registered after the group exists)

main.add_command(eval_command)


if __name__ == "__main__":
    main()
