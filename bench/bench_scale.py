"""Scale to 100k chunks, embedded Chroma and a `chroma run` server: ingest, retrieval, BM25, ANN recall.

    .venv/bin/python bench/bench_scale.py                  # 10k/20k/50k/100k; retrieval at 20k and 100k
    .venv/bin/python bench/bench_scale.py --sizes 1000 3000 --retrieval-sizes 3000 --embed 200 \
        --real-pages 20 --queries 10 --synthetic-queries 20 --ef 100       # a quick check of the script

What is measured how (also printed with the results):
- Text: RealTimeQA pages (real, about 45k chunks for both sets), then generated variants of them up to
  the largest size (see scale_data.py). Chunked by rag's own chunker.
- Vectors: --embed real chunks go through the real embedder once (its throughput is measured
  there and cached); all other chunks get real vectors plus noise (scale_data.py). Ingest then looks
  the vectors up, so the ingest figures are rag's real ingest (read, chunk, journal, Chroma, BM25,
  manifest) minus the embedding, which the throughput figure prices separately.
- Each ingest (into an empty index) and each retrieval measurement runs in a new process
  (scale_worker.py): peak RSS and load times are its own. Its RSS includes the looked-up vectors
  (memory-mapped, 1.5 KB per chunk).
- Retrieval: --queries RealTimeQA questions; hybrid = Pipeline.retrieve (embeds the question, dense +
  BM25 + fusion), "as of" = with the question's date (date pre-filter), dense = hybrid off, store = one
  Chroma query of a precomputed vector, exact = numpy over the same vectors (the baseline).
- Recall@10 of Chroma's HNSW against exact search, on the questions and on --synthetic-queries
  held-out vectors, for each --ef (ef_search, set before the index loads; embedded only).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
from benchlib import CACHE, SHARED, free_port, hwm_mb, machine, out_path, spread, stop, wait_for
from benchlib import write_json as save
from scale_data import build_catalog, build_vectors
from scale_report import print_tables

from rag.core.settings import Settings
from rag.models.embedder import make_embedder

HERE = Path(__file__).resolve().parent


def worker(mode: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement in a new process and return its JSON."""
    done = subprocess.run(
        [sys.executable, str(HERE / "scale_worker.py"), mode, json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=4 * 3600,
    )
    if done.returncode != 0:
        raise SystemExit(f"scale_worker {mode} failed:\n{done.stderr[-3000:]}")
    return {
        **json.loads(done.stdout.strip().splitlines()[-1]),
        "size": spec["size"],
        "backend": spec["backend"],
    }


def questions(data: Path, sets: list[str], limit: int) -> list[dict[str, str]]:
    """Question texts and dates from the sets' questions.jsonl, spread over them."""
    found = []
    for name in sets:
        for line in (data / name / "questions.jsonl").read_text().splitlines():
            q = json.loads(line)
            found.append({"text": q["question"], "date": q.get("date", "")})
    return spread(found, limit)


def run_backend(
    backend: str, sizes: list[int], args: Any, common: dict[str, Any], port: int = 0
) -> tuple[list, list]:
    """Ingest each size into an empty index and measure retrieval where asked; return both result lists."""
    ingests, queries = [], []
    for size in sizes:
        index = args.cache / "index" / f"{backend}-{size}"
        shutil.rmtree(index, ignore_errors=True)
        spec = {
            **common,
            "size": size,
            "backend": backend,
            "index": str(index),
            "collection": f"scale-{size}",
        }
        spec["port"] = port
        print(f"{backend}: ingesting {size:,} chunks ...", flush=True)
        ingests.append(worker("ingest", spec))
        if size in args.retrieval_sizes:
            for ef in args.ef if backend == "embedded" else [None]:
                print(
                    f"{backend}: retrieval at {size:,} chunks, ef_search {ef or 'as built'} ...", flush=True
                )
                queries.append(worker("query", {**spec, "ef": ef}))
        if not args.keep:
            shutil.rmtree(index, ignore_errors=True)
    return ingests, queries


def server_run(args: Any, common: dict[str, Any]) -> tuple[list, list, float]:
    """Start `chroma run` on a free loopback port, measure against it, stop it; return its peak RSS too."""
    path, port = args.cache / "chroma-server", free_port()
    shutil.rmtree(path, ignore_errors=True)
    chroma = str(Path(sys.executable).with_name("chroma"))
    cmd = [chroma, "run", "--path", str(path), "--port", str(port), "--host", "127.0.0.1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc)
        ingests, queries = run_backend("server", args.retrieval_sizes, args, common, port)
        peak = hwm_mb(proc.pid)
    finally:
        stop(proc)
        if not args.keep:
            shutil.rmtree(path, ignore_errors=True)
    return ingests, queries, peak


def main() -> None:
    """Prepare text and vectors, run every measurement in its own process, print and save."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=SHARED, help="folder of the RealTimeQA sets")
    ap.add_argument("--sets", nargs="+", default=["mar2025", "oct2024"])
    ap.add_argument("--sizes", nargs="+", type=int, default=[10_000, 20_000, 50_000, 100_000])
    ap.add_argument("--retrieval-sizes", nargs="+", type=int, default=[20_000, 100_000])
    ap.add_argument("--backends", nargs="+", default=["embedded", "server"], choices=["embedded", "server"])
    ap.add_argument("--embed", type=int, default=2000, help="real chunks embedded by the model")
    ap.add_argument("--similarity", type=float, default=0.85, help="cosine of a noisy vector to its real one")
    ap.add_argument("--real-pages", type=int, default=0, help="use at most this many real pages (0 = all)")
    ap.add_argument("--queries", type=int, default=100, help="questions timed per measurement")
    ap.add_argument("--synthetic-queries", type=int, default=300, help="held-out vectors for recall")
    ap.add_argument("--ef", nargs="+", type=int, default=[100, 200, 400], help="ef_search values (embedded)")
    ap.add_argument("--baseline-size", type=int, default=20_000, help="ingest ratios are against this size")
    ap.add_argument("--cache", type=Path, default=CACHE / "scale")
    ap.add_argument("--keep", action="store_true", help="keep the indexes (they take ~1 GB per 100k chunks)")
    ap.add_argument("--out", type=Path, help="JSON file (default ~/.cache/rag/bench/scale-<time>.json)")
    args = ap.parse_args()
    out, args.cache = out_path(args.out, "scale"), args.cache.expanduser().resolve()
    args.cache.mkdir(parents=True, exist_ok=True)
    args.sizes = sorted(
        set(args.sizes) | set(args.retrieval_sizes) if "embedded" in args.backends else args.sizes
    )
    settings = Settings()
    real = make_embedder(settings.embed)
    sets = [args.data / s / "corpus.jsonl" for s in args.sets]
    print("Chunking the corpus (cached after the first run) ...", flush=True)
    catalog = build_catalog(sets, args.cache, max(args.sizes), settings, real, args.real_pages)
    print(f"\nEmbedding {args.embed:,} real chunks (cached after the first run) ...", flush=True)
    vectors, vmeta = build_vectors(catalog, args.cache, args.embed, args.similarity, settings, real)
    np.save(args.cache / "run-vectors.npy", vectors)
    (args.cache / "run-catalog.json").write_text(json.dumps(catalog.__dict__))
    del real, vectors
    common = {
        "catalog": str(args.cache / "run-catalog.json"),
        "vectors": str(args.cache / "run-vectors.npy"),
        "questions": questions(args.data, args.sets, args.queries),
        "synthetic_queries": args.synthetic_queries,
    }
    result: dict[str, Any] = {"machine_before": machine(), "vectors": vmeta, "real_chunks": catalog.real_rows}
    result["ingest"], result["query"] = [], []
    if "embedded" in args.backends:
        ingests, queries = run_backend("embedded", args.sizes, args, common)
        result["ingest"] += ingests
        result["query"] += queries
    if "server" in args.backends:
        ingests, queries, result["server_peak_rss_mb"] = server_run(args, common)
        result["ingest"] += ingests
        result["query"] += queries
    result["machine_after"] = machine()
    print_tables(result, args.baseline_size)
    print(
        f"\nload average (1 min) before / after: {result['machine_before']['loadavg'][0]:.1f} / "
        f"{result['machine_after']['loadavg'][0]:.1f}"
    )
    save(out, result)


if __name__ == "__main__":
    main()
