"""The eval harness end to end, with SmolLM2, on the seed gold set and on a corpus it has never seen."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, make_settings

from rag.core.errors import RagError
from rag.evaluate import evaluate
from rag.evaluate.data import load_corpus, load_questions
from rag.index.manifest import Manifest

DATA = Path(__file__).parent / "data"
RAG = str(Path(sys.executable).with_name("rag"))


def test_seed_gold_set_is_well_formed():
    items = load_questions(ROOT / "eval" / "gold" / "seeds.jsonl")
    text = (ROOT / "seeds" / "000_49f197e31fd5e6ea.txt").read_text()
    assert len(items) >= 40
    assert sum(not i.answerable for i in items) >= 8
    assert {"paraphrase", "date", "who-said", "why", "number"} <= {i.kind for i in items}
    for item in items:
        if item.answerable:
            assert item.evidence and item.evidence in text, item.id


def test_bad_question_files_name_the_line(tmp_path):
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"id": "a", "question": "x", "answers": []}\nnot json\n')
    with pytest.raises(RagError, match=r"q.jsonl:2"):
        load_questions(bad)
    bad.write_text('{"id": "a", "question": "x"}\n')
    with pytest.raises(RagError, match="answers"):
        load_questions(bad)


@pytest.mark.heavy  # minutes of subprocesses: CI's heavy tier keeps the default under 12 min
def test_unseen_corpus_in_the_documented_format(tmp_path):
    """A corpus/questions pair the harness has never seen runs without code changes."""
    base = make_settings(tmp_path / "unused")
    cache, out = tmp_path / "cache", tmp_path / "report"
    args = (["tiny", "baseline-tiny"], base, DATA / "mini_corpus.jsonl", DATA / "mini_questions.jsonl")
    run = evaluate(*args, out=out, cache_root=cache, with_html=True, show_bar=False)
    for name in ("results.jsonl", "summary.json", "summary.md", "metrics.png", "latency.png", "report.html"):
        assert (out / name).stat().st_size > 0, name
    assert set(run.summary) == {"tiny", "baseline-tiny"}
    tiny = run.summary["tiny"]
    assert tiny["questions"] == 5 and tiny["unanswerable"] == 1
    assert tiny["hit@5"] == 1.0, "every gold document is retrieved on this tiny corpus"
    for key in (
        "hit@1",
        "recall@5",
        "mrr@10",
        "em",
        "f1",
        "contains",
        "cite_precision",
        "cite_recall",
        "precision",
        "coverage",
        "answered_right",
        "right_citation",
        "kept_right",
        "stopped_wrong",
        "invalid_citations",
        "abstain_unanswerable",
        "false_abstain",
        "retrieve_p50",
        "first_token_p95",
        "total_p95",
        "prompt_tokens_p50",
    ):
        assert key in tiny
    assert run.summary["baseline-tiny"]["cite_recall"] == 0.0, "the tutorial pipeline cannot cite"
    rows = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 10 and {r["config"] for r in rows} == {"tiny", "baseline-tiny"}
    assert "| hit@1 |" in (out / "summary.md").read_text()

    # the per-corpus index is cached by content hash: a rerun embeds nothing
    corpus = load_corpus(DATA / "mini_corpus.jsonl", cache)
    from rag import ingest

    index = next((cache / corpus.key).glob("index-*"))
    manifest = Manifest.load(index)
    assert manifest is not None and manifest.store_collection
    own = base.store.model_copy(update={"collection": manifest.store_collection})  # the eval's own
    cached = base.model_copy(update={"index_dir": index, "store": own})
    assert ingest(corpus.files, cached, show_bar=False).chunks_embedded == 0

    # an interrupted run resumes: drop the last line and rerun into the same folder
    (out / "results.jsonl").write_text("\n".join(json.dumps(r) for r in rows[:-1]) + "\n")
    evaluate(*args, out=out, cache_root=cache, show_bar=False)
    again = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert len(again) == 10 and again[:-1] == rows[:-1]


@pytest.mark.heavy  # minutes of subprocesses: CI's heavy tier keeps the default under 12 min
def test_regression_gate_on_the_seed_set(tmp_path):
    """What CI gates on: the seed gold set with SmolLM2 against eval/thresholds.toml."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HF_HUB_OFFLINE": "1", "RAG_MODEL__THREADS": "1"}
    out = tmp_path / "report"
    proc = subprocess.run(
        [RAG, "eval", "tiny", "--check", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Regression gate passed" in proc.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tiny"]["questions"] >= 40

    strict = tmp_path / "strict.toml"
    strict.write_text("[tiny]\ncontains = 1.01\n")
    failing = subprocess.run(
        [RAG, "eval", "tiny", "--check", "--thresholds", str(strict), "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert failing.returncode == 1 and "contains" in failing.stderr


def test_config_files_and_presets(tmp_path):
    from rag.evaluate.runner import resolve_config

    base = make_settings(tmp_path / "index")
    cfg = tmp_path / "mine.toml"
    cfg.write_text('[eval]\nname = "li-top2"\npipeline = "llamaindex"\n[retrieve]\ntop_k = 2\n')
    config = resolve_config(str(cfg), base)
    assert (config.name, config.pipeline, config.settings.retrieve.top_k) == ("li-top2", "llamaindex", 2)
    assert config.settings.model == base.model, "unset sections keep the base settings"
    plain = tmp_path / "dense.toml"
    plain.write_text("[retrieve]\nhybrid = false\n")
    assert resolve_config(str(plain), base).name == "dense"
    assert resolve_config("top6", base).settings.retrieve.top_k == 6
    with pytest.raises(RagError, match="neither a preset"):
        resolve_config("nope", base)


def test_empty_question_file_is_an_error(tmp_path):
    empty = tmp_path / "q.jsonl"
    empty.write_text("\n")
    with pytest.raises(RagError, match="no questions"):
        load_questions(empty)
