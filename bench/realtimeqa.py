"""Run `rag eval` on the RealTimeQA benchmark sets, when they are present; prints one table per set.

    .venv/bin/python bench/realtimeqa.py                       # both sets: default, no-options, oracle
    .venv/bin/python bench/realtimeqa.py --sets mar2025 --configs default no-options baseline

The sets (corpus.jsonl + questions.jsonl built from realtimeqa/realtimeqa_public) state no licence:
they are read from ../shared/benchmarks/realtimeqa (or --data), and everything derived from them
(materialised pages, indexes, reports) is written under --cache, outside the project.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rag.core.errors import RagError
from rag.core.settings import load_settings
from rag.evaluate import evaluate

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "benchmarks" / "realtimeqa"
CACHE = Path("~/.cache/rag/realtimeqa").expanduser()


def main() -> int:
    """Evaluate each requested set and print its summary table; exit 2 when no set is found."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA, help="folder holding the sets")
    ap.add_argument("--sets", nargs="+", default=["mar2025", "oct2024"])
    ap.add_argument("--configs", nargs="+", default=["default", "no-options", "oracle"])
    ap.add_argument("--cache", type=Path, default=CACHE, help="indexes and reports (outside the project)")
    args = ap.parse_args()
    sets = [s for s in args.sets if (args.data / s / "questions.jsonl").is_file()]
    if not sets:
        print(f"No RealTimeQA sets under {args.data}: nothing to run.", file=sys.stderr)
        return 2
    base = load_settings()
    for name in sets:
        folder = args.data / name
        out = args.cache / "reports" / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
        started = time.perf_counter()
        try:
            run = evaluate(
                args.configs,
                base,
                folder / "corpus.jsonl",
                folder / "questions.jsonl",
                out=out,
                cache_root=args.cache / "index",
                show_bar=True,
            )
        except RagError as exc:
            print(f"Error: {exc}", file=sys.stderr)
            return 2
        print((run.out / "summary.md").read_text().split("\n![")[0])
        print(f"{name}: {time.perf_counter() - started:.0f} s; report in {run.out}/\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
