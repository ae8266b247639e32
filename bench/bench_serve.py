"""rag as a service, in one run: a cold `rag ask` against `rag ask --server` on a warm `rag serve`, and
ingest speed with vectors from an embedding server (llama.cpp's, in embedding mode) beside the
in-process embedder.

    .venv/bin/python bench/bench_serve.py                      # 1.5B, 10 seed questions, 488 news pages
    .venv/bin/python bench/bench_serve.py --model smollm2-135m --questions 2 --pages 12   # check the script

Asking: the seed documents are indexed once (under --cache); `rag serve` starts on a free loopback port
and answers one question untimed (a warm server: model loaded, prompt cache filled); then for each seed
question a new `rag ask` process answers it locally (cold: imports, embedder, model) and a new
`rag ask --server` process through the server, alternately. Wall time of each process; both outputs
are compared with their seconds masked.

Ingest: the news set's corpus.jsonl (../shared/benchmarks/realtimeqa/mar2025, read at run time) is
materialised as Markdown pages under --cache, never into the project. A new `rag ingest` process
indexes them into an empty index twice: with the in-process embedder (all-MiniLM-L6-v2, torch) and
with embed.backend=openai against llama.cpp's server in embedding mode (--embed-model: a bundled GGUF,
or a GGUF file such as the one bench/minilm_to_gguf.py converts from the bundled all-MiniLM-L6-v2, so
the same model runs both ways; mean pooling). Both use --threads
threads. chunks/s = chunks embedded / the ingest's own seconds; then `rag check` must find the served
index consistent and a question must retrieve from it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchlib import CACHE, ROOT, SHARED, free_port, machine, out_path, pct, stop, table, wait_for, write_json

from rag.evaluate.data import load_corpus
from rag.models.bundled import bundled_gguf_path

RAG = str(Path(sys.executable).with_name("rag"))
SECONDS = re.compile(r"retrieve [\d.]+ s, first token [\d.]+ s, total [\d.]+ s")
EMBED_SERVER = """
import sys, time, xllamacpp as x
path, port, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
p = x.CommonParams(); p.model.path = path; p.port = port; p.hostnames = ["127.0.0.1"]
p.embedding = True; p.pooling_type = x.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN; p.verbosity = -1
p.cpuparams.n_threads = threads; p.cpuparams_batch.n_threads = threads
s = x.Server(p)
while True: time.sleep(1)
"""


def env_for(index: Path, args: argparse.Namespace, **extra: str) -> dict[str, str]:
    """The environment of every `rag` process of the run: one index, one model, one thread count."""
    return {
        **os.environ,
        "RAG_INDEX_DIR": str(index),
        "RAG_DATA_DIR": str(index.parent / "data"),
        "RAG_MODEL__BUNDLED": args.model,
        "RAG_MODEL__THREADS": str(args.threads),
        "RAG_EMBED__THREADS": str(args.threads),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        **extra,
    }


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run a command; return its wall time and result (it must succeed)."""
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed ({done.returncode}): {done.stderr[-1500:]}")
    return time.perf_counter() - start, done


def masked(out: str) -> str:
    """An output with its seconds masked (they differ from run to run)."""
    return SECONDS.sub("retrieve - s, first token - s, total - s", out)


