"""The source card's "open" action: an indexed file, read-only, looked up by its document id.

``GET /rag/open/{doc_id}`` serves a PDF as it is (the card links to ``#page=N``, where the browser's
viewer opens it) and any other file as a script-free page of its text with the cited span
highlighted. The client names a document id only: the path comes from the index's manifest, and
a file is served only while it is the file that was indexed: the path still resolves to itself (no
symbolic link now leads elsewhere), it is opened without following a link, and its bytes have the
content hash the manifest records (PDFs included). Anything else gets a 404 or 409 saying why. The
route asks for the same login as Gradio's own file route.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Callable, Iterable, Iterator
from html import escape
from pathlib import Path
from typing import Any

from fastapi import Depends
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from rag.core.errors import RagError
from rag.core.settings import Settings
from rag.index.manifest import DocEntry, Manifest
from rag.ingestion.loaders import LoadError, content_hash, load_document

OPEN_ROUTE = "/rag/open/{doc_id}"
_DOC_ID = re.compile(r"[0-9a-f]{16}")
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}
_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'"  # a document's text runs no script
_STYLE = (
    "body{font-family:sans-serif;margin:0 auto;max-width:60em;padding:1em}"
    ".text{white-space:pre-wrap;line-height:1.5}mark.passage{background:#fff9c4}"
    "mark.quote{background:#ffeb3b;font-weight:600}.meta{color:#555}.warn{color:#b71c1c}"
)


def _refused(status: int, why: str) -> PlainTextResponse:
    return PlainTextResponse(why, status_code=status, headers=_HEADERS)


def _marks(size: int, *spans: tuple[int | None, int | None, str]) -> list[tuple[int, int, str]]:
    """Return the valid spans, clamped to the text, each inside the one before (else left out)."""
    marks: list[tuple[int, int, str]] = []
    for a, b, cls in spans:
        if a is None or b is None:
            continue
        a, b = max(0, min(size, a)), max(0, min(size, b))
        if a < b and (not marks or marks[-1][0] <= a < b <= marks[-1][1]):
            marks.append((a, b, cls))
    return marks


def _marked(text: str, spans: list[tuple[int, int, str]]) -> str:
    """Return escaped text with nested ``<mark>`` spans (outer first); the innermost gets id="cited"."""
    if not spans:
        return escape(text)
    (start, end, cls), inner = spans[0], spans[1:]
    body = _marked(text[start:end], [(s - start, e - start, c) for s, e, c in inner])
    cited = "" if inner else ' id="cited"'
    return f'{escape(text[:start])}<mark class="{cls}"{cited}>{body}</mark>{escape(text[end:])}'


def text_page(title: str, shown: str, text: str, marks: list[tuple[int, int, str]], note: str) -> str:
    """Return the HTML page of a document's text with the passage and quote marked."""
    warn = f'<p class="warn">{escape(note)}</p>' if note else ""
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><h2>{escape(title)}</h2>"
        f'<p class="meta">{escape(shown)}</p>{warn}<div class="text">{_marked(text, marks)}</div>'
        "</body></html>"
    )


def open_document(
    settings: Settings, doc_id: str, start: int | None, end: int | None, qs: int | None, qe: int | None
) -> Response:
    """Return the response for one document id: its PDF, or its text with [start, end) and the quote marked.

    Args:
        settings: Where the index is.
        doc_id: The document id (16 hex digits) the card names.
        start: Start of the passage in the document text.
        end: End of the passage.
        qs: Start of the cited quote.
        qe: End of the cited quote.

    """
    if not _DOC_ID.fullmatch(doc_id):
        return _refused(404, "No such document in the index.")
    try:
        manifest = Manifest.load(settings.index_dir)
    except RagError as exc:
        return _refused(500, str(exc))
    entry = manifest.documents.get(doc_id) if manifest else None
    if entry is None:
        return _refused(404, "No such document in the index (it may have been removed): refresh the page.")
    path = Path(entry.path)
    data = indexed_bytes(path, entry)
    if isinstance(data, Response):
        return data
    if path.suffix.lower() == ".pdf":
        name = re.sub(r"[^\w .-]", "_", path.name)
        disposition = {"Content-Disposition": f'inline; filename="{name}"'}
        return Response(data, media_type="application/pdf", headers={**_HEADERS, **disposition})
    try:
        doc, _ = load_document(path, data)
    except LoadError as exc:
        return _refused(422, f"{entry.display} cannot be read now: {exc}")
    marks = _marks(len(doc.text), (start, end, "passage"), (qs, qe, "quote"))
    html = text_page(entry.title, entry.display, doc.text, marks, "")
    return HTMLResponse(html, headers={**_HEADERS, "Content-Security-Policy": _PAGE_CSP})


def indexed_bytes(path: Path, entry: DocEntry) -> bytes | PlainTextResponse:
    """Return the bytes of the indexed file, or the refusal when the file there is no longer it.

    The manifest records the resolved path, so a path that resolves elsewhere now has had a folder or
    the file replaced by a symbolic link; the file is opened with O_NOFOLLOW (a link swapped in after
    the check is not followed) and its content hash must match, so nothing but the indexed bytes is
    ever served.
    """
    gone = f"{entry.display} is no longer there; ingest it again or remove it from the index."
    try:
        if path.resolve(strict=True) != path:
            return _refused(
                409,
                f"{entry.display} is now a symbolic link to another file, not the file "
                "that was indexed, so it is not shown; ingest the real file again.",
            )
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except RuntimeError:  # Path.resolve on a link loop
        return _refused(409, f"{entry.display} is now a symbolic link loop; replace it with the file.")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return _refused(409, f"{entry.display} is now a symbolic link, not the indexed file.")
        return _refused(404, gone)
    with os.fdopen(fd, "rb") as fh:
        data = fh.read()
    if content_hash(data) != entry.hash:
        return _refused(
            409,
            f"{entry.display} changed since it was indexed, so the cited passage may "
            "not be in it; ingest it again to open it.",
        )
    return data


def _routes(routes: Iterable[Any]) -> Iterator[Any]:
    """Yield every route of an app, including those of included routers and mounts."""
    for route in routes:
        yield route
        included = getattr(route, "original_router", None)  # Starlette 1.x wraps included routers
        inner = getattr(route, "routes", None) or getattr(included, "routes", None)
        if inner:
            yield from _routes(inner)


def gradio_login_check(app: Any) -> Callable[..., Any]:
    """Return the dependency Gradio puts on its own file route, so ours asks for the same login.

    Raises:
        RagError: This Gradio has no such route (the route is not added rather than left open).

    """
    for route in _routes(app.router.routes):
        if str(getattr(route, "path", "")).endswith("/file={path_or_url:path}"):
            for dependency in getattr(route, "dependencies", ()):
                check: Callable[..., Any] = dependency.dependency
                return check
    raise RagError("This Gradio version has no login check to reuse; install the pinned gradio==6.31.0.")


def add_open_route(app: Any, settings: Settings) -> None:
    """Add ``GET /rag/open/{doc_id}`` to a launched Gradio app, behind Gradio's own login check."""

    def open_route(
        doc_id: str,
        start: int | None = None,
        end: int | None = None,
        qs: int | None = None,
        qe: int | None = None,
    ) -> Response:
        return open_document(settings, doc_id, start, end, qs, qe)

    check = gradio_login_check(app)
    app.add_api_route(OPEN_ROUTE, open_route, methods=["GET"], dependencies=[Depends(check)])
