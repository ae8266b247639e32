"""16 clients for 60 s against one `rag serve` (SmolLM2), with an upload and a delete during the run.

Each client loops until the deadline (then finishes its request in flight), cycling the seed questions
over the four ways to ask: /v1/ask as JSON and as server-sent events, and the openai client's chat
completions streamed and not. Nothing may fail, every answer must come out of the checker, and
/metrics must count exactly what the clients sent and saw.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import OpenAI
from serving import copy_index, rag_serve

from rag.serve.client import sse_events

pytestmark = pytest.mark.heavy

CLIENTS, SECONDS = 16, 60
SEEDS = Path(__file__).resolve().parent.parent / "eval" / "gold" / "seeds.jsonl"
ABSTAINED = "The documents do not contain an answer to this question."
KILN = (
    "---\ntitle: Pottery notes\ndate: 2024-05-01\n---\nThe kiln in the pottery shed fires at 1,240 degrees.\n"
)


def checked(a: dict[str, Any]) -> bool:
    """True when an answer came out of the checker: abstained with a reason, or cited and verdicts given."""
    if a["abstained"]:
        return a["answer"] == ABSTAINED and bool(a["abstain_reason"]) and not a["citations"]
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", a["answer"])}
    return bool(a["sentences"]) and markers <= {c["n"] for c in a["citations"]} and bool(a["citations"])


class Client(threading.Thread):
    """One user asking until the deadline; counts what it sent and what came back, by route."""

    def __init__(self, n: int, url: str, questions: list[str], deadline: float) -> None:
        super().__init__(daemon=True)
        self.n, self.url, self.questions, self.deadline = n, url, questions, deadline
        self.sent: Counter[str] = Counter()
        self.abstained: Counter[str] = Counter()
        self.errors: list[str] = []

    def run(self) -> None:
        chat = OpenAI(base_url=f"{self.url}/v1", api_key="none", max_retries=0, timeout=900)
        i = self.n
        while time.monotonic() < self.deadline and len(self.errors) == 0 and i < self.n + 200:
            question, way = self.questions[i % len(self.questions)], i % 4
            route = "ask" if way < 2 else "chat"
            self.sent[route] += 1
            try:
                answer = self.ask(chat, question, way)
            except Exception as exc:
                self.errors.append(f"{route} {question!r}: {type(exc).__name__}: {exc}")
                return
            if not checked(answer):
                self.errors.append(f"unchecked answer to {question!r}: {json.dumps(answer)[:400]}")
            self.abstained[route] += answer["abstained"]
            i += 1

    def ask(self, chat: OpenAI, question: str, way: int) -> dict[str, Any]:
        if way == 0:
            r = httpx.post(f"{self.url}/v1/ask", json={"question": question}, timeout=900)
            r.raise_for_status()
            return dict(r.json())
        if way == 1:
            with httpx.stream(
                "POST", f"{self.url}/v1/ask", json={"question": question, "stream": True}, timeout=900
            ) as r:
                r.raise_for_status()
                events = list(sse_events(r.iter_lines()))
            assert events[0][0] == "retrieved" and events[-1][0] == "done", [e[0] for e in events[:3]]
            return dict(json.loads(events[-1][1]))
        messages = [{"role": "user", "content": question}]
        if way == 2:
            reply = chat.chat.completions.create(model="rag", messages=messages)  # type: ignore[arg-type]
            a = reply.model_extra["rag"]  # type: ignore[index]
            assert a["abstained"] or "\n\nSources:\n[" in (reply.choices[0].message.content or "")
            return dict(a)
        chunks = list(chat.chat.completions.create(model="rag", messages=messages, stream=True))  # type: ignore[arg-type]
        assert chunks[-1].choices[0].finish_reason == "stop"
        return dict(chunks[-1].model_extra["rag"])  # type: ignore[index]


def metric(text: str, line: str) -> float:
    found = re.search(rf"^{re.escape(line)} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def test_sixteen_clients_for_a_minute(seed_index, tmp_path) -> None:
    questions = [json.loads(x)["question"] for x in SEEDS.read_text().splitlines()]
    index = copy_index(seed_index.index_dir, tmp_path / "index")
    with rag_serve(index, tmp_path) as url:
        deadline = time.monotonic() + SECONDS
        clients = [Client(n, url, questions, deadline) for n in range(CLIENTS)]
        for c in clients:
            c.start()
        time.sleep(SECONDS / 4)
        added = httpx.post(f"{url}/v1/documents", files=[("files", ("kiln.md", KILN))], timeout=600)
        assert added.status_code == 200 and added.json()["stored"] == ["kiln.md"], added.text
        kiln = next(
            d for d in httpx.get(f"{url}/v1/documents").json()["documents"] if d["title"] == "Pottery notes"
        )
        time.sleep(SECONDS / 3)
        assert httpx.delete(f"{url}/v1/documents/{kiln['doc_id']}", timeout=600).status_code == 200
        for c in clients:
            c.join(timeout=1800)
        metrics = httpx.get(f"{url}/metrics").text
    assert not any(c.is_alive() for c in clients)
    errors = [e for c in clients for e in c.errors]
    assert errors == [], errors[:3]
    sent = sum((c.sent for c in clients), Counter())
    abstained = sum((c.abstained for c in clients), Counter())
    assert all(c.sent.total() > 0 for c in clients) and sent["ask"] and sent["chat"], sent
    for route in ("ask", "chat"):
        assert metric(metrics, f'rag_questions_total{{route="{route}"}}') == sent[route]
        assert metric(metrics, f'rag_abstentions_total{{route="{route}"}}') == abstained[route]
    assert "rag_errors_total{" not in metrics, "no error was counted"
    print(f"\n{sent.total()} questions {dict(sent)}, {abstained.total()} abstained, 0 errors")
    assert metric(metrics, "rag_answer_seconds_count") == sent["ask"] + sent["chat"]
    assert metric(metrics, 'rag_document_changes_total{change="added"}') == 1
    assert metric(metrics, 'rag_document_changes_total{change="removed"}') == 1
