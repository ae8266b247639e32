"""Start ``rag serve``: build the app, load the parts once (so the first question is warm), listen."""

from __future__ import annotations

import socket

from fastapi import FastAPI

from rag import api
from rag.core.errors import RagError
from rag.core.settings import Settings
from rag.index.manifest import Manifest
from rag.serve.app import build_app


def warm_up(settings: Settings) -> None:
    """Load the embedder and the chat model, and refuse an index built by another embedder.

    Raises:
        RagError: A part cannot be loaded or reached, or the index's embedder differs (with the fix).

    """
    p = api.pipeline(settings)
    p.embedder.embed(["warm-up"])  # loads the local model, or checks that the embedding server answers
    manifest = Manifest.load(settings.index_dir)
    if manifest is not None and manifest.documents:
        manifest.check_embedder(p.embedder.name, p.embedder.dim, settings.index_dir)
    _ = p.model


def listen(host: str, port: int) -> socket.socket:
    """Bind the listening socket now, so a taken port is a one-line error before anything loads.

    Raises:
        RagError: The address cannot be bound (the message says how to choose another port).

    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise RagError(
            f"Cannot listen on {host}:{port} ({exc.strerror or exc}). Choose another port with --port or "
            "RAG_SERVE__PORT."
        ) from None
    sock.listen(128)
    return sock


def prepare(
    settings: Settings, host: str, port: int, ui: bool, unsafe_no_auth: bool
) -> tuple[FastAPI, socket.socket]:
    """Build the app (refusing an open non-loopback address), bind the port, and load the parts.

    Raises:
        RagError: Exposure without keys, a taken port, or a part that cannot be loaded.

    """
    app = build_app(settings, host=host, port=port, unsafe_no_auth=unsafe_no_auth, ui=ui)
    sock = listen(host, port)
    try:
        warm_up(settings)
    except BaseException:
        sock.close()
        raise
    return app, sock


def run(app: FastAPI, sock: socket.socket) -> None:
    """Serve until Ctrl-C (or SIGTERM), then finish the answers in flight for up to 10 s."""
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=10)
    uvicorn.Server(config).run(sockets=[sock])
