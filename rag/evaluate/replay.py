"""Check a past run's saved drafts again with today's checker: new verdicts without generating again.

Every results.jsonl line holds the question as asked, its as-of day, the passages the model saw and
its draft: enough to run ``Verifier.verify`` again. A change to the checker (a rule, a threshold, a
fitted confidence) is measured on the same drafts in seconds, and a refactor is shown to change no
verdict.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from rag.answer.steps import make_query
from rag.core.types import Draft
from rag.evaluate.metrics import contains_answer
from rag.formats.as_json import passage_from
from rag.verify.signals import MODEL_SIGNALS
from rag.verify.verifier import Verdict, Verifier


@dataclass(frozen=True)
class Replayed:
    """One saved answer checked again: what was shown then and what the checker shows now."""

    config: str
    id: str
    accepted: tuple[str, ...]
    before: str  # the answer shown then ("" when it abstained)
    now: str  # the answer shown now ("" when it abstains)
    verdict: Verdict

    @property
    def changed(self) -> bool:
        """True when the checker now shows something else (an answer, another text, or nothing)."""
        return self.before != self.now

    def right(self, text: str) -> bool:
        """Return True when ``text`` holds an accepted answer (the eval's ``contains`` metric)."""
        return bool(text) and bool(contains_answer(text, self.accepted))


def read_results(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the complete lines of a results.jsonl file (a line cut by an interruption is skipped)."""
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            continue


def replay(
    records: Iterable[dict[str, Any]], verifier_for: Callable[[dict[str, Any]], Verifier]
) -> list[Replayed]:
    """Check each saved draft again.

    Args:
        records: results.jsonl lines (from ``read_results``).
        verifier_for: The checker to apply to a line (e.g. one per config, or one with a rule off).

    Returns:
        One ``Replayed`` per line, in order.

    """
    out = []
    for r in records:
        asked = r.get("rewritten") or r["question"]
        query = make_query(asked, date.fromisoformat(r["as_of"]))
        passages = [passage_from(p) for p in r["passages"]]
        saved = {k: float(v) for k, v in (r.get("signals") or {}).items() if k in MODEL_SIGNALS}
        verdict = verifier_for(r).verify(query, Draft(r["draft"]), passages, known=saved)
        before = "" if r["abstained"] else r["answer"]
        now = "" if verdict.reason else verdict.text
        out.append(Replayed(r["config"], r["id"], tuple(r["accepted"]), before, now, verdict))
    return out
