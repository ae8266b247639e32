"""Evaluation harness: gold questions through several configs, metrics, reports and a regression gate."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.components import shared_embedder, shared_model
from rag.core.settings import Settings
from rag.evaluate.data import Corpus, load_corpus, load_questions
from rag.evaluate.report import check, write_report
from rag.evaluate.runner import EvalConfig, OracleSystem, RagSystem, System, resolve_config, run_config

DEFAULT_CORPUS = Path("seeds")
DEFAULT_QUESTIONS = Path("eval/gold/seeds.jsonl")
DEFAULT_CONFIGS = ("default", "baseline")


@dataclass(frozen=True)
class EvalRun:
    """Where a run wrote its report, its summary per config and any regression-gate failures."""

    out: Path
    summary: dict[str, dict[str, Any]]
    failures: tuple[str, ...] = ()


def _index_key(settings: Settings) -> str:
    """Indexes depend on the embedder and the chunk sizes only; configs sharing them share an index."""
    c = settings.chunk
    text = f"{settings.embed.model_path}|{c.max_tokens}|{c.min_tokens}|{c.overlap_tokens}"
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def build_system(config: EvalConfig, corpus: Corpus, cache_root: Path) -> System:
    """Build the system a config names, over its cached per-corpus index."""
    base = cache_root / corpus.key
    if config.pipeline == "llamaindex":
        from rag.evaluate.baseline import LlamaIndexBaseline

        s = config.settings
        embedder = shared_embedder(s.embed)
        folder = base / f"llamaindex-{_index_key(s)}"
        return LlamaIndexBaseline(
            list(corpus.files), folder, embedder, shared_model(s.model), s.model.n_ctx, s.model.max_tokens
        )
    key = _index_key(config.settings)
    # A Chroma server holds every index in one place: give each corpus/index its own collection.
    store = config.settings.store.model_copy(update={"collection": f"eval-{corpus.key}-{key}"})
    settings = config.settings.model_copy(update={"index_dir": base / f"index-{key}", "store": store})
    return OracleSystem(settings, corpus) if config.pipeline == "oracle" else RagSystem(settings, corpus)


def latest_report(reports: Path) -> Path | None:
    """Return the newest report folder that has results, for --resume."""
    found = sorted(p.parent for p in reports.glob("*/results.jsonl"))
    return found[-1] if found else None


def evaluate(
    configs: list[str],
    base: Settings,
    corpus_path: Path = DEFAULT_CORPUS,
    questions_path: Path = DEFAULT_QUESTIONS,
    out: Path | None = None,
    reports: Path = Path("eval/reports"),
    cache_root: Path = Path("eval/cache"),
    thresholds: Path | None = None,
    with_html: bool = False,
    show_bar: bool = True,
) -> EvalRun:
    """Run every config on the same questions and write the report folder.

    Args:
        configs: Preset names or settings TOML files (``[eval] name/pipeline`` optional).
        base: Settings the presets start from.
        corpus_path: A folder of documents or a corpus.jsonl file.
        questions_path: questions.jsonl.
        out: Report folder; an existing one is resumed (questions already answered are kept).
        reports: Parent of new timestamped report folders.
        cache_root: Per-corpus indexes, reused across runs by content hash.
        thresholds: A thresholds TOML; when given, failures are returned.
        with_html: Also write report.html.
        show_bar: Show progress bars.

    """
    items = load_questions(questions_path)
    cache_root.mkdir(parents=True, exist_ok=True)
    corpus = load_corpus(corpus_path, cache_root)
    resolved = [resolve_config(c, base) for c in configs]
    out = out or reports / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    for config in resolved:
        system = build_system(config, corpus, cache_root)
        run_config(system, config, items, corpus, out / "results.jsonl", show_bar)
    title = f"{questions_path.name} on {corpus_path} ({len(items)} questions)"
    summary = write_report(out, title, with_html)
    failures = tuple(check(summary, thresholds)) if thresholds else ()
    return EvalRun(out, summary, failures)
