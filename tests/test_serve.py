"""`rag serve` as a subprocess on a loopback port with SmolLM2: the openai client, curl, `rag ask --server`.

The module's server has API keys and the chat page mounted (with its login); every client sends the key.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import free_port
from openai import OpenAI
from serving import RAG, copy_index, rag_serve, serve_env

from rag.ingestion.writer import index_lock
from rag.serve.client import sse_events

KEY = "test-key-" + "x" * 20
AUTH = {"Authorization": f"Bearer {KEY}"}
MEETING = "How long did the meeting between Zelenskyy and Trump last?"
KILN = (
    "---\ntitle: Pottery notes\ndate: 2024-05-01\n---\nThe kiln in the pottery shed fires at 1,240 degrees.\n"
)
SEEDS = Path(__file__).resolve().parent.parent / "eval" / "gold" / "seeds.jsonl"


@pytest.fixture(scope="module")
def served(seed_index, tmp_path_factory) -> tuple[str, Path]:
    """A `rag serve --ui` with keys and a page login, on a copy of the seed index; (URL, its home)."""
    home = tmp_path_factory.mktemp("serve")
    index = copy_index(seed_index.index_dir, home / "index")
    with rag_serve(index, home, "--ui", RAG_SERVE__API_KEYS=KEY, RAG_UI__AUTH="ada:correct-horse") as url:
        yield url, home


def test_the_openai_client_gets_a_cited_answer_streaming_or_not(served) -> None:
    url, _ = served
    client = OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0)
    assert [m.id for m in client.models.list()] == ["rag"]
    reply = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": MEETING}])
    content = reply.choices[0].message.content or ""
    answer, sources = content.split("\n\nSources:\n")
    assert "50 minutes" in answer and "[1]" in answer
    assert sources.startswith("[1] ") and "50 minutes" in sources, "the footnote quotes the passage"
    rag = reply.model_extra["rag"]
    cite = rag["citations"][0]
    assert {"page", "section", "date", "quote", "doc"} <= set(cite) and cite["date"] == "2025-06-25"
    assert not rag["abstained"] and reply.usage and reply.usage.completion_tokens > 0

    stream = client.chat.completions.create(
        model="rag", messages=[{"role": "user", "content": MEETING}], stream=True
    )
    chunks = list(stream)
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "[1]" in streamed and "\n\nSources:\n[1] " in streamed and "50 minutes" in streamed
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["rag"]["citations"][0]["date"] == "2025-06-25"
    assert any("token" in (c.model_extra.get("rag") or {}) for c in chunks), "the draft streams first"

    with pytest.raises(Exception, match="401"):
        OpenAI(base_url=f"{url}/v1", api_key="wrong-key-wrong-key", max_retries=0).models.list()


def test_curl_reads_the_sse_stream_of_ask(served) -> None:
    url, _ = served
    body = json.dumps({"question": MEETING, "stream": True})
    headers = ["-H", "Content-Type: application/json", "-H", f"Authorization: Bearer {KEY}"]
    curl = subprocess.run(
        ["curl", "-sN", *headers, "-d", body, f"{url}/v1/ask"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    events = list(sse_events(curl.stdout.splitlines()))
    names = [name for name, _ in events]
    assert names[0] == "retrieved" and names[-1] == "done" and set(names[1:-1]) == {"token"}, names[:5]
    passages = json.loads(events[0][1])["passages"]
    done = json.loads(events[-1][1])
    assert [p["id"] for p in done["passages"]] == [p["id"] for p in passages]
    drafted = "".join(json.loads(data)["text"] for name, data in events if name == "token")
    assert drafted == done["draft"] and "50 minutes" in done["answer"] and done["citations"]


def test_every_route_but_health_refuses_a_missing_or_wrong_key(served) -> None:
    url, _ = served
    assert httpx.get(f"{url}/health").status_code == 200
    for method, path in [
        ("POST", "/v1/ask"),
        ("POST", "/v1/chat/completions"),
        ("GET", "/v1/models"),
        ("GET", "/v1/documents"),
        ("POST", "/v1/documents"),
        ("DELETE", "/v1/documents/0123456789abcdef"),
        ("GET", "/metrics"),
        ("GET", "/docs"),
        ("GET", "/openapi.json"),
    ]:
        for headers in ({}, {"Authorization": "Bearer not-the-key-at-all"}):
            assert httpx.request(method, url + path, headers=headers).status_code == 401, (method, path)
    assert httpx.get(f"{url}/v1/documents", headers=AUTH).status_code == 200
    assert httpx.get(f"{url}/metrics", headers=AUTH).status_code == 200


def test_rag_ask_server_without_the_key_says_how_to_set_it(served) -> None:
    url, home = served
    done = subprocess.run(
        [RAG, "ask", "--server", url, MEETING],
        env=serve_env(home / "none", home),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "RAG_SERVER_KEY" in done.stderr
    gone = subprocess.run(
        [RAG, "ask", MEETING],
        env=serve_env(home / "none", home, RAG_SERVER=f"http://127.0.0.1:{free_port()}"),
        capture_output=True,
        text=True,
    )
    assert gone.returncode == 2 and "Cannot reach rag serve" in gone.stderr and "RAG_SERVER" in gone.stderr


def test_documents_upload_list_remove_and_a_second_writer_fails_safely(served) -> None:
    url, home = served
    uploads = home / "data" / "uploads"
    before = httpx.get(f"{url}/v1/documents", headers=AUTH).json()["index"]
    with index_lock(home / "index"):  # another process is writing this index
        busy = httpx.post(
            f"{url}/v1/documents", headers=AUTH, files=[("files", ("kiln.md", KILN))], timeout=120
        )
    assert busy.status_code == 409 and "Another process is writing" in busy.json()["error"]["message"]
    assert not (uploads / "kiln.md").exists(), "an upload that could not be indexed is not kept"
    assert httpx.get(f"{url}/v1/documents", headers=AUTH).json()["index"] == before

    added = httpx.post(f"{url}/v1/documents", headers=AUTH, files=[("files", ("kiln.md", KILN))], timeout=120)
    assert added.status_code == 200 and added.json()["stored"] == ["kiln.md"]
    docs = httpx.get(f"{url}/v1/documents", headers=AUTH).json()["documents"]
    kiln = next(d for d in docs if d["title"] == "Pottery notes")
    asked = httpx.post(
        f"{url}/v1/ask", headers=AUTH, json={"question": "How hot does the pottery kiln fire?"}, timeout=300
    ).json()
    assert asked["passages"][0]["doc_id"] == kiln["doc_id"], "the upload is searched at once"
    removed = httpx.delete(f"{url}/v1/documents/{kiln['doc_id']}", headers=AUTH)
    assert removed.status_code == 200 and not (uploads / "kiln.md").exists()
    assert httpx.delete(f"{url}/v1/documents/{kiln['doc_id']}", headers=AUTH).status_code == 404
    metrics = httpx.get(f"{url}/metrics", headers=AUTH).text
    assert 'rag_document_changes_total{change="added"} 1.0' in metrics
    assert 'rag_document_changes_total{change="removed"} 1.0' in metrics


def test_the_chat_page_is_mounted_behind_its_login(served) -> None:
    from gradio_client import Client

    url, _ = served
    assert httpx.get(f"{url}/ui/").status_code == 200, "the page (its login) needs no API key"
    with pytest.raises(Exception):  # noqa: B017  (gradio_client raises a plain ValueError or HTTP error)
        Client(f"{url}/ui/", verbose=False)
    page = Client(f"{url}/ui/", auth=("ada", "correct-horse"), verbose=False)
    _, _, sources = page.predict(MEETING, api_name="/ask")
    assert "50 minutes" in sources


def test_a_public_address_without_keys_is_refused(tmp_path) -> None:
    done = subprocess.run(
        [RAG, "serve", "--host", "0.0.0.0", "--port", str(free_port())],
        env=serve_env(tmp_path / "index", tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "RAG_SERVE__API_KEYS" in done.stderr and "--unsafe-no-auth" in done.stderr


# --- `rag ask --server` prints what `rag ask` prints -------------------------------------------------

_SECONDS = re.compile(r"retrieve [\d.]+ s, first token [\d.]+ s, total [\d.]+ s")

# Runs `rag ask` for each argument list in one process, in order: its model sees the same prompts in
# the same order as the server's, so llama.cpp's prompt cache is in the same state for each answer.
LOCAL = r"""
import json, sys
from click.testing import CliRunner
from rag.cli.main import main
out = []
for args in json.loads(sys.argv[1]):
    r = CliRunner().invoke(main, args, catch_exceptions=False)
    out.append({"code": r.exit_code, "stdout": r.stdout, "stderr": r.stderr})
