"""Pages that disagree: the newer figure answers, the older page is set aside and named beside it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import NATO, SEED, make_settings

from rag import ask, ingest
from rag.core.types import Chunk, Passage
from rag.formats.as_markdown import answer_markdown, conflict_notes
from rag.verify.conflicts import find_conflicts, set_aside_older
from rag.verify.question import Question

OLD_PAGE = """---
title: NATO summit communique
date: 2019-12-04
---
NATO endorsed a 12% spending target for its members at the summit in London.
"""


def page(text: str, date: str | None, n: int) -> Passage:
    return Passage(Chunk(f"c{n}", f"d{n}", 0, len(text), text, "T", f"{n}.txt", date), 0.03, n, "fused", 0.6)


FIVE = page("NATO endorsed a higher spending goal of five percent of GDP by 2035.", "2025-06-25", 1)
TWELVE = page("NATO endorsed a 12% spending target for its members.", "2019-12-04", 2)


@pytest.mark.fast
def test_the_older_of_two_pages_stating_different_figures_is_set_aside() -> None:
    question = Question.parse(NATO)
    (conflict,) = find_conflicts(question, [FIVE, TWELVE])
    assert (conflict.older, conflict.newer) == (TWELVE, FIVE) and "12%" in conflict.older_says
    ordered, _ = set_aside_older(question, [TWELVE, FIVE])
    assert [p.chunk.id for p in ordered] == ["c1", "c2"] and ordered[1].flags == ("superseded",)


@pytest.mark.fast
def test_no_conflict_when_figures_agree_a_page_is_undated_off_topic_or_the_question_asks_when() -> None:
    same = page("NATO endorsed five percent of GDP as its spending target.", "2019-12-04", 3)
    undated = page("NATO endorsed a 12% spending target for its members.", None, 4)
    other = page("The museum spent 12% more on heating this winter.", "2019-12-04", 5)
    assert find_conflicts(Question.parse(NATO), [FIVE, same, undated, other]) == ()
    assert (
        find_conflicts(Question.parse("In what year did NATO endorse its spending target?"), [FIVE, TWELVE])
        == ()
    )


def conflicted_answer(tmp_path: Path, **model: object):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    (docs / "nato2019.md").write_text(OLD_PAGE)
    settings = make_settings(tmp_path / "index", **model)
    ingest([docs], settings, show_bar=False)
    return ask(NATO, settings)


def assert_the_newer_figure_answers(answer) -> None:  # type: ignore[no-untyped-def]
    assert not answer.abstained, answer.abstain_reason
    assert "five percent" in answer.text or "5%" in answer.text, answer.text
    assert "12" not in answer.text and "12%" not in answer.draft
    old = next(p for p in answer.passages if p.chunk.path.endswith("nato2019.md"))
    assert old.flags == ("superseded",) and answer.passages[-1] == old, "set aside, listed last"
    assert all(not c.passage.flags for c in answer.citations)
    (note,) = conflict_notes(answer)
    assert "(2019-12-04) says" in note and "12% spending target" in note and "(2025-06-25)" in note
    assert "Documents disagree" in answer_markdown(answer)


def test_the_2025_figure_answers_beside_a_2019_page_smollm2(tmp_path: Path) -> None:
    assert_the_newer_figure_answers(conflicted_answer(tmp_path))


@pytest.mark.slow
def test_the_2025_figure_answers_beside_a_2019_page_default_model(tmp_path: Path) -> None:
    default = {"bundled": "qwen2.5-coder-1.5b", "max_tokens": 160, "n_ctx": 4096, "threads": 2}
    assert_the_newer_figure_answers(conflicted_answer(tmp_path, **default))
