"""Cold start in new processes: `rag ask` wall time, its load stages and imports; an unchanged re-ingest.

Used by bench_latency.py; each measure starts a fresh Python process, so nothing is loaded before.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rag.core.settings import Settings

RAG = str(Path(sys.executable).with_name("rag"))

# Runs in the new process: a timestamp after each loading stage of one `rag ask`.
PROBE = r"""
import json, sys, time
t = {"start": time.time()}
import rag.api
t["import_rag_api"] = time.time()
torch_at_import = "torch" in sys.modules
import torch
t["import_torch"] = time.time()
from rag.components import shared_embedder, shared_model
from rag.core.settings import load_settings
s = load_settings()
shared_embedder(s.embed).embed(["warm-up"])  # the embedder loads its model on first use
t["embedder_loaded"] = time.time()
shared_model(s.model)
t["model_loaded"] = time.time()
p = rag.api.pipeline(s)
p.retrieve(sys.argv[1])
t["first_retrieve"] = time.time()
a = p.ask(sys.argv[1])
t["answered"] = time.time()
print(json.dumps({"t": t, "torch_imported_by_rag_api": torch_at_import,
                  "first_token": a.timings.first_token, "answer_total": a.timings.total}))
"""


def env_for(settings: Settings) -> dict[str, str]:
    """Environment that makes a new `rag` process use these settings' index, collection and model."""
    env = dict(os.environ)
    env.update(
        RAG_INDEX_DIR=str(settings.index_dir),
        RAG_STORE__BACKEND=settings.store.backend,
        RAG_STORE__COLLECTION=settings.store.collection,
        RAG_MODEL__BACKEND=settings.model.backend,
        RAG_MODEL__BUNDLED=settings.model.bundled,
        RAG_MODEL__THREADS=str(settings.model.threads),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
    )
    return env


def imports(stderr: str) -> list[tuple[int, str, float]]:
    """Parse ``python -X importtime`` output into (depth, module, cumulative seconds)."""
    out = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            _, cumulative, name = line.split("|")
            if cumulative.strip().isdigit():
                depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
                out.append((depth, name.strip(), int(cumulative) / 1e6))
    return out


def top_imports(stderr: str, n: int = 8) -> list[tuple[str, float]]:
    """Return the packages imported at top level by cumulative import time (s), slowest first."""
    found: dict[str, float] = {}
    for depth, name, seconds in imports(stderr):
        if depth == 0:
            top = name.split(".")[0]
            found[top] = found.get(top, 0.0) + seconds
    return sorted(found.items(), key=lambda kv: -kv[1])[:n]


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.time()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode not in (0, 3):
        raise SystemExit(f"{' '.join(cmd[:4])}... failed ({done.returncode}): {done.stderr[-2000:]}")
    return time.time() - start, done


def measure(settings: Settings, question: str, corpus_dir: Path) -> dict[str, Any]:
    """Measure `rag ask` cold (wall, stages, imports) and an unchanged `rag ingest` (wall, torch or not)."""
    env = env_for(settings)
    wall, _ = _run([RAG, "ask", question, "--json"], env)
    launched = time.time()
    _, probe = _run([sys.executable, "-X", "importtime", "-c", PROBE, question], env)
    data = json.loads(probe.stdout.strip().splitlines()[-1])
    t = data["t"]
    order = ["start", "import_rag_api", "import_torch", "embedder_loaded", "model_loaded"]
    stages = {b: t[b] - t[a] for a, b in itertools.pairwise(order)}
    stages["interpreter_start"] = t["start"] - launched
    stages["first_retrieve"] = t["first_retrieve"] - t["model_loaded"]
    stages["ask_after_loading"] = t["answered"] - t["first_retrieve"]
    reingest_wall, reingest = _run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            "from rag.cli.main import main; main()",
            "ingest",
            str(corpus_dir),
            "--json",
        ],
        env,
    )
    report = json.loads(reingest.stdout[reingest.stdout.index("{") :])
    imported = {name for _, name, _ in imports(reingest.stderr)}
    return {
        "rag_ask_wall_s": wall,
        "stages_s": stages,
        "torch_imported_by_rag_api": data["torch_imported_by_rag_api"],
        "ask_imports_s": top_imports(probe.stderr),
        "reingest_unchanged_wall_s": reingest_wall,
        "reingest_embedded": report.get("chunks_embedded"),
        "reingest_imports_torch": "torch" in imported,
        "reingest_imports_s": top_imports(reingest.stderr),
    }


def rows(cold: dict[str, Any]) -> list[tuple[str, str]]:
    """Table rows for one cold-start measurement."""
    s = cold["stages_s"]
    out = [("`rag ask` in a new process, wall (s)", f"{cold['rag_ask_wall_s']:.1f}")]
    out += [(f"  {name} (s)", f"{value:.2f}") for name, value in s.items()]
    out.append(("  torch imported by `import rag.api`", str(cold["torch_imported_by_rag_api"])))
    out.append(
        ("  slowest imports (cumulative s)", ", ".join(f"{n} {v:.1f}" for n, v in cold["ask_imports_s"][:5]))
    )
    out.append(("`rag ingest` unchanged, wall (s)", f"{cold['reingest_unchanged_wall_s']:.1f}"))
    out.append(
        (
            "  chunks embedded / torch imported",
            f"{cold['reingest_embedded']} / {cold['reingest_imports_torch']}",
        )
    )
    return out