print(json.dumps(out))
"""


def without_timings(output: str) -> str:
    """Return a command's output with its seconds masked (they differ run to run); JSON parsed."""
    text = _SECONDS.sub("retrieve - s, first token - s, total - s", output)
    if text.startswith("{"):
        data = json.loads(text)
        data["timings"] = {k: v for k, v in data["timings"].items() if k.endswith("tokens")}
        return json.dumps(data, indent=2)
    return text


def asks(n: int) -> list[list[str]]:
    """The first ``n`` seed questions, each in the three output modes."""
    lines = SEEDS.read_text().splitlines()[:n]
    questions = [json.loads(line)["question"] for line in lines]
    return [["ask", *mode, q] for q in questions for mode in ([], ["--json"], ["--markdown"])]


def compare_with_server(seed_index, tmp_path: Path, n: int) -> None:
    """Ask ``n`` seed questions through a fresh `rag serve` and locally; the outputs must be equal."""
    index = copy_index(seed_index.index_dir, tmp_path / "index")
    env = serve_env(index, tmp_path)
    calls = asks(n)
    with rag_serve(index, tmp_path) as url:
        remote = [
            subprocess.run(
                [RAG, *args[:1], "--server", url, *args[1:]], env=env, capture_output=True, text=True
            )
            for args in calls
        ]
    cold = subprocess.run([RAG, *calls[0]], env=env, capture_output=True, text=True, timeout=600)
    local = subprocess.run(
        [sys.executable, "-c", LOCAL, json.dumps(calls)],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert local.returncode == 0, local.stderr[-2000:]
    warm = json.loads(local.stdout)
    assert cold.returncode == remote[0].returncode == 0, cold.stderr[-500:]
    assert without_timings(cold.stdout) == without_timings(remote[0].stdout), (
        "a cold `rag ask` prints the same"
    )
    assert cold.stderr == remote[0].stderr
    for args, here, there in zip(calls, warm, remote, strict=True):
        assert here["code"] == there.returncode == 0 and there.stdout.strip(), (args, there.stderr[-500:])
        assert without_timings(here["stdout"]) == without_timings(there.stdout), args
        assert here["stderr"] == there.stderr, args


@pytest.mark.heavy  # minutes of subprocesses: CI's heavy tier keeps the default under 12 min
def test_rag_ask_through_the_server_prints_what_rag_ask_prints(seed_index, tmp_path) -> None:
    compare_with_server(seed_index, tmp_path, 2)


@pytest.mark.heavy
def test_every_seed_question_prints_the_same_through_the_server(seed_index, tmp_path) -> None:
    compare_with_server(seed_index, tmp_path, 50)


def test_the_page_and_the_api_wait_in_one_line_for_the_model(seed_index) -> None:
    from rag.serve.app import build_app
    from rag.ui.handlers import local_model_lock

    app = build_app(seed_index, ui=True)  # loopback, no keys: the page needs no login
    with app.state.rag.gate.held():
        assert not local_model_lock().acquire(blocking=False), "the page waits while the API answers"
    assert local_model_lock().acquire(blocking=False), "and goes on once it is done"
    local_model_lock().release()
