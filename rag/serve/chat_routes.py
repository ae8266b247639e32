"""``POST /v1/chat/completions`` and ``GET /v1/models``: rag as an OpenAI-compatible model named "rag".

The last user message is the question and earlier turns the history (a follow-up is condensed as the
chat page does). The reply's content is the checked answer with ``[n]`` markers and its sources as
footnotes; the whole answer (citations with page, section and date, passages, timings) rides along
in the extra field ``rag``. Streamed, the content comes once checked; the draft streams before it, in
``rag.token`` (a generic client shows only the checked content).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from rag.core.types import Answer, Done, Retrieved, StreamEvent, Token
from rag.formats.as_chat import answer_part, chat_content
from rag.formats.as_json import answer_dict, passage_dict
from rag.serve.ask_routes import last_answer
from rag.serve.errors import error_response, message_response
from rag.serve.schemas import ChatMessage, ChatRequest
from rag.serve.sse import event, stream
from rag.serve.state import ServerState

MODEL = "rag"


def question_and_history(messages: list[ChatMessage]) -> tuple[str, list[tuple[str, str]]]:
    """Return the last user message and the earlier (user, assistant) turns, sources cut off.

    Raises:
        ValueError: The last message is not the user's.

    """
    talk = [m for m in messages if m.role in ("user", "assistant")]
    if not talk or talk[-1].role != "user":
        raise ValueError("The last message must be the user's question.")
    history, asked = [], None
    for m in talk[:-1]:
        if m.role == "user":
            asked = m.text()
        elif asked is not None:
            history.append((asked, answer_part(m.text())))
            asked = None
    return talk[-1].text(), history


def _usage(a: Answer) -> dict[str, int]:
    t = a.timings
    return {
        "prompt_tokens": t.prompt_tokens,
        "completion_tokens": t.completion_tokens,
        "total_tokens": t.prompt_tokens + t.completion_tokens,
    }


def completion(cid: str, created: int, a: Answer) -> dict[str, Any]:
    """Return the ``chat.completion`` object of a checked answer."""
    message = {"role": "assistant", "content": chat_content(a)}
    return {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": MODEL,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": _usage(a),
        "rag": answer_dict(a),
    }


class ChunkEncoder:
    """Turns ``ask_stream`` events into ``chat.completion.chunk`` SSE lines, ending with ``[DONE]``."""

    def __init__(self) -> None:
        """Name the completion; its chunks share the id and the time."""
        self.id, self.created = f"chatcmpl-{secrets.token_hex(12)}", int(time.time())

    def chunk(self, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        """Return one chunk as an SSE data line."""
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        base = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": MODEL}
        return event({**base, "choices": [choice], **extra})

    def __call__(self, ev: StreamEvent) -> list[bytes]:
        """Return the chunks for one event: role and passages, draft text, then content and the answer."""
        if isinstance(ev, Retrieved):
            passages = [passage_dict(p) for p in ev.passages]
            return [self.chunk({"role": "assistant", "content": ""}, rag={"passages": passages})]
        if isinstance(ev, Token):
            return [self.chunk({}, rag={"token": ev.text})]
        if isinstance(ev, Done):
            a = ev.answer
            return [
                self.chunk({"content": chat_content(a)}),
                self.chunk({}, "stop", usage=_usage(a), rag=answer_dict(a)),
                event("[DONE]"),
            ]
        return []


def chat_router(state: ServerState) -> APIRouter:
    """Return the router of the OpenAI-compatible routes over one server's state."""
    router = APIRouter(tags=["openai"])

    @router.get("/v1/models")
    def models() -> dict[str, Any]:
        """List the one model: "rag" (the server's settings choose what answers behind it)."""
        return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "rag"}]}

    @router.post("/v1/chat/completions", response_model=None)
    async def chat(req: ChatRequest) -> Any:
        """Answer the last user message from the documents, as an OpenAI chat completion.

        `choices[0].message.content`: the checked answer with [n] markers, then "Sources:" and one
        footnote per cited passage. `rag`: the answer as `POST /v1/ask` returns it.
        """
        if req.model != MODEL:
            return message_response(f'Unknown model {req.model!r}: this server has one model, "rag".', 404)
        try:
            question, history = question_and_history(req.messages)
        except ValueError as exc:
            return message_response(str(exc), 400)
        where = req.scope.scope() if req.scope else None
        events = state.answer("chat", question, req.top_k, history, req.as_of, where)
        if req.stream:
            return await stream(events, ChunkEncoder(), None)
        try:
            answer = await run_in_threadpool(last_answer, events)
        except Exception as exc:
            return error_response(exc)
        return JSONResponse(completion(f"chatcmpl-{secrets.token_hex(12)}", int(time.time()), answer))

    return router
