"""The `rag serve` command: the HTTP API (and with --ui the chat page) in one process."""

from __future__ import annotations

from pathlib import Path

import click

from rag import api
from rag.cli.common import fail, settings_of
from rag.core.errors import RagError
from rag.core.hosts import is_loopback


@click.command("serve")
@click.option("--host", help="Address to listen on (default: serve.host, 127.0.0.1); others need API keys.")
@click.option("--port", type=int, help="Port (default: serve.port, 8765).")
@click.option("--ui", is_flag=True, help="Also serve the chat page at /ui/ (same model, one queue).")
@click.option(
    "--unsafe-no-auth",
    is_flag=True,
    help="UNSAFE: serve beyond loopback without API keys (set RAG_SERVE__API_KEYS=KEY instead).",
)
@click.option(
    "--watch",
    "watch_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    metavar="PATH",
    help="Also keep the index in step with this folder while serving (as rag watch); repeatable.",
)
@click.pass_context
def serve_command(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    ui: bool,
    unsafe_no_auth: bool,
    watch_paths: tuple[Path, ...],
) -> None:
    """Serve the HTTP API: /v1/ask, OpenAI-compatible /v1/chat/completions, /v1/documents, /metrics.

    Loads the model and the embedder once, then answers every caller from this one process.
    API docs at /docs. Ctrl-C stops it.
    """
    from rag.cli.watch import print_change
    from rag.serve.run import prepare, run

    settings = settings_of(ctx)
    host, port = host or settings.serve.host, port or settings.serve.port
    try:
        app, sock = prepare(settings, host, port, ui, unsafe_no_auth)
    except RagError as exc:
        fail(exc)
    if not is_loopback(host):
        keys = "API keys required" if settings.serve.api_keys else "NO API KEYS (--unsafe-no-auth)"
        click.secho(
            f"Warning: listening on {host}, reachable from other machines (plain HTTP; {keys}).",
            fg="yellow",
            err=True,
        )
    url = f"http://{host}:{sock.getsockname()[1]}"
    page = f", chat page at {url}/ui/" if ui else ""
    click.echo(f"rag serve: {url} (API docs at {url}/docs{page}; Ctrl-C stops it).", err=True)
    stop_watching = api.watch_in_background(watch_paths, print_change, settings) if watch_paths else None
    try:
        run(app, sock)
    finally:
        if stop_watching:
            stop_watching()
