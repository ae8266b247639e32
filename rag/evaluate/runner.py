"""Run gold questions through one or more configurations; write one result line per question."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import ValidationError

from rag.core.errors import RagError
from rag.core.settings import Settings
from rag.core.types import Answer, Chunk, Done, GoldItem, Passage
from rag.evaluate import metrics as m
from rag.evaluate.data import Corpus
from rag.formats.as_json import answer_dict
from rag.pipeline import Pipeline

PipelineKind = Literal["rag", "llamaindex", "oracle"]


@dataclass(frozen=True)
class EvalConfig:
    """A named configuration: settings, which system answers, and whether quiz options are shown.

    ``pipeline`` "oracle" is ours given only the question's ``explanation`` as its passage: the
    reader's own ceiling, with retrieval taken out.
    """

    name: str
    settings: Settings
    pipeline: PipelineKind = "rag"
    options: bool = True  # append a question's choices as an "Options:" line (a person's question has none)


def _with(base: Settings, section: str, **values: Any) -> Settings:
    return base.model_copy(update={section: getattr(base, section).model_copy(update=values)})


PRESETS: dict[str, Callable[[Settings], EvalConfig]] = {
    "default": lambda b: EvalConfig("default", b),
    "dense": lambda b: EvalConfig("dense", _with(b, "retrieve", hybrid=False)),
    "top3": lambda b: EvalConfig("top3", _with(b, "retrieve", top_k=3)),
    "top6": lambda b: EvalConfig("top6", _with(b, "retrieve", top_k=6)),
    "small": lambda b: EvalConfig(
        "small", _with(b, "model", backend="bundled", bundled="qwen2.5-coder-0.5b")
    ),
    "tiny": lambda b: EvalConfig("tiny", _with(b, "model", backend="bundled", bundled="smollm2-135m")),
    "no-options": lambda b: EvalConfig("no-options", b, options=False),
    "oracle": lambda b: EvalConfig("oracle", b, "oracle"),
    "baseline": lambda b: EvalConfig("baseline", b, "llamaindex"),
    "baseline-tiny": lambda b: EvalConfig(
        "baseline-tiny", _with(b, "model", backend="bundled", bundled="smollm2-135m"), "llamaindex"
    ),
}


def resolve_config(spec: str, base: Settings) -> EvalConfig:
    """Turn a preset name or a settings TOML file (optional ``[eval]`` name/pipeline) into a config."""
    if spec in PRESETS:
        return PRESETS[spec](base)
    path = Path(spec)
    if not path.is_file():
        raise RagError(f"'{spec}' is neither a preset ({', '.join(PRESETS)}) nor a settings .toml file.")
    try:
        data = tomllib.loads(path.read_text())
        meta = data.pop("eval", {})
        merged = base.model_dump()
        for key, value in data.items():
            merged[key] = merged.get(key, {}) | value if isinstance(value, dict) else value
        return EvalConfig(str(meta.get("name", path.stem)), Settings(**merged), meta.get("pipeline", "rag"))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise RagError(f"{path} is not a valid settings file: {exc}") from None


class System(Protocol):
    """What the runner needs from a system under test (ours or the baseline)."""

    def answer(self, question: str, item: GoldItem) -> Answer:
        """Answer one question (``item`` gives its as-of date and, for the oracle, its explanation)."""
        ...

    def ranking(self, question: str, item: GoldItem, k: int = 10) -> list[Passage]:
        """Return the retriever's top-k passages."""
        ...


class RagSystem:
    """Our pipeline over a per-corpus cached index."""

    def __init__(self, settings: Settings, corpus: Corpus) -> None:
        """Ingest the corpus (incremental: a cached index embeds nothing new)."""
        self.pipeline = Pipeline.from_settings(settings)
        self.pipeline.ingest(corpus.files, show_bar=False)

    def answer(self, question: str, item: GoldItem) -> Answer:
        """Answer with the pipeline's ask(), as of the question's date."""
        return self.pipeline.ask(question, as_of=item.date or None)

    def ranking(self, question: str, item: GoldItem, k: int = 10) -> list[Passage]:
        """Return the top-k passages as ask() retrieves them (as of the question's date)."""
        from rag.answer.steps import make_query, query_day

        query = make_query(question, query_day(item.date or None))
        return self.pipeline.retrieve(query, top_k=k)


class OracleSystem(RagSystem):
    """Our reader given the question's explanation as its only passage: the ceiling of reading."""

    def answer(self, question: str, item: GoldItem) -> Answer:
        """Answer from the item's explanation alone (abstaining checks included)."""
        from datetime import date

        from rag.answer.steps import make_query, query_day

        chunk = Chunk(
            f"oracle-{item.id}", "oracle", 0, len(item.explanation), item.explanation, "", "", item.date
        )
        passage = Passage(chunk, 1.0, 1, "dense", dense_score=1.0)
        query = make_query(question, query_day(item.date or date.today()))
        answer = None
        for event in self.pipeline.answer_from(query, (passage,)):
            if isinstance(event, Done):
                answer = event.answer
        assert answer is not None
        return answer


