"""Time-aware questions: the as-of date, dates named in questions, and documents dated after it."""

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from conftest import make_settings, memory_store
from fakes import ScriptedModel

from rag.components import shared_embedder
from rag.core.errors import QuestionError
from rag.core.types import DateWindow
from rag.index.vector_store import ChromaStore
from rag.pipeline import Pipeline
from rag.retrieval.question_dates import question_windows

FRIDAY = date(2025, 6, 6)
STROMBOLI = """---
title: Stromboli erupts again
date: 2019-07-03
---
The Stromboli volcano in Italy erupted on Monday, sending a column of ash into the sky above the island.
"""
ETNA = """---
title: Etna erupts
date: 2025-06-02
---
Mount Etna, the Italian volcano on Sicily, erupted on Monday, sending a plume of ash and gas over Catania.
"""
LATER = """---
title: Vesuvius rumbles
date: 2025-07-01
---
Vesuvius, the Italian volcano near Naples, showed new activity, scientists said.
"""
UNDATED = "Italian volcano notes: Vulcano island gave its name to all volcanoes.\n"
VOLCANO = "Which Italian volcano erupted on Monday?"


@pytest.mark.fast
@pytest.mark.parametrize(
    ("question", "window"),
    [
        (VOLCANO, ("2025-06-02", "2025-06-02", "on Monday")),
        ("What did the Fed announce this week?", ("2025-06-02", "2025-06-06", "this week")),
        ("Who won the election last year?", ("2024-01-01", "2024-12-31", "last year")),
        ("What happened in March?", ("2025-03-01", "2025-03-31", "in March")),
        ("Which team won in 2019?", ("2019-01-01", "2019-12-31", "in 2019")),
        ("What did he say yesterday?", ("2025-06-05", "2025-06-05", "yesterday")),
        ("Who won last weekend?", ("2025-05-31", "2025-06-01", "last weekend")),
        ("This weekend saw a rally in Kathmandu: for what?", ("2025-05-31", "2025-06-01", "This weekend")),
        (
            "Labour is considering what reform this week, as part of broader measures?",
            ("2025-06-02", "2025-06-06", "this week"),
        ),
    ],
)
def test_dates_in_questions_resolve_against_the_as_of_day(question, window):
    assert question_windows(question, FRIDAY) == (DateWindow(*window),)


@pytest.mark.fast
@pytest.mark.parametrize(
    "question",
    ["What did Theresa May say?", "What did the Sunday Times report?", "How many people were injured?"],
)
def test_names_with_months_or_days_are_not_dates(question):
    assert question_windows(question, FRIDAY) == ()


@pytest.fixture
def volcanoes(tmp_path):
    docs = tmp_path / "volcanoes"
    docs.mkdir()
    for name, text in (
        ("stromboli.md", STROMBOLI),
        ("etna.md", ETNA),
        ("later.md", LATER),
        ("notes.txt", UNDATED),
    ):
        (docs / name).write_text(text)
    model = ScriptedModel()
    settings = make_settings(tmp_path / "index")
    pipe = Pipeline(settings, embedder=shared_embedder(settings.embed), store=memory_store(), model=model)
    pipe.ingest([docs], show_bar=False)
    return pipe, model


def test_later_documents_are_not_used_and_undated_ones_are(volcanoes):
    from rag.answer.steps import make_query

    pipe, _ = volcanoes
    june = [p.chunk.path.split("/")[-1] for p in pipe.retrieve(make_query(VOLCANO, FRIDAY), 10)]
    assert "later.md" not in june and {"etna.md", "stromboli.md", "notes.txt"} <= set(june)
    in_2019 = [p.chunk.path.split("/")[-1] for p in pipe.retrieve(make_query(VOLCANO, date(2019, 7, 5)), 10)]
    assert set(in_2019) == {"stromboli.md", "notes.txt"}, "nothing dated after the as-of day"


def test_the_page_from_that_week_ranks_first_and_the_prompt_knows_today(volcanoes):
    pipe, model = volcanoes
    model.enqueue("Etna erupted on Monday [1].")
    answer = pipe.ask(VOLCANO, as_of="2025-06-06")
    assert answer.passages[0].chunk.title == "Etna erupts", "the page dated that Monday comes first"
    assert not answer.abstained and "Etna" in answer.text and answer.as_of == "2025-06-06"
    assert "Today is Friday, 2025-06-06." in model.prompts[-1][-1]["content"]
    assert "(Etna erupts, 2025-06-02)" in model.prompts[-1][-1]["content"], "passages carry their dates"
    with pytest.raises(QuestionError, match="2025-06-06"):
        pipe.ask(VOLCANO, as_of="last friday")


@pytest.mark.fast
def test_the_prompt_names_today_only_when_the_question_depends_on_it():
    from rag.answer.prompt import build_messages
    from rag.answer.steps import make_query

    def prompt(question: str) -> str:
        return build_messages(make_query(question, date(2025, 6, 6)), [])[-1]["content"]

    assert prompt("Which volcano erupted on Monday?").startswith("Today is Friday, 2025-06-06.")
    assert prompt("What is the latest eruption?").startswith("Today is Friday, 2025-06-06.")
    assert "Today is" not in prompt("On what date did the two leaders meet?")


