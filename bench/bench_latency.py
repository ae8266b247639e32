"""Time to first token and answer time per speed lever, each beside the default configuration in one run.

    .venv/bin/python bench/bench_latency.py                                   # seed gold set, 1.5B
    .venv/bin/python bench/bench_latency.py --realtimeqa ../shared/benchmarks/realtimeqa/mar2025 \
        --news-limit 30                                                        # and the news benchmark
    .venv/bin/python bench/bench_latency.py --model smollm2-135m --limit 3 --levers default excerpt=2

The default lever is rag's default configuration with --threads threads (1; rag's own default is now
0 = auto, the cores idle when the model loads: add the lever threads=0 to measure it).
Levers (--levers): default, threads=N, cache=off (llama.cpp's prompt cache off for each request),
excerpt=N (retrieve.excerpt_sentences), ubatch=N (model.n_ubatch), top_k=N; join with "+" to combine.
Every lever gets its own model instance (its own prompt cache) and the questions go round-robin
over the levers, so a change in machine load hits them all alike. One warm-up question per lever is
not counted. Quality comes from rag.evaluate's scores. Then cold start in new processes (--no-cold
skips it). Index, materialised news pages and JSON are kept under ~/.cache (never in the repo).
"""

from __future__ import annotations

import argparse
import gc
from pathlib import Path
from typing import Any

from benchlib import (
    CACHE,
    ROOT,
    asked,
    machine,
    mean,
    out_path,
    pct,
    prepare,
    ratio,
    spread,
    table,
    write_json,
)
from coldstart import measure, rows
from levers import DEFAULT_LEVERS, lever_settings, tapped_model

from rag.components import shared_embedder
from rag.core.settings import ModelSettings, Settings
from rag.core.types import GoldItem
from rag.evaluate import load_questions
from rag.evaluate.runner import score
from rag.pipeline import Pipeline


def run_set(
    settings: Settings, corpus: Any, items: list[GoldItem], levers: list[str], options: bool, warm: GoldItem
) -> list[dict[str, Any]]:
    """Answer every question with every lever, round-robin; return one record per answer.

    ``warm`` is asked first by each lever and not counted (first-call costs, an empty prompt cache);
    it should not be ``items[0]``, or that question would find its whole prompt cached.
    """
    embedder = shared_embedder(settings.embed)
    pipes, threads = {}, {}
    for spec in levers:
        s, extra = lever_settings(spec, settings)
        model, tap = tapped_model(s, extra)
        threads[spec] = model.threads  # what llama.cpp got, not a second sample of the idle cores
        pipes[spec] = (Pipeline(s, embedder=embedder, model=model), tap)
    for pipe, _ in pipes.values():
        pipe.ask(asked(warm, options), as_of=warm.date or None)
    records = []
    for n, item in enumerate(items, 1):
        for spec, (pipe, tap) in pipes.items():
            answer = pipe.ask(asked(item, options), as_of=item.date or None)
            scores = score(item, answer, list(answer.passages), corpus)
            t = answer.timings
            records.append(
                {
                    "lever": spec,
                    "threads": threads[spec],
                    "id": item.id,
                    "answerable": item.answerable,
                    "abstained": answer.abstained,
                    "model_called": bool(tap.timings),
                    "retrieve": t.retrieve,
                    "first_token": t.first_token,
                    "total": t.total,
                    "prompt_tokens": t.prompt_tokens,
                    "llama": tap.timings,
                    "contains": scores["contains"],
                    "right_citation": scores["right_citation"],
                }
            )
            tap.timings = {}
        print(f"  {n}/{len(items)} questions", end="\r", flush=True)
    del pipes
    gc.collect()
    return records


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Latency percentiles and quality of one lever's records."""
    called = [r for r in records if r["model_called"]]
    answerable = [r for r in records if r["answerable"]]
    unanswerable = [r for r in records if not r["answerable"]]
    llama = [r["llama"] for r in called]
    return {
        "questions": len(records),
        "threads": records[0]["threads"] if records else None,
        "model_called": len(called),
        "first_token_p50": pct([r["first_token"] for r in called], 50),
        "first_token_p95": pct([r["first_token"] for r in called], 95),
        "total_p50": pct([r["total"] for r in called], 50),
        "retrieve_p50": pct([r["retrieve"] for r in records], 50),
        "prompt_tokens_p50": pct([r["prompt_tokens"] for r in called], 50),
        "computed_tokens_p50": pct([t.get("prompt_n", 0) for t in llama], 50),
        "cached_tokens_p50": pct([t.get("cache_n", 0) for t in llama], 50),
        "prefill_tokens_per_s_p50": pct([t.get("prompt_per_second", 0) for t in llama], 50),
        "generate_tokens_per_s_p50": pct([t.get("predicted_per_second", 0) for t in llama], 50),
        "contains": mean([r["contains"] for r in answerable]),
        "right_citation": mean([r["right_citation"] for r in answerable]),
        "abstain_unanswerable": mean([float(r["abstained"]) for r in unanswerable]),
        "abstain_answerable": mean([float(r["abstained"]) for r in answerable]),
    }