def ask_both_ways(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Time cold local `rag ask` processes against `rag ask --server` processes on a warm server."""
    index = work / "seed-index"
    shutil.rmtree(index, ignore_errors=True)
    env = env_for(index, args)
    timed([RAG, "ingest", str(ROOT / "seeds")], env)
    lines = (ROOT / "eval" / "gold" / "seeds.jsonl").read_text().splitlines()
    questions = [json.loads(line)["question"] for line in lines][: args.questions]
    port = free_port()
    server = subprocess.Popen(
        [RAG, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url, records = f"http://127.0.0.1:{port}", []
    try:
        wait_for(f"{url}/health", server)
        timed([RAG, "ask", "--server", url, questions[-1]], env)  # warm: model loaded, prompt cached
        for q in questions:
            print(f"ask: {q[:60]}", flush=True)
            local_s, local = timed([RAG, "ask", q], env)
            remote_s, remote = timed([RAG, "ask", "--server", url, q], env)
            same = masked(local.stdout) == masked(remote.stdout) and local.stderr == remote.stderr
            records.append({"question": q, "local_s": local_s, "server_s": remote_s, "same_output": same})
    finally:
        stop(server)
    local_p50, server_p50 = (
        pct([r["local_s"] for r in records], 50),
        pct([r["server_s"] for r in records], 50),
    )
    return {
        "questions": len(records),
        "local_p50_s": local_p50,
        "local_p95_s": pct([r["local_s"] for r in records], 95),
        "server_p50_s": server_p50,
        "server_p95_s": pct([r["server_s"] for r in records], 95),
        "ratio_p50": local_p50 / server_p50,
        "same_output": sum(r["same_output"] for r in records),
        "records": records,
    }


def ingest_once(files: list[Path], index: Path, env: dict[str, str]) -> dict[str, Any]:
    """Index ``files`` into an empty index in a new `rag ingest` process; return its report and timing."""
    shutil.rmtree(index.parent, ignore_errors=True)
    index.parent.mkdir(parents=True)
    listing = index.parent / "files"
    listing.mkdir()
    for f in files:  # one folder of links: `rag ingest FOLDER` with exactly the chosen pages
        (listing / f.name).symlink_to(f)
    wall, done = timed([RAG, "ingest", str(listing), "--json"], env)
    report = json.loads(done.stdout)
    return {
        "chunks": report["chunks_embedded"],
        "ingest_s": report["seconds"],
        "wall_s": wall,
        "chunks_per_s": report["chunks_embedded"] / report["seconds"],
    }


def ingest_both_ways(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    """Ingest the news pages with the in-process embedder, then with the embedding server."""
    corpus = args.data / "corpus.jsonl"
    if not corpus.is_file():
        raise SystemExit(f"No corpus at {corpus}: pass --data with the RealTimeQA set's folder.")
    files = sorted(load_corpus(corpus, work / "pages").files)[: args.pages or None]
    index = work / "ingest" / "index"
    print(f"ingest {len(files)} pages, in-process embedder ...", flush=True)
    local = {"embedder": "in-process all-MiniLM-L6-v2", **ingest_once(files, index, env_for(index, args))}
    gguf, label = Path(args.embed_model).expanduser(), args.embed_model
    if gguf.is_file():
        label = gguf.stem
    else:
        gguf = bundled_gguf_path(args.embed_model, "~/.cache/rag/models")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", EMBED_SERVER, str(gguf), str(port), str(args.threads)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/health", server)
        served = {
            "RAG_EMBED__BACKEND": "openai",
            "RAG_EMBED__NAME": f"{label}-mean",
            "RAG_EMBED__BASE_URL": f"http://127.0.0.1:{port}/v1",
        }
        env = env_for(index, args, **served)
        print(f"ingest {len(files)} pages, llama.cpp embedding server ({label}) ...", flush=True)
        remote = {"embedder": f"llama.cpp server, {label}", **ingest_once(files, index, env)}
        check = json.loads(
            subprocess.run([RAG, "check", "--json"], env=env, capture_output=True, text=True).stdout
        )
        _, asked = timed([RAG, "ask", "--json", "What happened this week?", "--as-of", "2025-03-28"], env)
        remote["check_clean"] = bool(check["clean"])
        remote["passages_retrieved"] = len(json.loads(asked.stdout)["passages"])
    finally:
        stop(server)
    return [local, remote]


def main() -> int:
    """Run both measures and print their tables; write every number as JSON under --out."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-1.5b", help="bundled chat model")
    ap.add_argument("--questions", type=int, default=10, help="seed questions asked both ways")
    ap.add_argument("--data", type=Path, default=SHARED / "mar2025", help="RealTimeQA set folder")
    ap.add_argument("--pages", type=int, default=0, help="news pages ingested (0 = all)")
    ap.add_argument(
        "--embed-model",
        default="smollm2-135m",
        help="GGUF the embedding server runs: a bundled name or a file (bench/minilm_to_gguf.py makes one)",
    )
    ap.add_argument("--threads", type=int, default=2, help="threads of every model, server or not")
    ap.add_argument("--skip", choices=["ask", "ingest"], help="leave one measure out")
    ap.add_argument(
        "--cache", type=Path, default=CACHE / "serve", help="indexes and pages (outside the project)"
    )
    ap.add_argument("--out", type=Path, help="JSON results (default under ~/.cache/rag/bench)")
    args = ap.parse_args()
    out, work = out_path(args.out, "serve"), args.cache.expanduser().resolve()
    result: dict[str, Any] = {"machine_before": machine(), "args": {k: str(v) for k, v in vars(args).items()}}
    if args.skip != "ask":
        ask = result["ask"] = ask_both_ways(args, work)
        print(
            table(
                [
                    "questions",
                    "cold `rag ask` p50 / p95 s",
                    "`rag ask --server` p50 / p95 s",
                    "ratio p50",
                    "same output",
                ],
                [
                    [
                        ask["questions"],
                        f"{ask['local_p50_s']:.2f} / {ask['local_p95_s']:.2f}",
                        f"{ask['server_p50_s']:.2f} / {ask['server_p95_s']:.2f}",
                        f"x{ask['ratio_p50']:.1f}",
                        f"{ask['same_output']}/{ask['questions']}",
                    ]
                ],
            )
        )
    if args.skip != "ingest":
        rows = result["ingest"] = ingest_both_ways(args, work)
        print(
            table(
                ["embedder", "chunks", "ingest s", "wall s", "chunks/s"],
                [[r["embedder"], r["chunks"], r["ingest_s"], r["wall_s"], r["chunks_per_s"]] for r in rows],
            )
        )
        print(
            f"served index consistent: {rows[1]['check_clean']}; "
            f"passages retrieved: {rows[1]['passages_retrieved']}"
        )
    result["machine_after"] = machine()
    print(
        f"load average before {result['machine_before']['loadavg']}, "
        f"after {result['machine_after']['loadavg']}"
    )
    write_json(out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