def relevant(passage: Passage, item: GoldItem, corpus: Corpus) -> bool:
    """Return True when a passage holds the gold evidence, is a gold document, or has an answer."""
    text = m.normalize(passage.chunk.text)
    if item.evidence:
        return m.normalize(item.evidence) in text
    if item.gold_doc_ids:
        return corpus.doc_id(passage.chunk.path) in item.gold_doc_ids
    return any(m.normalize(a) and m.normalize(a) in text for a in item.answers)


def score(item: GoldItem, answer: Answer, ranking: list[Passage], corpus: Corpus) -> dict[str, float]:
    """All per-question scores; answer scores count an abstention as wrong on answerable questions.

    None of them uses rag's own checker: "right" means an accepted answer occurs in the answer shown,
    "draft_right" the same for the model's draft, "right_citation" that a cited passage holds one.
    """
    ranks = [p.rank for p in ranking if relevant(p, item, corpus)]
    wanted = list(item.gold_doc_ids) or ["evidence"]
    found: dict[str, int] = {}
    for p in ranking:
        key = corpus.doc_id(p.chunk.path) if item.gold_doc_ids else "evidence"
        if relevant(p, item, corpus):
            found.setdefault(key, p.rank)
    text = "" if answer.abstained else answer.text
    cited = {c.n: c.passage for c in answer.citations}
    cited_ok = [
        relevant(p, item, corpus) or bool(m.contains_answer(p.chunk.text, item.answers))
        for p in cited.values()
    ]
    answered = not answer.abstained
    return {
        "answered": float(answered),
        "right": m.contains_answer(text, item.answers),
        "draft_right": m.contains_answer(answer.draft, item.answers),
        "right_citation": float(
            answered and any(m.contains_answer(p.chunk.text, item.answers) for p in cited.values())
        ),
        "hit@1": m.hit_at_k(ranks, 1),
        "hit@3": m.hit_at_k(ranks, 3),
        "hit@5": m.hit_at_k(ranks, 5),
        "recall@5": m.recall_at_k(found, wanted, 5),
        "mrr@10": m.mrr_at_k(ranks, 10),
        "em": m.exact_match(text, item.answers),
        "f1": m.token_f1(text, item.answers),
        "contains": m.contains_answer(text, item.answers),
        "cite_precision": m.citation_precision(cited_ok),
        "cite_recall": m.citation_recall(cited_ok),
        "invalid_citations": float(len(answer.invalid_citations)),
    }


def _question(item: GoldItem, options: bool = True) -> str:
    if item.choices and options:
        return f"{item.question}\nOptions: {'; '.join(item.choices)}"
    return item.question


def result_record(config: str, item: GoldItem, answer: Answer, scores: dict[str, float]) -> dict[str, Any]:
    """One results.jsonl line: the question, the full answer and its scores."""
    return {
        "config": config,
        "id": item.id,
        "question": item.question,
        "kind": item.kind,
        "date": item.date,
        "answerable": item.answerable,
        "accepted": list(item.answers),
        **answer_dict(answer),
        "scores": scores,
        "timings": asdict(answer.timings),
    }


def done_ids(results: Path) -> set[tuple[str, str]]:
    """(config, id) pairs already in a results file, so an interrupted run resumes."""
    if not results.exists():
        return set()
    out = set()
    for line in results.read_text().splitlines():
        try:
            r = json.loads(line)
            out.add((r["config"], r["id"]))
        except (json.JSONDecodeError, KeyError):
            continue  # a line cut by an interruption is redone
    return out


def run_config(
    system: System,
    config: EvalConfig,
    items: list[GoldItem],
    corpus: Corpus,
    results: Path,
    show_bar: bool = True,
) -> None:
    """Answer every question not yet in ``results`` and append its line as soon as it is scored."""
    from tqdm import tqdm

    done = done_ids(results)
    todo = [i for i in items if (config.name, i.id) not in done]
    with (
        results.open("a", encoding="utf-8") as out,
        tqdm(
            total=len(items),
            initial=len(items) - len(todo),
            desc=config.name,
            unit="q",
            disable=None if show_bar else True,
        ) as bar,
    ):
        for item in todo:
            question = _question(item, config.options)
            answer = system.answer(question, item)
            ranking = system.ranking(question, item, 10)
            record = result_record(config.name, item, answer, score(item, answer, ranking, corpus))
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
            bar.update(1)
