"""Helpers shared by the bench scripts: percentiles, tables, JSON output, machine load, servers."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.core.settings import Settings
from rag.core.types import GoldItem

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path("~/.cache/rag/bench").expanduser()
SHARED = ROOT.parent / "shared" / "benchmarks" / "realtimeqa"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def pct(values: Sequence[float], q: float) -> float:
    """Return the q-th percentile (0-100) of values; NaN for none."""
    return float(np.percentile(values, q)) if len(values) else float("nan")


def mean(values: Sequence[float]) -> float:
    """Return the mean of values; NaN for none."""
    return statistics.fmean(values) if len(values) else float("nan")


def ratio(new: float, old: float) -> str:
    """Return "x0.42" (new / old), or "" when either is missing."""
    if not old or old != old or new != new:
        return ""
    return f"x{new / old:.2f}"


def fmt(value: Any, digits: int = 2) -> str:
    """Format a number for a table cell (NaN and None as "-")."""
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Render a Markdown table (cells formatted with ``fmt``)."""
    cells = [[fmt(c) for c in row] for row in rows]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def out_path(given: Path | None, name: str) -> Path:
    """Return where the JSON goes: ``given``, else ~/.cache/rag/bench/<name>-<time>.json (never the repo)."""
    path = given or CACHE / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path = path.expanduser().resolve()
    if ROOT in path.parents:
        raise SystemExit(f"--out {path} is inside the repository; write results outside it.")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write the results as indented JSON and say where."""
    path.write_text(json.dumps(data, indent=2, default=str))
    print(f"\nJSON: {path}")


def machine() -> dict[str, Any]:
    """Return what says how loaded the machine was: CPUs and the load averages right now."""
    return {"cpus": os.cpu_count(), "loadavg": os.getloadavg(), "time": time.strftime("%Y-%m-%d %H:%M:%S")}


def peak_rss_mb() -> float:
    """Return this process's peak resident memory in MB.

    VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over fork and exec, so a worker started
    by a 2 GB parent reported 2 GB whatever it used; VmHWM belongs to the process's own memory map.
    """
    return hwm_mb(os.getpid())


def rss_mb(pid: int | None = None) -> float:
    """Return a process's current resident memory in MB (this process by default)."""
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")) / 1024


def hwm_mb(pid: int) -> float:
    """Return another process's peak resident memory (VmHWM) in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")) / 1024


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, proc: subprocess.Popen[Any], seconds: float = 300) -> None:
    """Wait until ``url`` answers, failing early when the server process exits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with code {proc.returncode} before {url} answered")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def stop(proc: subprocess.Popen[Any]) -> None:
    """Terminate a server started by a bench script (by its own pid) and wait for it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def spread(items: Sequence[Any], limit: int | None) -> list[Any]:
    """Return ``limit`` items spread evenly over the list (all when limit is None or large)."""
    if not limit or limit >= len(items):
        return list(items)
    return [items[i * len(items) // limit] for i in range(limit)]


def prepare(corpus: Path, cache_root: Path, base: Settings) -> tuple[Settings, Any]:
    """Ingest a corpus into its cached index (as `rag eval` does); return its settings and corpus."""
    from rag.evaluate import build_system, load_corpus
    from rag.evaluate.runner import EvalConfig, RagSystem

    loaded = load_corpus(corpus, cache_root)
    system = build_system(EvalConfig("default", base), loaded, cache_root)
    assert isinstance(system, RagSystem)
    return system.pipeline.settings, loaded


def asked(item: GoldItem, options: bool = True) -> str:
    """The question as `rag eval`'s default config asks it (a quiz's choices on an Options line)."""
    return (
        f"{item.question}\nOptions: {'; '.join(item.choices)}" if item.choices and options else item.question
    )
