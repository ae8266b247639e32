"""Who may call the API: loopback by default; beyond it, API keys (bearer tokens) or an explicit opt-out.

When ``serve.api_keys`` is set, every route but ``/health`` needs ``Authorization: Bearer KEY`` (the
mounted chat page asks for its own login, ``ui.auth``). Nothing a caller sends picks a model server:
the backend, its URL and its key are the server's settings.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence

from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send

from rag.core.errors import RagError
from rag.core.hosts import is_loopback

OPEN_PATHS = frozenset({"/health"})


class ExposureError(RagError):
    """The API would be reachable from other machines without a key."""


def check_exposure(
    host: str, keys: Sequence[SecretStr], unsafe_no_auth: bool, ui: bool = False, ui_auth: bool = False
) -> None:
    """Refuse to serve beyond loopback without keys, and a page without a login where the API has keys.

    Raises:
        ExposureError: ``host`` is not loopback and no key is set (unless ``unsafe_no_auth``); or the
            chat page would be mounted without ``ui.auth`` where keys or a public address ask for one.

    """
    if unsafe_no_auth:
        return
    if not is_loopback(host) and not keys:
        raise ExposureError(
            f"Refusing to serve the API on {host} without API keys: anyone who reaches it could read your "
            "documents and use your model. Set RAG_SERVE__API_KEYS=KEY (clients send 'Authorization: "
            "Bearer KEY'), or pass --unsafe-no-auth to serve it open anyway (unsafe)."
        )
    if ui and not ui_auth and (keys or not is_loopback(host)):
        raise ExposureError(
            "Refusing to mount the chat page without a login where the API needs keys: set "
            "RAG_UI__AUTH=user:password for the page, drop --ui, or pass --unsafe-no-auth (unsafe)."
        )


class BearerAuth:
    """ASGI middleware: 401 unless the request carries one of the keys (``OPEN_PATHS`` and ``skip`` pass)."""

    def __init__(self, app: ASGIApp, keys: Sequence[SecretStr], skip: str | None = None) -> None:
        """Guard ``app`` with ``keys``; paths under ``skip`` (the chat page, with its own login) pass."""
        self.app, self._keys, self._skip = app, [k.get_secret_value().encode() for k in keys], skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass an allowed request on; answer any other with 401 and a JSON error."""
        if scope["type"] != "http" or self._open(scope["path"]) or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {
                "error": {
                    "message": "Missing or wrong API key: send 'Authorization: Bearer KEY' with one of the "
                    "server's serve.api_keys.",
                    "type": "AuthenticationError",
                    "code": 401,
                }
            }
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _open(self, path: str) -> bool:
        return path in OPEN_PATHS or bool(
            self._skip and (path == self._skip or path.startswith(self._skip + "/"))
        )

    def _allowed(self, scope: Scope) -> bool:
        header = dict(scope.get("headers") or []).get(b"authorization", b"")
        kind, _, token = header.partition(b" ")
        if kind.lower() != b"bearer" or not token:
            return False
        # Every key is compared, in constant time, so timing tells nothing about which one nearly matched.
        return sum(hmac.compare_digest(token.strip(), k) for k in self._keys) > 0
