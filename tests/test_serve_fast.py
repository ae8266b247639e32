"""`rag serve`'s logic on fakes (scripted model, hashed-word embedder, memory store), via FastAPI's client.

The same routes run on the real pieces (SmolLM2, the bundled embedder, Chroma on disk) with `rag serve`
as a subprocess in test_serve.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_settings
from fakes import FakeEmbedder, MemoryStore, ScriptedModel
from fastapi.testclient import TestClient
from test_fast_pipeline import LOAVES, PAGES, pipeline

from rag import api
from rag.core.settings import ServeSettings, Settings, load_settings
from rag.core.types import Answer, Chunk, Citation, Passage, Scope, SentenceCheck, Timings
from rag.formats.as_chat import SOURCES, answer_part, chat_content
from rag.formats.as_json import answer_dict, answer_from_dict
from rag.pipeline import Pipeline
from rag.serve.app import build_app
from rag.serve.chat_routes import question_and_history
from rag.serve.client import sse_events
from rag.serve.schemas import ChatMessage
from rag.serve.security import ExposureError, check_exposure

pytestmark = pytest.mark.fast

SUPPORTED = "The bakery bakes 340 loaves every Saturday [1]."
KEY = "k" * 24


def _answer() -> Answer:
    """An answer with every field set: scope, flags, an inferred citation, one to a passage not given."""
    one = Chunk(
        "d1-a",
        "d1",
        10,
        60,
        "The bakery bakes 340 loaves. ![x](http://evil/?q=1)",
        "Bakery",
        "b.md",
        "2024-11-05",
        17,
        3,
        "Bread > Rye",
        "food",
    )
    two = Chunk("d2-a", "d2", 0, 20, "Harbour light text", "Harbour", "h.html", None, 0, None, None)
    p1, p2 = (
        Passage(one, 0.5, 1, "fused", 0.8, 0.3),
        Passage(two, 0.25, 2, "dense", 0.6, None, ("instructions",)),
    )
    ghost = Passage(Chunk("d9-z", "d9", 5, 9, "gone", "Ghost", "g.txt"), 0.0, 3, "fused")
    cites = (
        Citation(1, p1, "It bakes 340 loaves.", True, "The bakery bakes 340 loaves.", 10, 38),
        Citation(3, ghost, "It bakes 340 loaves.", False, "gone", 5, 9, inferred=True),
    )
    return Answer(
        "How many loaves?", "It bakes 340 loaves [1][3].", cites, (p1, p2), False,
        Timings(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 2.1, 300, 12),
        (SentenceCheck("It bakes 340 loaves.", (1, 3), True),
         SentenceCheck("Ask *me*.", (), False, "no cited passage")),
        "It bakes 340 loaves [1].", "", "", (7,), "2025-01-01", 0.75,
        Scope(paths=("b*",), collections=("food",), since="2024-01-01"),
    )  # fmt: skip


def test_answer_json_reads_back_into_the_same_answer(tmp_path: Path) -> None:
    a = _answer()
    assert answer_from_dict(json.loads(json.dumps(answer_dict(a)))) == a
    real = pipeline(tmp_path, SUPPORTED)[0].ask(LOAVES, as_of="2025-01-01")
    assert real.citations and answer_from_dict(json.loads(json.dumps(answer_dict(real)))) == real


def test_chat_content_cites_with_footnotes_and_escapes_document_text() -> None:
    content = chat_content(_answer())
    text, sources = content.split(f"\n\n{SOURCES}\n")
    assert text.startswith("It bakes 340 loaves [1][3].") and "~~Ask \\*me\\*.~~" in text
    assert sources.splitlines()[0].startswith("[1] Bakery (2024-11-05), p. 3, § Bread > Rye, `b.md`:")
    assert "(does not support the sentence)" in sources and "![x](http" not in content
    assert answer_part(content) == text
    abstained = chat_content(
        _answer().__class__(**{**_answer().__dict__, "abstained": True, "abstain_reason": "x"})
    )
    assert abstained.startswith("Not in your documents:") and SOURCES not in abstained


def test_the_last_user_message_is_the_question_and_earlier_turns_the_history() -> None:
    said = [
        ChatMessage(role="system", content="Be brief."),
        ChatMessage(role="user", content="Who planted the trees?"),
        ChatMessage(role="assistant", content=f"Ada Lovell [1].\n\n{SOURCES}\n[1] Orchard notes ..."),
        ChatMessage(role="user", content=[{"type": "text", "text": "When?"}, {"type": "image_url"}]),
    ]
    assert question_and_history(said) == ("When?", [("Who planted the trees?", "Ada Lovell [1].")])
    with pytest.raises(ValueError, match="user"):
        question_and_history(said[:3])


def test_sse_lines_are_parsed_as_the_spec_says() -> None:
    lines = [
        ": ping",
        "event: token",
        'data: {"text": "a"}',
        "",
        "data: x",
        "data: y",
        "",
        "event: done",
        "data: 1",
    ]
    assert list(sse_events(lines)) == [("token", '{"text": "a"}'), ("message", "x\ny"), ("done", "1")]


def test_only_loopback_is_served_without_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = ServeSettings(api_keys=KEY).api_keys
    for host in ("127.0.0.1", "localhost", "::1"):
        check_exposure(host, (), unsafe_no_auth=False)
    for host in ("0.0.0.0", "192.168.1.5", "::"):
        with pytest.raises(ExposureError, match="RAG_SERVE__API_KEYS"):
            check_exposure(host, (), unsafe_no_auth=False)
        check_exposure(host, keys, unsafe_no_auth=False)
        check_exposure(host, (), unsafe_no_auth=True)
    with pytest.raises(ExposureError, match="RAG_UI__AUTH"):
        check_exposure("127.0.0.1", keys, unsafe_no_auth=False, ui=True, ui_auth=False)
    check_exposure("127.0.0.1", keys, unsafe_no_auth=False, ui=True, ui_auth=True)
    monkeypatch.setenv("RAG_SERVE__API_KEYS", f"{KEY}, {'z' * 20}")
    assert [k.get_secret_value() for k in load_settings().serve.api_keys] == [KEY, "z" * 20]
    monkeypatch.setenv("RAG_SERVE__API_KEYS", "short")
    with pytest.raises(Exception, match="at least 16 characters"):
        load_settings()


def _served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *replies: str, **serve: object) -> TestClient:
    """The app over fake parts; each request's settings (e.g. its top_k) get a pipeline on the same parts."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in PAGES.items():
        (docs / name).write_text(text)
    embedder, store, model = FakeEmbedder(), MemoryStore(), ScriptedModel(*replies)
    settings = make_settings(tmp_path / "index").model_copy(update={"serve": ServeSettings(**serve)})  # type: ignore[arg-type]

    def fake(s: Settings | None = None) -> Pipeline:
        return Pipeline(s or settings, embedder=embedder, store=store, model=model)

    fake().ingest([docs], show_bar=False)
    monkeypatch.setattr(api, "pipeline", fake)
    return TestClient(build_app(settings))


