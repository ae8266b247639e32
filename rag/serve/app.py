"""The HTTP API as one FastAPI app: ask, OpenAI-compatible chat, documents, health, metrics, docs."""

from __future__ import annotations

import importlib.metadata

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPBearer

from rag.core.settings import Settings
from rag.serve.ask_routes import ask_router
from rag.serve.chat_routes import chat_router
from rag.serve.doc_routes import documents_router
from rag.serve.errors import message_response
from rag.serve.gate import AnswerGate, answer_slots
from rag.serve.security import BearerAuth, check_exposure
from rag.serve.state import ServerState

UI_PATH = "/ui"
_JSON_LIMIT = 4_000_000  # bytes of a question request (a long chat history fits; a file does not)
# Declares the bearer key in the OpenAPI docs ("Authorize"); BearerAuth is what enforces it.
_KEY = [Depends(HTTPBearer(auto_error=False, description="One of the server's serve.api_keys, if set."))]

DESCRIPTION = """Answers from your own documents, every claim cited to a passage you can check.

* `POST /v1/ask`: the answer as `rag ask --json` prints it; `"stream": true` for server-sent events.
* `POST /v1/chat/completions`: OpenAI-compatible (model `rag`); the content cites `[n]` with the
  sources as footnotes, and the structured answer is in the extra field `rag`.
* `/v1/documents`: list, upload, remove. `GET /health`, `GET /metrics` (Prometheus).

With `serve.api_keys` set, every route but `/health` needs `Authorization: Bearer KEY`.
"""


def build_app(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    unsafe_no_auth: bool = False,
    ui: bool = False,
) -> FastAPI:
    """Build the server for these settings (the model and index are the settings'; nothing is loaded yet).

    Args:
        settings: The server's settings: model, index, ``serve.api_keys``, upload limits.
        host: The address it will listen on (beyond loopback it needs keys).
        port: The port it will listen on (the chat page's links name it).
        unsafe_no_auth: Serve beyond loopback without keys.
        ui: Also mount the chat page at ``/ui`` (same process, same model, one queue for answers).

    Raises:
        ExposureError: Not loopback and no keys, or a page without a login where keys are needed.

    """
    keys = settings.serve.api_keys
    check_exposure(host, keys, unsafe_no_auth, ui, settings.ui.auth is not None)
    lock = None
    if ui and answer_slots(settings) == 1:  # the page and the API wait in one line for the model
        from rag.ui.handlers import local_model_lock

        lock = local_model_lock()
    state = ServerState(settings, AnswerGate(answer_slots(settings), lock))
    app = FastAPI(title="rag", version=_version(), description=DESCRIPTION)
    app.state.rag = state
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.include_router(ask_router(state), dependencies=_KEY, max_body_size=_JSON_LIMIT)
    app.include_router(chat_router(state), dependencies=_KEY, max_body_size=_JSON_LIMIT)
    upload_limit = int(settings.ui.max_upload_mb * 1e6 * 1.01) + 1_000_000  # one file and the form around it
    app.include_router(documents_router(state), dependencies=_KEY, max_body_size=upload_limit)

    @app.get("/health", tags=["server"])
    def health() -> dict[str, str]:
        """Say the server is up (no key needed; tells nothing about the documents)."""
        return {"status": "ok"}

    @app.get("/metrics", tags=["server"], dependencies=_KEY)
    def metrics() -> Response:
        """Questions, abstentions, errors and latency histograms in Prometheus' text format."""
        return Response(state.metrics.text(), media_type=state.metrics.content_type)

    if ui:
        from rag.serve.with_ui import mount_ui

        mount_ui(app, settings, UI_PATH, host, port)
    if keys:
        app.add_middleware(BearerAuth, keys=keys, skip=UI_PATH if ui else None)
    return app


def _version() -> str:
    try:
        return importlib.metadata.version("rag")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    """Say which field of the request is wrong, in the API's error shape (status 422)."""
    problems = "; ".join(
        f"{'.'.join(str(x) for x in e['loc'] if x != 'body') or 'body'}: {e['msg']}" for e in exc.errors()
    )
    return message_response(f"Invalid request ({problems}). /docs shows the expected fields.", 422)
