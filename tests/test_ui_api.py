"""The UI's HTTP API is closed: hostile calls to every endpoint reach no other server; auth when exposed."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import free_port
from gradio_client import Client

from rag.api import list_documents
from rag.core.settings import UiSettings
from rag.ui.app import launch

MEETING = "How long did the meeting between Zelenskyy and Trump last?"
SECRET = "sk-test-do-not-send-3f9a"


class Listener:
    """A tiny HTTP server on a free loopback port that records every connection made to it."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(f"{self.command} {self.path} {self.headers.get('Authorization')}")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            do_POST = do_HEAD = do_PUT = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def process_request(self, request, client_address):  # type: ignore[no-untyped-def]
                hits.append(f"connection from {client_address}")
                super().process_request(request, client_address)

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.server = Server(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Listener:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def hostile_values(attacker: str) -> list[Any]:
    return [
        attacker,
        "openai",
        attacker.replace("http", "https"),
        "../../../../etc/passwd",
        "upload:../../../../etc/passwd",
        "x" * 50_000,
        10**30,
        -(10**30),
        1e308,
        0,
        None,
        True,
        {"base_url": attacker, "backend": "openai"},
        [attacker, attacker],
        {"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}},
        [{"path": "../../../../etc/passwd", "meta": {"_type": "gradio.FileData"}, "orig_name": "p.md"}],
    ]


def hostile_calls(base: list[Any], attacker: str, each_position: bool = True) -> list[list[Any]]:
    """Argument lists from valid ``base`` ones: each hostile value at each position, everywhere, and
    issue 8's own attack ``(q, [], "openai", URL, 4, True)``; also too few and too many arguments."""
    n = len(base)
    calls = [[MEETING, [], "openai", attacker, 4, True][:n] + [attacker] * (n - 6), [], [*base, attacker]]
    for v in hostile_values(attacker):
        calls += [[*base[:i], v, *base[i + 1 :]] for i in range(n) if each_position] + [[v] * n]
    unique = {json.dumps(c, sort_keys=True): c for c in calls}
    return list(unique.values())


def raw_call(url: str, fn_index: int, data: list[Any]) -> str:
    """Call an event by number through the queue, as the page does (private events too); return the end."""
    session = uuid.uuid4().hex
    body = {"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None}
    joined = httpx.post(f"{url}gradio_api/queue/join", json=body, timeout=60)
    if joined.status_code != 200:
        return f"refused {joined.status_code}"
    with httpx.stream(
        "GET", f"{url}gradio_api/queue/data", params={"session_hash": session}, timeout=120
    ) as r:
        for line in r.iter_lines():
            if line.startswith("data:"):
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    return json.dumps(msg)[:20_000]
    return "stream ended"


@pytest.mark.heavy  # minutes of subprocesses: CI's heavy tier keeps the default under 12 min
def test_every_endpoint_with_hostile_arguments_calls_no_other_server(seed_index):
    """Issue 8 finding 4: `predict(q, [], "openai", URL, 4, True)` made the UI post passages and key there."""
    s = seed_index.model_copy(
        update={"model": seed_index.model.model_copy(update={"api_key": SECRET})}
    )  # a key the server must never send anywhere
    docs_before = list_documents(s)
    demo, url = launch(s, port=free_port())
    listener = Listener()
    try:
        with listener:
            client = Client(url, verbose=False)
            api = client.view_api(print_info=False, return_format="dict")
            named = {**api["named_endpoints"], **api["unnamed_endpoints"]}
            assert {"/ask", "/add", "/remove", "/documents"} <= set(named)
            answers = []
            for name, info in named.items():
                base = [p.get("parameter_default") for p in info["parameters"]]
                if name == "/ask":
                    base[0] = MEETING
                for args in hostile_calls(base, listener.url, each_position=False):  # raw calls do each
                    if "gradio.FileData" in json.dumps(args):
                        continue  # gradio_client would upload that local file itself; raw calls send it
                    try:
                        answers.append(str(client.predict(*args, api_name=name)))
                    except Exception as exc:  # refused: fine, as long as the server keeps working
                        answers.append(f"{type(exc).__name__}: {exc}")
            config = httpx.get(f"{url}config", timeout=30).json()
            values = {c["id"]: c.get("props", {}).get("value") for c in config["components"]}
            kinds = {c["id"]: c.get("type") for c in config["components"]}
            events = config["dependencies"]
            assert any(d.get("api_visibility") == "private" for d in events), "private events are tried too"
            for fn_index, event in enumerate(events):
                base = [MEETING if kinds[i] == "textbox" else values[i] for i in event["inputs"]]
                for args in hostile_calls(base, listener.url):
                    answers.append(raw_call(url, fn_index, args))
            for path in ("file=/etc/passwd", "file=../../../../etc/passwd", f"proxy={listener.url}/models"):
                page = httpx.get(f"{url}gradio_api/{path}", timeout=30)
                answers.append(page.text)
                assert "root:x:0:0" not in page.text
            assert listener.hits == [], f"the UI called the attacker's server: {listener.hits[:3]}"
        assert not any(SECRET in a for a in answers), "the API key never appears in a response"
        assert len(answers) > 150
        _, chat, sources = Client(url, verbose=False).predict(MEETING, api_name="/ask")  # still answers
        assert "50 minutes" in sources and "Error" not in str(chat[-1]["content"])
        assert list_documents(s) == docs_before, "no hostile call added or removed a document"
    finally:
        demo.close()


# --- exposure: a password or an explicit unsafe flag ------------------------------------------


def test_only_loopback_is_served_without_a_password(seed_index):
    from rag.ui.app import is_loopback, require_auth

    for host in ("127.0.0.1", "127.0.0.2", "localhost", "::1"):
        assert is_loopback(host)
        require_auth(seed_index, host, share=False)
    for host, share in (("0.0.0.0", False), ("192.168.1.20", False), ("::", False), ("127.0.0.1", True)):
        assert not is_loopback(host) or share
        with pytest.raises(Exception, match=r"RAG_UI__AUTH=user:password.*--unsafe-no-auth"):
            require_auth(seed_index, host, share)
        require_auth(seed_index, host, share, unsafe_no_auth=True)
    locked = seed_index.model_copy(update={"ui": UiSettings(auth="ada:correct-horse")})
    require_auth(locked, "0.0.0.0", share=False)
    assert "correct-horse" not in repr(locked), "the password is a SecretStr"
    with pytest.raises(ValueError, match="user:password"):
        UiSettings(auth="no-colon")


def test_rag_ui_refuses_a_public_address_without_a_password(seed_index):
    port = free_port()
    rag = Path(sys.executable).with_name("rag")
    done = subprocess.run(
        [str(rag), "--index", str(seed_index.index_dir), "ui", "--host", "0.0.0.0", "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "RAG_UI__AUTH=user:password" in done.stderr and "--unsafe-no-auth" in done.stderr
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=5)


def test_password_is_required_when_set(seed_index):
    s = seed_index.model_copy(update={"ui": UiSettings(auth="ada:correct-horse")})
    demo, url = launch(s, port=free_port())
    try:
        assert httpx.get(f"{url}config", timeout=30).status_code == 401
        joined = httpx.post(
            f"{url}gradio_api/queue/join",
            json={"data": [MEETING], "fn_index": 0, "session_hash": "x"},
            timeout=30,
        )
        assert joined.status_code == 401
        with pytest.raises(Exception):  # noqa: B017 (gradio_client raises a bare ValueError here)
            Client(url, verbose=False, auth=("ada", "wrong"))
        client = Client(url, verbose=False, auth=("ada", "correct-horse"))
        _, _, status = client.predict(api_name="/documents")
        assert "3 documents" in status
    finally:
        demo.close()