def test_ask_returns_the_cli_json_and_streams_in_ask_stream_order(tmp_path, monkeypatch) -> None:
    client = _served(tmp_path, monkeypatch, SUPPORTED, SUPPORTED)
    plain = client.post("/v1/ask", json={"question": LOAVES, "as_of": "2025-01-01"})
    assert plain.status_code == 200
    got = plain.json()
    assert got["answer"] == SUPPORTED and got["citations"][0]["title"] == "Marlow bakery"
    with client.stream(
        "POST", "/v1/ask", json={"question": LOAVES, "as_of": "2025-01-01", "stream": True}
    ) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = list(sse_events(r.iter_lines()))
    names = [n for n, _ in events]
    assert names[0] == "retrieved" and names[-1] == "done" and set(names[1:-1]) == {"token"}
    assert "".join(json.loads(d)["text"] for n, d in events if n == "token") == SUPPORTED
    done = json.loads(events[-1][1])
    assert {k: v for k, v in done.items() if k != "timings"} == {
        k: v for k, v in got.items() if k != "timings"
    }


def test_chat_completions_cite_with_footnotes_streaming_or_not(tmp_path, monkeypatch) -> None:
    client = _served(tmp_path, monkeypatch, SUPPORTED, SUPPORTED)
    body = {"model": "rag", "messages": [{"role": "user", "content": LOAVES}], "as_of": "2025-01-01"}
    reply = client.post("/v1/chat/completions", json=body).json()
    content = reply["choices"][0]["message"]["content"]
    assert content.startswith("The bakery bakes 340 loaves every Saturday [1].")
    assert f"{SOURCES}\n[1] Marlow bakery (2024-11-05)" in content
    assert reply["rag"]["citations"][0]["date"] == "2024-11-05" and reply["usage"]["completion_tokens"] > 0
    with client.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as r:
        data = [d for _, d in sse_events(r.iter_lines())]
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == content
    assert "".join(c["rag"].get("token", "") for c in chunks if "rag" in c) == SUPPORTED
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["rag"]["citations"]