def print_table(title: str, summary: dict[str, dict[str, Any]]) -> None:
    """Print one set's table: each lever beside the default, with ratios."""
    base = summary["default"]
    headers = [
        "lever",
        "threads",
        "first token p50 s",
        "vs default",
        "p95 s",
        "total p50 s",
        "vs default",
        "prompt tok p50",
        "cached tok p50",
        "prefill tok/s",
        "contains",
        "abstain unans.",
        "abstain wrongly",
    ]
    out = [
        [
            name,
            s["threads"],
            s["first_token_p50"],
            ratio(s["first_token_p50"], base["first_token_p50"]),
            s["first_token_p95"],
            s["total_p50"],
            ratio(s["total_p50"], base["total_p50"]),
            s["prompt_tokens_p50"],
            s["cached_tokens_p50"],
            s["prefill_tokens_per_s_p50"],
            s["contains"],
            s["abstain_unanswerable"],
            s["abstain_answerable"],
        ]
        for name, s in summary.items()
    ]
    print(f"\n{title}\n\n{table(headers, out)}")


def main() -> None:
    """Run the levers on the seed set (and the news set when given), then cold start; print and save."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-1.5b", help="bundled model")
    ap.add_argument("--levers", nargs="+", default=DEFAULT_LEVERS)
    ap.add_argument("--threads", type=int, default=1, help="model.threads of the default lever (0 = auto)")
    ap.add_argument("--limit", type=int, help="seed questions (spread over the set; default all 50)")
    ap.add_argument("--realtimeqa", type=Path, help="a news set folder (corpus.jsonl, questions.jsonl)")
    ap.add_argument("--news-limit", type=int, default=30, help="news questions (spread over the set)")
    ap.add_argument(
        "--news-cache",
        type=Path,
        default=Path("~/.cache/rag/realtimeqa/index").expanduser(),
        help="news indexes (shared with bench/realtimeqa.py)",
    )
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-start measures")
    ap.add_argument("--out", type=Path, help="JSON file (default ~/.cache/rag/bench/latency-<time>.json)")
    args = ap.parse_args()
    out = out_path(args.out, "latency")
    levers = ["default", *[lv for lv in args.levers if lv != "default"]]
    base = Settings(model=ModelSettings(bundled=args.model, threads=args.threads))
    sets = [("seeds", ROOT / "seeds", ROOT / "eval/gold/seeds.jsonl", args.limit, CACHE / "latency", False)]
    if args.realtimeqa:
        d = args.realtimeqa
        sets.append(
            (d.name, d / "corpus.jsonl", d / "questions.jsonl", args.news_limit, args.news_cache, True)
        )
    result: dict[str, Any] = {"machine_before": machine(), "model": args.model, "levers": levers, "sets": {}}
    tables = []
    for name, corpus_path, questions, limit, cache_root, options in sets:
        print(f"{name}: preparing the index in {cache_root} ...", flush=True)
        settings, corpus = prepare(corpus_path, cache_root, base)
        every = load_questions(questions)
        items = spread(every, limit)
        records = run_set(settings, corpus, items, levers, options, warm=every[-1])
        summary = {lv: summarise([r for r in records if r["lever"] == lv]) for lv in levers}
        title = f"{name}: {len(items)} questions, {args.model}, default = {base.model.threads} thread(s)"
        print_table(title, summary)
        tables.append((title, summary))
        entry: dict[str, Any] = {"questions": len(items), "summary": summary, "records": records}
        if not args.no_cold:
            print(f"{name}: cold start in new processes ...", flush=True)
            cold = measure(settings, items[0].question, corpus.files[0].parent)
            print("\n" + table(["cold start", "value"], rows(cold)))
            entry["cold_start"] = cold
        result["sets"][name] = entry
    result["machine_after"] = machine()
    loads = result["machine_before"]["loadavg"][0], result["machine_after"]["loadavg"][0]
    print(f"\nload average (1 min) before / after: {loads[0]:.1f} / {loads[1]:.1f}")
    write_json(out, result)


if __name__ == "__main__":
    main()
