"""``rag serve --ui``: the Gradio chat page mounted in the API's process (one model, one answer queue)."""

from __future__ import annotations

import gradio as gr
from fastapi import FastAPI
from starlette.routing import Mount

from rag.core.settings import Settings
from rag.formats.as_html import CSS, HEAD
from rag.ui.app import build_app
from rag.ui.handlers import concurrency
from rag.ui.open_route import add_open_route


def mount_ui(app: FastAPI, settings: Settings, path: str, host: str, port: int) -> None:
    """Mount the chat page at ``path``, with its login (``ui.auth``), upload limit and "open" route.

    Its answers hold the same in-process model lock as the API's (``AnswerGate`` shares it), so a
    page user and an API caller never run the model at once.
    """
    auth = settings.ui.auth.get_secret_value().partition(":") if settings.ui.auth else None
    demo = build_app(settings)
    demo.queue(default_concurrency_limit=concurrency(settings))
    gr.mount_gradio_app(
        app,
        demo,
        path=path,
        server_name=host,
        server_port=port,
        auth=[(auth[0], auth[2])] if auth else None,
        max_file_size=int(settings.ui.max_upload_mb * 1e6),
        ssr_mode=False,
        mcp_server=False,
        css=CSS,
        head=HEAD,
    )
    page = next(r.app for r in app.routes if isinstance(r, Mount) and r.path == path)
    add_open_route(page, settings)
