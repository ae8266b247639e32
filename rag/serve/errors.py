"""Errors as HTTP replies: a status a client can act on, and the message with its fix (OpenAI's shape)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi.responses import JSONResponse

from rag.core.errors import (
    IndexBusyError,
    ModelServerError,
    NoIndexError,
    QuestionError,
    RagError,
    StoreError,
)
from rag.retrieval.scope import ScopeError

_log = logging.getLogger("rag.serve")

# The caller can fix these by asking differently or by adding documents.
_CALLER = (QuestionError, ScopeError, NoIndexError)
# A part the server depends on is down: try again later.
_UNAVAILABLE = (ModelServerError, StoreError)


def status_of(exc: Exception) -> int:
    """Return the HTTP status: 400 fix the request, 409 the index is busy, 503 a backend is down, else 500."""
    if isinstance(exc, _CALLER):
        return 400
    if isinstance(exc, _UNAVAILABLE):
        return 503
    if isinstance(exc, IndexBusyError):
        return 409  # another process writes the index: try again when it is done
    return 500  # e.g. the index was built by another embedder: the server's settings need fixing


def error_body(exc: Exception) -> dict[str, Any]:
    """Return ``{"error": {"message", "type", "code"}}``; an unexpected error's text is not shown."""
    if isinstance(exc, RagError):
        message, kind = str(exc), type(exc).__name__
    else:
        _log.error("Unexpected error while answering", exc_info=exc)
        message, kind = "Internal error; the server's log has the details.", "InternalError"
    return {"error": {"message": message, "type": kind, "code": status_of(exc)}}


def error_response(exc: Exception, status: int | None = None) -> JSONResponse:
    """Return the error as a JSON reply with its status (or the one given)."""
    body = error_body(exc)
    if status is not None:
        body["error"]["code"] = status
    return JSONResponse(body, status_code=status or status_of(exc))


def message_response(message: str, status: int, kind: str = "InvalidRequest") -> JSONResponse:
    """Return an error reply of our own (not from an exception)."""
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status_code=status)
