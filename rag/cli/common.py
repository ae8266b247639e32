"""What every `rag` command shares: its settings, its exit codes, and how an error is printed."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from rag.core.errors import RagError
from rag.core.settings import Settings
from rag.formats.terminal import plain

# Exit codes (README "Exit codes"): 0 done; 1 `rag check` found problems; 2 an error (the message
# says the fix); 3 `rag ingest` finished but some files could not be ingested.
EXIT_PROBLEMS, EXIT_ERROR, EXIT_FILES_FAILED = 1, 2, 3


def settings_of(ctx: click.Context) -> Settings:
    """Return the settings the `rag` group loaded (``--config``, ``--index``, env, rag.toml)."""
    settings: Settings = ctx.obj
    return settings


def fail(exc: RagError, mid_line: bool = False) -> NoReturn:
    """Print the error (its cause and fix) as one line of its own on stderr and exit with 2.

    Args:
        exc: The error; its message names the fix.
        mid_line: A streamed draft was being printed without its newline: end that line first.
    """
    if mid_line:
        click.echo("", err=True)
    message = " ".join(plain(str(exc)).split())
    click.secho(f"Error: {message}", fg="red", err=True)
    sys.exit(EXIT_ERROR)