def test_bad_requests_get_a_status_and_the_fix(tmp_path, monkeypatch) -> None:
    client = _served(tmp_path, monkeypatch)
    empty = client.post("/v1/ask", json={"question": "  "})
    assert empty.status_code == 400 and "empty" in empty.json()["error"]["message"]
    assert client.post("/v1/ask", json={"question": "x", "top_k": 99}).status_code == 422
    assert "model_url" in client.post("/v1/ask", json={"question": "x", "model_url": "http://evil"}).text
    assert (
        client.post("/v1/ask", json={"question": LOAVES, "scope": {"collections": ["none"]}}).status_code
        == 400
    )
    chat = {"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}
    assert client.post("/v1/chat/completions", json=chat).status_code == 404
    chat = {"model": "rag", "messages": [{"role": "assistant", "content": "hi"}]}
    assert client.post("/v1/chat/completions", json=chat).status_code == 400
    stream = client.post("/v1/ask", json={"question": "", "stream": True})
    assert stream.status_code == 400 and stream.json()["error"]["type"] == "QuestionError"
    metrics = client.get("/metrics").text
    assert 'rag_errors_total{route="ask",type="QuestionError"} 2.0' in metrics
    assert 'rag_errors_total{route="ask",type="ScopeError"} 1.0' in metrics


def test_every_route_but_health_needs_a_key(tmp_path, monkeypatch) -> None:
    client = _served(tmp_path, monkeypatch, api_keys=KEY)
    paths = [*client.app.openapi()["paths"], "/docs", "/openapi.json", "/redoc"]  # type: ignore[attr-defined]
    assert {"/v1/ask", "/v1/chat/completions", "/v1/documents", "/metrics", "/health"} <= set(paths)
    for path in paths:
        concrete = path.replace("{doc_id}", "0123456789abcdef")
        for method in ("GET", "POST", "DELETE"):
            for headers in ({}, {"Authorization": "Bearer wrong-key-wrong-key"}, {"Authorization": KEY}):
                status = client.request(method, concrete, headers=headers).status_code
                assert (status == 401) == (path != "/health"), (method, path, headers, status)
    ok = client.get("/v1/documents", headers={"Authorization": f"Bearer {KEY}"})
    assert ok.status_code == 200 and ok.json()["index"]["documents"] == 2


def test_metrics_count_questions_and_abstentions(tmp_path, monkeypatch) -> None:
    client = _served(tmp_path, monkeypatch, SUPPORTED, "The bakery bakes 500 loaves [1].")
    assert not client.post("/v1/ask", json={"question": LOAVES, "as_of": "2025-01-01"}).json()["abstained"]
    body = {"model": "rag", "messages": [{"role": "user", "content": LOAVES}], "as_of": "2025-01-01"}
    assert client.post("/v1/chat/completions", json=body).json()["rag"]["abstained"]
    text = client.get("/metrics").text
    for line in (
        'rag_questions_total{route="ask"} 1.0',
        'rag_questions_total{route="chat"} 1.0',
        'rag_abstentions_total{route="ask"} 0.0',
        'rag_abstentions_total{route="chat"} 1.0',
        "rag_answer_seconds_count 2.0",
        "rag_retrieve_seconds_count 2.0",
        "rag_first_token_seconds_count 2.0",
    ):
        assert line in text, line


def test_uploads_follow_the_pages_rules(tmp_path, monkeypatch) -> None:
    client = _served(tmp_path, monkeypatch)
    files = [
        ("files", ("../../notes.md", b"# Notes\n\nThe kiln in the pottery shed fires at 1,240 degrees.\n")),
        ("files", ("run.exe", b"MZ")),
    ]
    added = client.post("/v1/documents", files=files)
    assert added.status_code == 200 and added.json()["stored"] == ["notes.md"]
    assert "unsupported type" in added.json()["refused"][0]
    assert (tmp_path / "data" / "uploads" / "notes.md").is_file(), (
        "stored under data_dir/uploads, name cleaned"
    )
    docs = client.get("/v1/documents").json()["documents"]
    kiln = next(d for d in docs if d["path"].endswith("notes.md"))
    refused = client.post("/v1/documents", files=[("files", ("x.exe", b"MZ"))])
    assert refused.status_code == 400
    assert (
        client.post("/v1/documents", files=[("files", (f"{i}.md", b"x")) for i in range(21)]).status_code
        == 400
    )
    assert client.delete("/v1/documents/not-an-id").status_code == 422
    gone = client.delete(f"/v1/documents/{kiln['doc_id']}")
    assert gone.status_code == 200 and gone.json()["chunks"] == kiln["chunks"]
    assert not (tmp_path / "data" / "uploads" / "notes.md").exists()
    assert client.delete(f"/v1/documents/{kiln['doc_id']}").status_code == 404


def test_a_request_may_carry_its_day_scope_and_passage_count(tmp_path, monkeypatch) -> None:
    client = _served(tmp_path, monkeypatch, SUPPORTED, SUPPORTED, SUPPORTED)
    one = client.post("/v1/ask", json={"question": LOAVES, "as_of": "2025-01-01", "top_k": 1}).json()
    assert len(one["passages"]) == 1 and one["citations"]
    early = client.post("/v1/ask", json={"question": LOAVES, "as_of": "2024-01-01"}).json()
    assert early["as_of"] == "2024-01-01" and all(p["date"] <= "2024-01-01" for p in early["passages"])
    scoped = {"question": LOAVES, "as_of": "2025-01-01", "scope": {"titles": ["harbour"]}}
    harbour = client.post("/v1/ask", json=scoped).json()
    assert {p["title"] for p in harbour["passages"]} == {"Harbour"} and harbour["scope"]["titles"] == [
        "harbour"
    ]
    bad_day = client.post("/v1/ask", json={"question": LOAVES, "as_of": "last Tuesday"})
    assert bad_day.status_code == 400 and "2025-06-06" in bad_day.json()["error"]["message"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert "/v1/chat/completions" in client.get("/openapi.json").json()["paths"]


def test_a_client_that_leaves_mid_stream_does_not_block_the_next(tmp_path, monkeypatch) -> None:
    client = _served(tmp_path, monkeypatch, SUPPORTED, SUPPORTED)
    body = {"question": LOAVES, "as_of": "2025-01-01", "stream": True}
    with client.stream("POST", "/v1/ask", json=body) as r:
        assert next(r.iter_lines()) == "event: retrieved"  # then the client goes away
    answered = client.post("/v1/ask", json={"question": LOAVES, "as_of": "2025-01-01"})
    assert answered.status_code == 200 and answered.json()["citations"], "the one answer slot was freed"
