"""How far any confidence threshold could go: the best precision each held-out set allows at a given coverage.

    .venv/bin/python bench/calibrate.py --dump /tmp/rows.jsonl      # once: replay the reports
    .venv/bin/python bench/ceiling.py --rows /tmp/rows.jsonl        # --answered-right 0.20 (default)

For each split of bench/calibrate.py (fit on two RealTimeQA sets, report on the other two), the
confidence model is fitted on the fit sets as calibrate.py does; then, on each held-out set and
config, every threshold is tried *on that set itself* and the best precision at which at least
``--answered-right`` of its answerable questions are still answered right is printed. That is an
upper bound for any threshold chosen without the held-out labels: when it is below a precision
target, no threshold, rule for choosing one, or refit of the same signals reaches that target; the
reader's right drafts and the signals' separation of right from wrong are what limit it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from calibrate import LEFT_OUT, SPLITS, Row, fit

from rag.verify.confidence import ConfidenceModel


def best_precision(
    model: ConfidenceModel, rows: list[Row], answered_right: float
) -> tuple[float, int, int] | None:
    """The highest precision (right, shown) over thresholds that keep ``answered_right`` of the answerable."""
    answerable = sum(r.answerable for r in rows) or 1
    ranked = sorted((r for r in rows if r.passes and r.signals), key=lambda r: -model.predict(r.signals))
    best, right = None, 0
    for shown, row in enumerate(ranked, 1):
        right += row.right
        if right / answerable >= answered_right and (best is None or right / shown > best[0]):
            best = (right / shown, right, shown)
    return best


def main() -> int:
    """Print the ceiling of every held-out set and config, both ways."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=Path, required=True, help="rows written by bench/calibrate.py --dump")
    ap.add_argument("--answered-right", type=float, default=0.20, help="coverage to keep (default 0.20)")
    ap.add_argument("--c", type=float, default=0.3, help="inverse L2 strength, as calibrate.py")
    args = ap.parse_args()
    rows = [Row(**json.loads(line)) for line in args.rows.read_text().splitlines()]
    print(
        "| fit on | held out | config | right answers the rules let through | best precision at "
        f"answered right >= {args.answered_right:.2f} |"
    )
    print("|---|---|---|---|---|")
    for fit_sets, report_sets in SPLITS:
        model = fit([r for r in rows if r.set in fit_sets], args.c, LEFT_OUT)
        for name in report_sets:
            for config in ("no-options", "default"):
                part = [r for r in rows if r.set == name and r.config == config]
                if not part:
                    continue
                passed = sum(r.right for r in part if r.passes)
                best = best_precision(model, part, args.answered_right)
                ceiling = f"{best[0]:.2f} ({best[1]}/{best[2]})" if best else "unreachable"
                answerable = sum(r.answerable for r in part)
                print(f"| {'+'.join(fit_sets)} | {name} | {config} | {passed}/{answerable} | {ceiling} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
