"""The Pipeline: parts passed in, and a long-lived pipeline that follows index changes made elsewhere."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SEED, make_settings, memory_store
from fakes import ScriptedModel

from rag.components import shared_embedder
from rag.core.types import Done, Retrieved, Token
from rag.pipeline import Pipeline

RAG = str(Path(sys.executable).with_name("rag"))
MEETING = "How long did the meeting between Zelenskyy and Trump last?"
BAKERY = """---
title: Marlow bakery
date: 2024-11-05
---
The Marlow village bakery bakes 340 loaves of rye bread every Saturday morning.
"""


def rag_cli(*args: str, index: Path) -> subprocess.CompletedProcess[str]:
    """Run the `rag` command in another process, as a user would beside a running UI."""
    env = {**os.environ, "RAG_INDEX_DIR": str(index), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([RAG, *args], capture_output=True, text=True, env=env, timeout=300)


def test_parts_can_be_passed_in(tmp_path, corpus):
    """An in-memory Chroma and a scripted model: the whole ask path without loading a chat model."""
    model = ScriptedModel("The meeting lasted 50 minutes [1].")
    settings = make_settings(tmp_path / "index")
    pipe = Pipeline(settings, embedder=shared_embedder(settings.embed), store=memory_store(), model=model)
    report = pipe.ingest([corpus], show_bar=False)
    assert report.chunks_embedded > 10 and report.generation == 1
    assert not (tmp_path / "index" / "chroma").exists(), "vectors went to the given store"
    events = list(pipe.ask_stream(MEETING))
    assert isinstance(events[0], Retrieved) and isinstance(events[-1], Done)
    assert "".join(e.text for e in events if isinstance(e, Token)) == "The meeting lasted 50 minutes [1]."
    answer = events[-1].answer
    assert not answer.abstained, answer.abstain_reason
    assert "50 minutes" in answer.citations[0].passage.chunk.text
    assert "50 minutes" in model.prompts[0][-1]["content"], "the passages reached the model"


@pytest.mark.heavy  # minutes of subprocesses: CI's heavy tier keeps the default under 12 min
def test_a_running_pipeline_follows_ingests_from_another_process(tmp_path, corpus):
    """Finding 1 of issue 8: a long-lived pipeline (the UI) while the CLI adds and prunes documents."""
    settings = make_settings(tmp_path / "index")
    dense = settings.model_copy(update={"retrieve": settings.retrieve.model_copy(update={"hybrid": False})})
    pipe = Pipeline.from_settings(dense)
    pipe.ingest([corpus], show_bar=False)
    assert "50 minutes" in " ".join(p.chunk.text for p in pipe.retrieve(MEETING))

    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "bakery.md").write_text(BAKERY)
    added = rag_cli("ingest", str(extra), index=settings.index_dir)
    assert added.returncode == 0, added.stderr
    found = pipe.retrieve("How many loaves of rye bread does the Marlow bakery bake?")
    assert "340 loaves" in found[0].chunk.text, "dense search sees the document added elsewhere"

    (corpus / "orchard.md").unlink()
    pruned = rag_cli("ingest", "--prune", str(corpus), index=settings.index_dir)
    assert pruned.returncode == 0, pruned.stderr
    for _ in range(3):  # every question after the prune works and never returns the pruned document
        passages = pipe.retrieve("Who planted the Bramley apple trees?")
        assert passages and all("orchard" not in p.chunk.path for p in passages)
    assert {d.path.split("/")[-1] for d in pipe.documents()} == {SEED.name, "lighthouse.html", "bakery.md"}

    rebuilt = rag_cli("ingest", "--rebuild", str(corpus), index=settings.index_dir)
    assert rebuilt.returncode == 0, rebuilt.stderr
    passages = pipe.retrieve("How many loaves of rye bread does the Marlow bakery bake?")
    assert passages and all("bakery" not in p.chunk.path for p in passages), "the rebuilt collection is used"
