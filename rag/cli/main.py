"""The `rag` command line: thin click commands over the Python API; rendering only."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from rag import api
from rag.cli.common import EXIT_FILES_FAILED, EXIT_PROBLEMS
from rag.cli.common import fail as _fail
from rag.cli.common import settings_of as _settings
from rag.core.errors import RagError
from rag.core.settings import load_settings
from rag.core.types import Done, Retrieved, Scope, Token
from rag.formats.as_json import answer_dict
from rag.formats.as_markdown import answer_markdown
from rag.formats.as_text import print_answer, print_check, print_report
from rag.formats.terminal import plain


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


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Remove documents whose files are gone.")
@click.option("--rebuild", is_flag=True, help="Delete the index first and embed everything again.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@click.option(
    "--collection",
    metavar="NAME",
    help='Put these files in a collection that questions can be limited to (rag ask --collection NAME); "" '
    "takes them out of theirs. Without it, documents keep their collection.",
)
@click.pass_context
def ingest(
    ctx: click.Context,
    paths: tuple[Path, ...],
    prune: bool,
    rebuild: bool,
    as_json: bool,
    collection: str | None,
) -> None:
    """Add files and folders to the index (README "What it reads"); unchanged ones are skipped.

    Exits with 3 when some files could not be ingested (the rest are), 2 on an error.
    """
    settings = _settings(ctx)
    try:
        report = api.ingest(
            paths, settings, prune=prune, show_bar=not as_json, rebuild=rebuild, collection=collection
        )
    except RagError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        print_report(report)
    if report.failures:
        sys.exit(EXIT_FILES_FAILED)


@main.command()
@click.option("--repair", is_flag=True, help="Fix what disagrees, then check again.")
@click.option(
    "--force",
    is_flag=True,
    help="With --repair: also delete vectors that belong to no document and forget chunks whose vectors "
    "and files are both gone (what cannot be re-created; without it they are kept and reported).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def check(ctx: click.Context, repair: bool, force: bool, as_json: bool) -> None:
    """Check that the vector store, the manifest and BM25 agree; --repair fixes them.

    Exits with 0 when they agree, 1 when problems are found (or remain after --repair), 2 on an error.
    """
    settings = _settings(ctx)
    try:
        result = api.check_index(settings, repair=repair, force=force)
    except RagError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print_check(result, settings.index_dir)
    sys.exit(0 if result.clean else EXIT_PROBLEMS)


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
@click.option("--markdown", is_flag=True, help="Print the answer as Markdown, its sources as footnotes.")
@click.option(
    "--in",
    "paths",
    multiple=True,
    metavar="PATTERN",
    help="Search only documents whose path matches a glob ('contracts/*.pdf') or is in a folder; repeatable.",
)
@click.option("--collection", "collections", multiple=True, metavar="NAME", help="Only this collection.")
@click.option("--title", "titles", multiple=True, metavar="PATTERN", help="Only titles matching (any case).")
@click.option("--since", metavar="YYYY-MM-DD", help="Only documents dated on or after this day.")
@click.option("--until", metavar="YYYY-MM-DD", help="Only documents dated on or before this day.")
@click.option(
    "--server",
    envvar="RAG_SERVER",
    metavar="URL",
    help="Ask a running `rag serve` (e.g. http://127.0.0.1:8765) instead of loading the model here; "
    "env RAG_SERVER. Its API key, if it needs one: env RAG_SERVER_KEY.",
)
@click.pass_context
def ask(
    ctx: click.Context,
    question: str,
    as_json: bool,
    as_of: str | None,
    markdown: bool,
    server: str | None,
    **scope: Any,
) -> None:
    """Answer QUESTION from the indexed documents, citing the passages it comes from.

    --in, --collection, --title, --since and --until limit the documents searched (all must hold).
    """
    where = Scope(**scope) or None
    mid_line = False  # a draft is being streamed on stderr without its newline yet
    try:
        if server:
            from rag.serve.client import ask_stream as remote

            events = remote(server, question, os.environ.get("RAG_SERVER_KEY"), as_of, where)
        else:
            events = api.ask_stream(question, _settings(ctx), as_of=as_of, where=where)
        for event in events:
            if as_json or markdown:
                if isinstance(event, Done) and markdown:
                    click.echo(plain(answer_markdown(event.answer)), nl=False)
                elif isinstance(event, Done):
                    click.echo(json.dumps(answer_dict(event.answer), indent=2, ensure_ascii=False))
            elif isinstance(event, Retrieved):
                click.secho(f"Found {len(event.passages)} passages. Draft: ", nl=False, dim=True, err=True)
                mid_line = True
            elif isinstance(event, Token):
                click.secho(plain(event.text), nl=False, dim=True, err=True)
            elif isinstance(event, Done):
                click.echo("", err=True)
                mid_line = False
                print_answer(event.answer)
    except RagError as exc:
        _fail(exc, mid_line)


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
        group = f"  [{plain(i.collection)}]" if i.collection else ""
        click.echo(
            f"{i.chunks:5d} chunks  {i.date or '----------'}  {plain(i.path)}  {plain(i.title)}{group}"
        )
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
@click.option(
    "--watch",
    "watch_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    metavar="PATH",
    help="Also keep the index in step with this folder while the page runs (as rag watch); repeatable.",
)
@click.pass_context
def ui(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    share: bool,
    unsafe_no_auth: bool,
    watch_paths: tuple[Path, ...],
) -> None:
    """Start the chat page (on 127.0.0.1 unless asked) and print its URL."""
    from rag.cli.watch import print_change
    from rag.ui.app import exposure_warning, launch

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
    stop_watching = api.watch_in_background(watch_paths, print_change, settings) if watch_paths else None
    try:
        demo.block_thread()
    finally:
        if stop_watching:
            stop_watching()
        demo.close()


from rag.cli.serve import serve_command  # noqa: E402  (registered after the group exists)
from rag.cli.watch import watch_command  # noqa: E402
from rag.evaluate.cli import eval_command  # noqa: E402

main.add_command(eval_command)
main.add_command(serve_command)
main.add_command(watch_command)


if __name__ == "__main__":
    main()