@pytest.mark.heavy  # minutes of subprocesses: CI's heavy tier keeps the default under 12 min
def test_cli_as_of(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "etna.md").write_text(ETNA)
    (docs / "later.md").write_text(LATER)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "HF_HUB_OFFLINE": "1",
        "RAG_INDEX_DIR": str(tmp_path / "i"),
    }
    env |= {"RAG_MODEL__BUNDLED": "smollm2-135m", "RAG_MODEL__MAX_TOKENS": "32"}
    rag = str(Path(sys.executable).with_name("rag"))
    assert (
        subprocess.run([rag, "ingest", str(docs)], env=env, capture_output=True, timeout=300).returncode == 0
    )
    out = subprocess.run(
        [rag, "ask", "--json", "--as-of", "2025-06-06", "Which volcano erupted?"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    import json

    answer = json.loads(out.stdout)
    assert answer["as_of"] == "2025-06-06"
    assert all(p["date"] <= "2025-06-06" for p in answer["passages"])
    bad = subprocess.run(
        [rag, "ask", "--as-of", "June", "x?"], env=env, capture_output=True, text=True, timeout=300
    )
    assert bad.returncode == 2 and "2025-06-06" in bad.stderr


@pytest.mark.fast
def test_questions_about_now_need_evidence_from_then():
    from rag.retrieval.question_dates import asks_about_now, timely

    assert asks_about_now("Nasa has launched a new space telescope with what name?")
    assert asks_about_now("Who was recently elected?") and not asks_about_now("Which team won in New York?")
    week = question_windows("Which Italian volcano erupted on Monday?", FRIDAY)
    assert timely("2025-06-02", week, "2025-06-06", False)
    assert not timely("2019-07-03", week, "2025-06-06", False), (
        "a 2019 page cannot say what erupted this Monday"
    )
    assert timely(None, week, "2025-06-06", False), "undated passages are not ruled out"
    assert timely("2019-07-03", (), "2025-06-06", False), "a question without a time asks nothing of dates"
    years = question_windows("Which team won in 2019?", FRIDAY)
    assert timely("2021-01-01", years, "2025-06-06", False), "long periods ask nothing of the page's date"
    assert not timely("2024-01-01", (), "2025-06-06", True) and timely("2025-05-20", (), "2025-06-06", True)


def test_an_old_page_does_not_answer_what_happened_on_monday(volcanoes):
    pipe, model = volcanoes
    model.enqueue("Stromboli erupted on Monday [1][2][3].")
    answer = pipe.ask(VOLCANO, as_of="2025-06-06")
    assert answer.abstained and "older than the time the question asks about" in answer.sentences[0].reason


def test_the_date_filter_after_the_search_finds_what_the_filter_inside_chroma_finds(tmp_path, monkeypatch):
    """Real Chroma: the post-filter path (few later chunks) returns exactly the pre-filtered results."""
    from rag.answer.steps import make_query
    from rag.retrieval import retriever as retrieve

    docs = tmp_path / "news"
    docs.mkdir()
    topics = ["volcano erupted", "central bank raised rates", "storm hit the coast", "team won the cup"]
    for i in range(120):  # 2015-01 .. 2024-12, one page a month, four topics in turn
        day = f"{2015 + i // 12}-{i % 12 + 1:02d}-15"
        text = f"---\ntitle: Page {i}\ndate: {day}\n---\nReport {i}: the {topics[i % 4]} in month {i}.\n"
        (docs / f"p{i:03d}.md").write_text(text)
    settings = make_settings(tmp_path / "index")
    pipe = Pipeline(
        settings, embedder=shared_embedder(settings.embed), store=memory_store(), model=ScriptedModel()
    )
    pipe.ingest([docs], show_bar=False)

    def ids(as_of: date, question: str) -> list[str]:
        return [p.chunk.id for p in pipe.retrieve(make_query(question, as_of), 6)]

    questions = ("Which volcano erupted?", "Who won?")
    cases = [(date(y, 6, 1), q) for y in (2016, 2020, 2024, 2025) for q in questions]
    cases += [(date(2015, 12, 1), q) for q in questions]
    monkeypatch.setattr(retrieve, "MAX_POST_FILTER", -1.0)  # always inside Chroma: the reference
    inside = [ids(day, q) for day, q in cases]
    filters: list[object] = []
    query = ChromaStore.query

    def spy(self, vector, n, max_day=None, within=None):  # type: ignore[no-untyped-def]
        filters.append(max_day)
        return query(self, vector, n, max_day, within)

    monkeypatch.setattr(ChromaStore, "query", spy)
    monkeypatch.setattr(retrieve, "MAX_POST_FILTER", 0.9)
    after = [ids(day, q) for day, q in cases]
    assert after == inside
    assert all(inside), "every question found pages (near-duplicates are dropped, so often fewer than 6)"
    assert None in filters, "some searches ran unfiltered (the post-filter path)"
    assert any(f is not None for f in filters), (
        "2015-12: 91% of the pages are later, so the filter ran inside Chroma"
    )
