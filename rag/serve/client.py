"""Ask a running ``rag serve`` (``rag ask --server URL``): the same events as ``ask_stream()``, over HTTP.

Only httpx and the JSON formats are imported: a client process loads no model, no torch, no Chroma.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from rag.core.errors import RagError
from rag.core.types import Done, Retrieved, Scope, StreamEvent, Token
from rag.formats.as_json import answer_from_dict, passage_from, scope_dict


class ServerError(RagError):
    """``rag serve`` could not be reached, refused the key, or answered with an error."""


def ask_stream(
    server: str,
    question: str,
    key: str | None = None,
    as_of: str | None = None,
    where: Scope | None = None,
    timeout: float = 600.0,
) -> Iterator[StreamEvent]:
    """Ask ``rag serve`` at ``server`` and yield its events: ``Retrieved``, ``Token``..., ``Done``.

    Args:
        server: The server's base URL, e.g. ``http://127.0.0.1:8765``.
        question: The question.
        key: An API key, sent as a bearer token (needed when the server has ``serve.api_keys``).
        as_of: The day the question is asked ("YYYY-MM-DD"; default: the server's today).
        where: Search only these documents (paths as the server sees them).
        timeout: Seconds to wait for the next piece of the answer (a queue at the server counts).

    Raises:
        ServerError: Not reachable, a refused key, or the server's error message (with its fix).

    """
    import httpx

    body = {
        "question": question,
        "as_of": as_of,
        "scope": scope_dict(where) if where else None,
        "stream": True,
    }
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    url = server.rstrip("/") + "/v1/ask"
    try:
        with httpx.stream(
            "POST", url, json=body, headers=headers, timeout=httpx.Timeout(timeout, connect=10.0)
        ) as reply:
            if reply.status_code != 200:
                reply.read()
                raise _refusal(server, reply.status_code, reply.text)
            yield from _events(server, sse_events(reply.iter_lines()))
    except httpx.TransportError as exc:
        raise ServerError(
            f"Cannot reach rag serve at {server} ({type(exc).__name__}: {exc}). Start it with `rag serve`, "
            "or drop --server (unset RAG_SERVER) to answer in this process."
        ) from None


def sse_events(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Yield (event name, data) per server-sent event ("message" when unnamed; comments skipped).

    Written here rather than with httpx-sse (not a dependency): the rules are the SSE spec's few line
    rules, and rag's events carry one JSON line each.
    """
    name, data = "", list[str]()
    for line in lines:
        if not line:
            if data:
                yield name or "message", "\n".join(data)
            name, data = "", list[str]()
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
    if data:
        yield name or "message", "\n".join(data)


def _events(server: str, raw: Iterable[tuple[str, str]]) -> Iterator[StreamEvent]:
    """Turn the server's events into rag's: retrieved, token, done; an error event raises."""
    for name, data in raw:
        payload: Any = json.loads(data)
        if name == "retrieved":
            yield Retrieved(tuple(passage_from(p) for p in payload["passages"]))
        elif name == "token":
            yield Token(payload["text"])
        elif name == "done":
            yield Done(answer_from_dict(payload))
            return
        elif name == "error":
            raise ServerError(payload["error"]["message"])
    raise ServerError(f"rag serve at {server} ended the answer early; its log says why. Ask again.")


def _refusal(server: str, status: int, text: str) -> ServerError:
    """Return the error for a non-200 reply: the server's own message, or what the status means."""
    if status == 401:
        return ServerError(
            f"rag serve at {server} refused the API key (401). Set RAG_SERVER_KEY to one of its "
            "serve.api_keys."
        )
    try:
        return ServerError(json.loads(text)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return ServerError(f"rag serve at {server} answered {status}: {text[:200]}. Check its log.")
