"""``POST /v1/ask``: the answer as ``rag ask --json`` prints it, or its events as server-sent events."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from rag.core.types import Answer, Done, Retrieved, StreamEvent, Token
from rag.formats.as_json import answer_dict, passage_dict
from rag.serve.errors import error_response
from rag.serve.schemas import AskRequest
from rag.serve.sse import event, stream
from rag.serve.state import ServerState


def sse_of(ev: StreamEvent) -> list[bytes]:
    """Return the SSE event for one ``ask_stream`` event: retrieved, token or done."""
    if isinstance(ev, Retrieved):
        return [event({"passages": [passage_dict(p) for p in ev.passages]}, "retrieved")]
    if isinstance(ev, Token):
        return [event({"text": ev.text}, "token")]
    if isinstance(ev, Done):
        return [event(answer_dict(ev.answer), "done")]
    return []


def ask_router(state: ServerState) -> APIRouter:
    """Return the router of ``POST /v1/ask`` over one server's state."""
    router = APIRouter(tags=["ask"])

    @router.post(
        "/v1/ask",
        response_model=None,
        responses={
            200: {"description": "The answer (as `rag ask --json`), or text/event-stream with stream"}
        },
    )
    async def ask(req: AskRequest) -> Any:
        """Answer a question with checked citations.

        With `"stream": true` the reply is server-sent events in the order rag produces them:
        `retrieved` (the passages), `token` (draft text as generated), `done` (the checked answer, the
        same JSON as without streaming); an error after the start is an `error` event.
        """
        events = state.answer(
            "ask", req.question, req.top_k, req.history, req.as_of, req.scope.scope() if req.scope else None
        )
        if req.stream:
            return await stream(events, sse_of, "error")
        try:
            answer = await run_in_threadpool(last_answer, events)
        except Exception as exc:
            return error_response(exc)
        return JSONResponse(answer_dict(answer))

    return router


def last_answer(events: Iterable[StreamEvent]) -> Answer:
    """Run the events to the end and return the checked Answer."""
    answer = None
    for ev in events:
        if isinstance(ev, Done):
            answer = ev.answer
    if answer is None:  # pragma: no cover  (ask_stream always ends with Done or raises)
        raise RuntimeError("the answer ended without a result")
    return answer
