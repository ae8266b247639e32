"""Server-sent events on the wire (FastAPI's encoder), and the shared start of every streamed answer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.sse import format_sse_event

from rag.core.types import StreamEvent
from rag.serve.errors import error_body, error_response
from rag.serve.gate import drain, next_in_thread

Encode = Callable[[StreamEvent], list[bytes]]
HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}  # proxies must not buffer the stream


def event(data: Any, name: str | None = None) -> bytes:
    """Return one SSE event: ``event: name`` (if any) and the data as one JSON line."""
    raw = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return format_sse_event(data_str=raw, event=name)


async def stream(
    events: Iterator[StreamEvent], encode: Encode, error_event: str | None
) -> StreamingResponse | JSONResponse:
    """Start an answer and stream it; an error before the first event is a plain JSON error reply.

    Args:
        events: The answer's events (blocking; each is computed in a worker thread).
        encode: Turns one event into the bytes sent for it.
        error_event: The SSE event name of an error after the stream began (None: unnamed data).

    """
    try:
        first = await next_in_thread(events)  # validation, queue and retrieval: errors get a status
    except Exception as exc:
        return error_response(exc)

    async def body() -> AsyncIterator[bytes]:
        try:
            async for ev in drain(events, first):
                for chunk in encode(ev):
                    yield chunk
        except Exception as exc:  # the status is sent: report the error in the stream
            yield event(error_body(exc), error_event)

    return StreamingResponse(body(), media_type="text/event-stream", headers=HEADERS)
