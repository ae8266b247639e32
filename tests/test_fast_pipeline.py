"""The whole ask path on fakes (scripted model, hashed-word embedder, memory store): logic in seconds.

The same paths run on the real pieces in test_pipeline.py, test_ask.py and test_cli.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_settings
from fakes import FakeEmbedder, MemoryStore, ScriptedModel

from rag.core.errors import QuestionError
from rag.core.types import Done, Retrieved, Token
from rag.pipeline import Pipeline
from rag.verify.confidence import ConfidenceModel

pytestmark = pytest.mark.fast

PAGES = {
    "bakery.md": "---\ntitle: Marlow bakery\ndate: 2024-11-05\n---\n"
    "The Marlow village bakery bakes 340 loaves of rye bread every Saturday morning.\n",
    "harbour.md": "---\ntitle: Harbour\ndate: 2023-09-14\n---\n"
    "The harbour lighthouse at Kestrel Point has a range of 18 nautical miles.\n",
}
LOAVES = "How many loaves of rye bread does the Marlow bakery bake?"
BAKES = "The bakery bakes 340 loaves every Saturday [1]."


def pipeline(
    tmp_path: Path,
    *replies: str,
    token_prob: float | None = None,
    yes: float | None = None,
    reader: str = "smollm2-135m",
    **answer: object,
) -> tuple[Pipeline, ScriptedModel]:
    docs = tmp_path / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for name, text in PAGES.items():
        (docs / name).write_text(text)
    model = ScriptedModel(*replies, token_prob=token_prob, yes=yes)
    settings = make_settings(tmp_path / "index", bundled=reader)
    settings = settings.model_copy(update={"answer": settings.answer.model_copy(update=answer)})
    pipe = Pipeline(settings, embedder=FakeEmbedder(), store=MemoryStore(), model=model)
    report = pipe.ingest([docs], show_bar=False)
    assert report.documents_seen == 2
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


def test_the_confidence_comes_from_the_signals_and_gates_the_answer(tmp_path: Path) -> None:
    """A confidence model over the self-check's P(yes): reported with its signals, and a threshold."""
    model_file = tmp_path / "confidence.json"
    fitted = ConfidenceModel(("p_yes", "token_p_mean"), (0.5, 0.5), (0.25, 0.25), (2.0, 1.0), 0.0, 0.6)
    model_file.write_text(json.dumps(fitted.to_dict()))
    sure, model = pipeline(
        tmp_path, BAKES, token_prob=0.4, yes=0.9, confidence_model=str(model_file), min_confidence=None
    )
    answer = sure.ask(LOAVES, as_of="2025-01-01")
    signals = dict(answer.signals)
    assert signals["p_yes"] == 0.9 and signals["token_p_mean"] == pytest.approx(0.4)
    assert signals["supported"] == 1.0 and signals["agree_passages"] == 1.0
    assert answer.confidence == pytest.approx(fitted.predict(signals)) and not answer.abstained
    assert model.self_checks[0][-1]["content"].startswith("Look at the passages again")
    assert model.self_checks[0][-2] == {"role": "assistant", "content": BAKES}, "the draft is asked about"
    unsure, _ = pipeline(tmp_path / "2", BAKES, yes=0.1, confidence_model=str(model_file))
    doubted = unsure.ask(LOAVES, as_of="2025-01-01")
    assert doubted.abstained and "below answer.min_confidence 0.60" in doubted.abstain_reason
    assert doubted.confidence is not None and doubted.confidence < 0.6


def test_no_self_check_for_a_draft_the_rules_stop(tmp_path: Path) -> None:
    pipe, model = pipeline(tmp_path, "The bakery bakes 500 loaves every Saturday [1].", yes=0.9)
    assert pipe.ask(LOAVES, as_of="2025-01-01").abstained and model.self_checks == []


def test_no_self_check_when_the_confidence_model_does_not_weigh_it(tmp_path: Path) -> None:
    """The packaged model leaves p_yes out, so an answer costs no second model call."""
    pipe, model = pipeline(tmp_path, BAKES, yes=0.9, min_confidence=0.0)
    answer = pipe.ask(LOAVES, as_of="2025-01-01")
    assert not answer.abstained and answer.confidence is not None and "p_yes" not in dict(answer.signals)
    assert model.self_checks == []


def test_the_packaged_confidence_speaks_only_for_the_model_it_was_fitted_on(tmp_path: Path) -> None:
    """Fitted on the default model's drafts: another model gets no number and no gate by default."""
    fitted_for = ConfidenceModel.load().reader.removeprefix("bundled:")
    same, _ = pipeline(tmp_path / "same", BAKES, token_prob=0.9, reader=fitted_for)
    assert same.ask(LOAVES, as_of="2025-01-01").confidence is not None
    other, _ = pipeline(tmp_path / "other", BAKES, token_prob=0.05)
    answer = other.ask(LOAVES, as_of="2025-01-01")
    assert answer.confidence is None and not answer.abstained
    gated, _ = pipeline(tmp_path / "gated", BAKES, token_prob=0.05, min_confidence=0.99)
    assert gated.ask(LOAVES, as_of="2025-01-01").abstained, "an explicit threshold still applies"


def test_bad_questions_are_refused_before_any_work(tmp_path: Path) -> None:
    pipe, model = pipeline(tmp_path)
    with pytest.raises(QuestionError, match="empty"):
        pipe.ask("   ")
    with pytest.raises(QuestionError, match="RAG_ANSWER__MAX_QUESTION_CHARS"):
        pipe.ask("x" * 50_000)
    assert model.prompts == []
