"""Check the saved drafts of a RealTimeQA run again with today's checker, and say what changed.

    .venv/bin/python bench/replay.py --sets mar2025 oct2024          # the newest report of each set
    .venv/bin/python bench/replay.py --report ~/.cache/rag/realtimeqa/reports/mar2025-2026...

No draft is generated: each results.jsonl line is checked again (``rag.evaluate.replay``) against the
set's cached index (its BM25 weights the question's words). Prints, per set and config, how many
verdicts are identical, the answers shown and right before and now, and each changed verdict.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

from realtimeqa import CACHE, DATA

from rag.core.settings import load_settings
from rag.evaluate import build_system, load_corpus
from rag.evaluate.replay import Replayed, read_results, replay
from rag.evaluate.runner import RagSystem, resolve_config
from rag.verify.verifier import Verifier


def newest_report(cache: Path, name: str) -> Path | None:
    """Return the newest report folder of a set that has results."""
    found = sorted((cache / "reports").glob(f"{name}-*/results.jsonl"))
    return found[-1].parent if found else None


def replay_set(name: str, report: Path, data: Path, cache: Path) -> list[Replayed]:
    """Replay one report against its set's cached index."""
    base = load_settings()
    corpus = load_corpus(data / name / "corpus.jsonl", cache / "index")
    system = build_system(resolve_config("default", base), corpus, cache / "index")
    assert isinstance(system, RagSystem)
    with system.pipeline.index.use() as (_, snap):
        verifier = Verifier(base.answer, snap.bm25.idf, system.pipeline.embedder)
    return replay(read_results(report / "results.jsonl"), lambda _: verifier)


def summarize(name: str, rows: list[Replayed]) -> None:
    """Print identical/changed counts and right answers before and now, per config."""
    by_config: dict[str, list[Replayed]] = defaultdict(list)
    for r in rows:
        by_config[r.config].append(r)
    for config, items in by_config.items():
        same = sum(not r.changed for r in items)
        shown = (sum(bool(r.before) for r in items), sum(bool(r.now) for r in items))
        right = (sum(r.right(r.before) for r in items), sum(r.right(r.now) for r in items))
        print(
            f"{name} {config}: {same}/{len(items)} verdicts identical; "
            f"answers shown {shown[0]} -> {shown[1]}, right {right[0]} -> {right[1]}"
        )
        for r in items:
            if r.changed:
                print(f"  {r.id}: {r.before[:90]!r} -> {r.now[:90]!r}")


def main() -> int:
    """Replay each requested set (or one report) and print what changed; exit 1 when a verdict did."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--sets", nargs="+", default=["mar2025", "oct2024"])
    ap.add_argument("--report", type=Path, help="one report folder (its set is read from its name)")
    args = ap.parse_args()
    jobs = [(args.report.name.split("-")[0], args.report)] if args.report else []
    jobs += [] if args.report else [(s, newest_report(args.cache, s)) for s in args.sets]
    changed = 0
    for name, report in jobs:
        if report is None:
            print(f"{name}: no report under {args.cache / 'reports'}", file=sys.stderr)
            continue
        rows = replay_set(name, report, args.data, args.cache)
        summarize(name, rows)
        changed += sum(r.changed for r in rows)
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
