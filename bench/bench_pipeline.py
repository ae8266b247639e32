"""Benchmark ingest and ask against the LlamaIndex tutorial pipeline in the same run; prints a table.

    .venv/bin/python bench/bench_pipeline.py [--docs 40] [--model smollm2-135m] [--questions 5]

Corpus: the seed article plus N variants of it (sentences shuffled, numbers changed), written to a
temporary folder. Both pipelines use the same bundled embedder and chat model.
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from rag import ask, ingest
from rag.components import shared_embedder as embedder_for
from rag.components import shared_model as model_for
from rag.core.settings import ModelSettings, Settings
from rag.evaluate.baseline import LlamaIndexBaseline

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_49f197e31fd5e6ea.txt"
QUESTIONS = [
    "What spending target did NATO endorse?",
    "How long did the meeting between Zelenskyy and Trump last?",
    "Why will Putin not travel to the BRICS summit?",
    "How many people were killed in Dnipro?",
    "What is the population of Kyiv?",
    "Who said I don't trust the guy?",
    "When did the ICC issue the warrant?",
]


def make_corpus(folder: Path, n: int) -> list[Path]:
    """Write the seed and n perturbed variants of it."""
    folder.mkdir(parents=True)
    text = SEED.read_text()
    paragraphs = text.split("\n\n")
    files = [folder / SEED.name]
    shutil.copy(SEED, files[0])
    rng = random.Random(7)
    for i in range(n):
        shuffled = paragraphs[1:]
        rng.shuffle(shuffled)
        shift = i + 1
        body = "\n\n".join(re.sub(r"\d+", lambda m, k=shift: str(int(m.group()) + k), p) for p in shuffled)
        path = folder / f"variant_{i:03d}.txt"
        path.write_text(f"date 2025-07-{1 + i % 28:02d}\n{body}")
        files.append(path)
    return files


def timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    """Run both pipelines and print the comparison table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=40)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--questions", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ragbench-"))
    files = make_corpus(tmp / "docs", args.docs)
    settings = Settings(
        index_dir=tmp / "index", model=ModelSettings(bundled=args.model, threads=args.threads)
    )
    embedder_for(settings.embed), model_for(settings.model)  # load once, outside the timings
    rows: list[tuple[str, str, str]] = []

    first, t_first = timed(lambda: ingest(files, settings, show_bar=False))
    again, t_again = timed(lambda: ingest(files, settings, show_bar=False))
    files[1].write_text(files[1].read_text().replace("NATO", "The alliance", 1))
    changed, t_changed = timed(lambda: ingest(files, settings, show_bar=False))
    li, t_li = timed(
        lambda: LlamaIndexBaseline(
            files,
            tmp / "li",
            embedder_for(settings.embed),
            model_for(settings.model),
            settings.model.n_ctx,
            settings.model.max_tokens,
        )
    )
    n_li = len(li._index.docstore.docs)
    rows += [
        (
            "ingest, first (s)",
            f"{t_first:.1f} ({first.chunks_embedded} chunks)",
            f"{t_li:.1f} ({n_li} chunks)",
        ),
        (
            "ingest, unchanged again (s)",
            f"{t_again:.2f} ({again.chunks_embedded} embedded)",
            f"{t_li:.1f} (no incremental mode: all re-embedded)",
        ),
        (
            "ingest, one file edited (s)",
            f"{t_changed:.2f} ({changed.chunks_embedded} embedded)",
            f"{t_li:.1f} (all re-embedded)",
        ),
    ]

    ours = [ask(q, settings) for q in QUESTIONS[: args.questions]]
    base = [li.answer(q) for q in QUESTIONS[: args.questions]]

    def med(answers, key):  # type: ignore[no-untyped-def]
        return statistics.median(getattr(a.timings, key) for a in answers)

    for key, label in (
        ("retrieve", "retrieve p50 (s)"),
        ("first_token", "first token p50 (s)"),
        ("total", "answer total p50 (s)"),
        ("prompt_tokens", "prompt tokens p50"),
    ):
        rows.append((label, f"{med(ours, key):.2f}", f"{med(base, key):.2f}"))
    rows.append(
        (
            "answers with checked citations",
            f"{sum(bool(a.citations) for a in ours)}/{len(ours)}",
            f"0/{len(base)}",
        )
    )
    rows.append(
        (
            "peak RSS of this process (MB)",
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}",
            "(same process)",
        )
    )
    width = max(len(r[0]) for r in rows)
    print(f"\n{len(files)} documents, model {args.model}, {args.threads} thread(s)\n")
    print(f"| {'measure'.ljust(width)} | rag | LlamaIndex tutorial |\n|{'-' * (width + 2)}|---|---|")
    for label, a, b in rows:
        print(f"| {label.ljust(width)} | {a} | {b} |")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
