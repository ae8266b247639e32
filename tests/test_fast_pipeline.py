"""The whole ask path on fakes (scripted model, hashed-word embedder, memory store): logic in seconds.

The same paths run on the real pieces in test_pipeline.py, test_ask.py and test_cli.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_settings
from fakes import FakeEmbedder, MemoryStore, ScriptedModel

from rag.core.errors import QuestionError
from rag.core.types import Done, Retrieved, Token
from rag.pipeline import Pipeline

pytestmark = pytest.mark.fast

PAGES = {
    "bakery.md": "---\ntitle: Marlow bakery\ndate: 2024-11-05\n---\n"
    "The Marlow village bakery bakes 340 loaves of rye bread every Saturday morning.\n",
    "harbour.md": "---\ntitle: Harbour\ndate: 2023-09-14\n---\n"
    "The harbour lighthouse at Kestrel Point has a range of 18 nautical miles.\n",
}
LOAVES = "How many loaves of rye bread does the Marlow bakery bake?"


def pipeline(
    tmp_path: Path, *replies: str, token_prob: float | None = None
) -> tuple[Pipeline, ScriptedModel]:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in PAGES.items():
        (docs / name).write_text(text)
    model = ScriptedModel(*replies, token_prob=token_prob)
    pipe = Pipeline(
        make_settings(tmp_path / "index"), embedder=FakeEmbedder(), store=MemoryStore(), model=model
    )
    report = pipe.ingest([docs], show_bar=False)
    assert report.documents_seen == 2 and report.chunks_embedded == 2
    return pipe, model


def test_a_supported_answer_streams_and_is_cited(tmp_path: Path) -> None:
    pipe, model = pipeline(tmp_path, "The bakery bakes 340 loaves every Saturday [1].")
    events = list(pipe.ask_stream(LOAVES, as_of="2025-01-01"))
    assert isinstance(events[0], Retrieved) and isinstance(events[-1], Done)
    assert all(isinstance(e, Token) for e in events[1:-1]) and len(events) > 3
    answer = events[-1].answer
    assert not answer.abstained and answer.text == "The bakery bakes 340 loaves every Saturday [1]."
    assert answer.citations[0].passage.chunk.title == "Marlow bakery"
    assert "340 loaves" in model.prompts[0][-1]["content"], "the passages reached the model"


def test_a_wrong_number_is_not_shown(tmp_path: Path) -> None:
    pipe, _ = pipeline(tmp_path, "The bakery bakes 500 loaves every Saturday [1].")
    answer = pipe.ask(LOAVES, as_of="2025-01-01")
    assert answer.abstained and "no sentence" in answer.abstain_reason and answer.citations == ()


def test_a_citation_to_the_wrong_passage_is_corrected(tmp_path: Path) -> None:
    pipe, _ = pipeline(tmp_path, "The bakery bakes 340 loaves every Saturday [2].")
    answer = pipe.ask(LOAVES, as_of="2025-01-01")
    assert not answer.abstained and answer.citations[0].inferred
    assert answer.citations[0].passage.chunk.title == "Marlow bakery"


def test_documents_dated_after_the_question_are_not_used(tmp_path: Path) -> None:
    pipe, _ = pipeline(tmp_path, "The bakery bakes 340 loaves every Saturday [1].")
    answer = pipe.ask(LOAVES, as_of="2024-01-01")
    assert all(p.chunk.date is not None and p.chunk.date <= "2024-01-01" for p in answer.passages)
    assert answer.abstained


def test_the_models_confidence_is_reported_and_can_gate(tmp_path: Path) -> None:
    pipe, _ = pipeline(tmp_path, "The bakery bakes 340 loaves every Saturday [1].", token_prob=0.4)
    answer = pipe.ask(LOAVES, as_of="2025-01-01")
    assert answer.confidence == pytest.approx(0.4) and not answer.abstained


def test_bad_questions_are_refused_before_any_work(tmp_path: Path) -> None:
    pipe, model = pipeline(tmp_path)
    with pytest.raises(QuestionError, match="empty"):
        pipe.ask("   ")
    with pytest.raises(QuestionError, match="RAG_ANSWER__MAX_QUESTION_CHARS"):
        pipe.ask("x" * 50_000)
    assert model.prompts == []
