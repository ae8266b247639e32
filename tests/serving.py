"""Start `rag serve` as a user would (a subprocess on a free loopback port, SmolLM2 on one thread)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import cli_env, free_port, wait_for

RAG = str(Path(sys.executable).with_name("rag"))


def serve_env(index: Path, home: Path, **extra: str) -> dict[str, str]:
    """The environment of a test's `rag serve` and of the `rag ask` compared with it: same settings."""
    return cli_env(index, home, RAG_MODEL__THREADS="1", RAG_DATA_DIR=str(home / "data"), **extra)


def copy_index(settings_index: Path, dest: Path) -> Path:
    """Copy an index folder (no writer is running), so a server may change it without touching others'."""
    shutil.copytree(settings_index, dest)
    return dest


@contextmanager
def rag_serve(index: Path, home: Path, *args: str, **env: str) -> Iterator[str]:
    """Run `rag serve ARGS` on a free loopback port until the block ends; yield its base URL."""
    port = free_port()
    log = home / f"serve-{port}.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [RAG, "serve", "--port", str(port), *args],
            env=serve_env(index, home, **env),
            cwd=home,
            stdout=subprocess.DEVNULL,
            stderr=err,  # a file, not a pipe nobody reads: a chatty server never blocks
            text=True,
        )
    try:
        try:
            wait_for(f"http://127.0.0.1:{port}/health", proc, 300)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"rag serve did not start: {log.read_text()[-3000:]}") from exc
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
