"""Many users, one model server: answers per minute and latency for 1, 4 and 8 concurrent askers.

    .venv/bin/python bench/bench_server.py                        # 1.5B, slots 1 and 4, askers 1/4/8
    .venv/bin/python bench/bench_server.py --model smollm2-135m --questions 4 --askers 1 2 --slots 1 2

llama.cpp's OpenAI-compatible server (xllamacpp, the same llama.cpp rag runs in-process) is started in
a new process on a free loopback port with --slots parallel slots (n_parallel; the context is
--ctx tokens per slot) and --threads threads; rag points at it with model.backend=openai, and
askers (threads, as the UI's concurrency does) each take seed questions from one queue. Beside it,
in the same run: rag today, the in-process model answering one question at a time (--no-baseline
skips it). Latency is per answer from the call to the checked answer, queueing at the server included.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchlib import (
    CACHE,
    ROOT,
    free_port,
    hwm_mb,
    machine,
    mean,
    out_path,
    pct,
    prepare,
    ratio,
    stop,
    table,
    wait_for,
    write_json,
)

from rag.components import shared_embedder
from rag.core.settings import ModelSettings, Settings
from rag.core.types import Done, GoldItem, Token
from rag.evaluate import load_questions
from rag.evaluate.runner import score
from rag.models.bundled import bundled_gguf_path
from rag.pipeline import Pipeline

SERVER = """
import sys, time, xllamacpp as x
path, port, slots, ctx, threads = sys.argv[1], *map(int, sys.argv[2:6])
p = x.CommonParams(); p.model.path = path; p.port = port; p.hostnames = ["127.0.0.1"]
p.n_parallel = slots; p.n_ctx = ctx * slots; p.verbosity = -1
p.cpuparams.n_threads = threads; p.cpuparams_batch.n_threads = threads
s = x.Server(p)
while True: time.sleep(1)
"""


def ask_once(pipe: Pipeline, item: GoldItem, corpus: Any) -> dict[str, Any]:
    """Ask one question and time it from the call: first token and the checked answer."""
    start, first, answer = time.perf_counter(), 0.0, None
    for event in pipe.ask_stream(item.question, as_of=item.date or None):
        if isinstance(event, Token) and not first:
            first = time.perf_counter() - start
        elif isinstance(event, Done):
            answer = event.answer
    assert answer is not None
    scores = score(item, answer, list(answer.passages), corpus)
    return {
        "id": item.id,
        "answerable": item.answerable,
        "first_token_s": first or None,
        "total_s": time.perf_counter() - start,
        "abstained": answer.abstained,
        "contains": scores["contains"],
    }


def run_askers(pipe: Pipeline, items: list[GoldItem], askers: int, corpus: Any) -> dict[str, Any]:
    """Answer ``items`` with ``askers`` threads taking them from one queue; return throughput and latency."""
    pipe.ask(items[-1].question)  # warm-up, not counted
    lock, queue, records = threading.Lock(), list(items), []

    def asker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                item = queue.pop(0)
            records.append(ask_once(pipe, item, corpus))

    start = time.perf_counter()
    with ThreadPoolExecutor(askers) as pool:
        for future in [pool.submit(asker) for _ in range(askers)]:
            future.result()
    wall = time.perf_counter() - start
    firsts = [r["first_token_s"] for r in records if r["first_token_s"]]
    return {
        "askers": askers,
        "answers": len(records),
        "wall_s": wall,
        "answers_per_min": len(records) / wall * 60,
        "latency_p50_s": pct([r["total_s"] for r in records], 50),
        "latency_p95_s": pct([r["total_s"] for r in records], 95),
        "first_token_p50_s": pct(firsts, 50),
        "contains": mean([r["contains"] for r in records if r["answerable"]]),
        "abstained": mean([float(r["abstained"]) for r in records]),
        "records": records,
    }


def server_runs(
    settings: Settings, items: list[GoldItem], corpus: Any, slots: int, args: Any
) -> list[dict[str, Any]]:
    """Start the model server with ``slots`` slots, run every asker count against it, stop it."""
    port, model = free_port(), bundled_gguf_path(args.model, settings.model.cache_dir)
    cmd = [sys.executable, "-c", SERVER, str(model), str(port), str(slots), str(args.ctx), str(args.threads)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runs = []
    try:
        wait_for(f"http://127.0.0.1:{port}/health", proc)
        remote = ModelSettings(backend="openai", base_url=f"http://127.0.0.1:{port}/v1", timeout=600)
        pipe = Pipeline(
            settings.model_copy(update={"model": remote}), embedder=shared_embedder(settings.embed)
        )
        for askers in args.askers:
            print(f"server, {slots} slot(s), {askers} asker(s) ...", flush=True)
            run = run_askers(pipe, items, askers, corpus)
            runs.append(
                {
                    "setup": f"server, {slots} slot(s)",
                    "slots": slots,
                    **run,
                    "server_rss_mb": hwm_mb(proc.pid),
                }
            )
    finally:
        stop(proc)
    return runs


KEYS = ["askers", "answers", "answers_per_min", "latency_p50_s", "latency_p95_s", "first_token_p50_s"]
HEADS = ["askers", "answers", "answers/min", "latency p50 s", "p95 s", "first token p50 s"]


def print_report(result: dict[str, Any], args: Any) -> None:
    """Print every run beside the first (rag today, unless skipped) and name the best throughput."""
    first = result["runs"][0]
    rows = [
        [
            r["setup"],
            *(r[k] for k in KEYS),
            ratio(r["answers_per_min"], first["answers_per_min"]),
            r["contains"],
        ]
        for r in result["runs"]
    ]
    heads = ["setup", *HEADS, f"answers/min vs {first['setup']}", "contains"]
    print(f"\n{args.model}, {args.threads} thread(s), {args.ctx} context tokens per slot\n")
    print(table(heads, rows))
    best = max(result["runs"], key=lambda r: r["answers_per_min"])
    rate = f"{best['answers_per_min']:.1f} answers/min"
    print(f"\nMost answers per minute: {best['setup']}, {best['askers']} askers ({rate}).")
    loads = result["machine_before"]["loadavg"][0], result["machine_after"]["loadavg"][0]
    print(f"load average (1 min) before / after: {loads[0]:.1f} / {loads[1]:.1f}")


def main() -> None:
    """Measure the in-process baseline and each slot count, print one table, save JSON."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-1.5b", help="bundled model served")
    ap.add_argument("--slots", nargs="+", type=int, default=[1, 4], help="parallel slots (n_parallel)")
    ap.add_argument("--askers", nargs="+", type=int, default=[1, 4, 8], help="concurrent askers")
    ap.add_argument(
        "--questions", type=int, default=16, help="answers per measurement (at least the most askers)"
    )
    ap.add_argument("--threads", type=int, default=2, help="CPU threads of the server (and the baseline)")
    ap.add_argument("--ctx", type=int, default=4096, help="context tokens per slot")
    ap.add_argument("--no-baseline", action="store_true", help="skip the in-process one-at-a-time run")
    ap.add_argument("--out", type=Path, help="JSON file (default ~/.cache/rag/bench/server-<time>.json)")
    args = ap.parse_args()
    out = out_path(args.out, "server")
    base = Settings(model=ModelSettings(bundled=args.model, threads=args.threads))
    settings, corpus = prepare(ROOT / "seeds", CACHE / "latency", base)
    every = load_questions(ROOT / "eval/gold/seeds.jsonl")
    items = (every * (1 + max(args.questions, *args.askers) // len(every)))[
        : max(args.questions, *args.askers)
    ]
    result: dict[str, Any] = {
        "machine_before": machine(),
        "model": args.model,
        "threads": args.threads,
        "runs": [],
    }
    if not args.no_baseline:
        print("in-process model, 1 asker (rag today) ...", flush=True)
        pipe = Pipeline(settings, embedder=shared_embedder(settings.embed))
        result["runs"].append(
            {"setup": "in-process, one at a time", "slots": 1, **run_askers(pipe, items, 1, corpus)}
        )
    for slots in args.slots:
        result["runs"] += server_runs(settings, items, corpus, slots, args)
    result["machine_after"] = machine()
    print_report(result, args)
    write_json(out, result)


if __name__ == "__main__":
    main()
