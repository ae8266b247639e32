"""`rag watch PATH...`: keep the index in step with folders, one line per change, until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from rag import api
from rag.core.errors import RagError
from rag.core.settings import Settings
from rag.core.types import WatchEvent
from rag.formats.as_text import watch_line
from rag.formats.terminal import plain

EXIT_ERROR = 2  # as rag/cli/main.py: an error whose message says the fix


def print_change(event: WatchEvent) -> None:
    """Print one change; failures and errors in yellow on stderr."""
    if event.kind in ("failed", "error"):
        click.secho(watch_line(event), fg="yellow", err=True)
    else:
        click.echo(watch_line(event))


@click.command("watch")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--settle",
    type=click.FloatRange(0.1, 60),
    default=1.0,
    show_default=True,
    help="Seconds a changed file must stay unchanged before it is read (a file being written is "
    "not read half way).",
)
@click.pass_context
def watch_command(ctx: click.Context, paths: tuple[Path, ...], settle: float) -> None:
    """Keep the index in step with folders: ingest new and changed files, prune deleted ones.

    The folders are ingested first (what changed since the last run), then followed until Ctrl-C,
    which lets the change being ingested finish (a second Ctrl-C quits at once; the index stays
    consistent either way). Prints one line per change.
    """
    settings: Settings = ctx.obj
    stop = threading.Event()

    def on_signal(signum: int, _: FrameType | None) -> None:
        if stop.is_set() or signum != signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()
        click.echo("stopping after the current change (Ctrl-C again quits now)", err=True)

    previous = signal.signal(signal.SIGINT, on_signal)
    try:
        api.watch(paths, print_change, settings, stop, settle)
    except RagError as exc:
        click.secho(f"Error: {plain(str(exc))}", fg="red", err=True)
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
    finally:
        signal.signal(signal.SIGINT, previous)
