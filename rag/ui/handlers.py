"""What the chat page does when used: answer, list, add and remove; every input from the page is validated.

Nothing the page (or any HTTP client) sends chooses the model server: the backend, its URL and its
key come from the server's settings; the page sends only the name of one of ``backend_choices()``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import nullcontext
from html import escape
from pathlib import Path
from typing import Any

import gradio as gr

from rag import api
from rag.core.errors import RagError
from rag.core.settings import ModelSettings, Settings
from rag.core.types import DocumentInfo, Done, IndexStatus, Retrieved, Scope, StreamEvent, Token
from rag.formats.as_html import answer_html, docs_rows, link_markers, safe_text, sources_html
from rag.formats.as_markdown import answer_markdown

_LOCAL = ("bundled", "gguf")
_LOCAL_MODEL = threading.Lock()  # one in-process model answers one question at a time, whatever the queue
MAX_TOP_K = 20  # the drawer's slider; the API accepts no more
UPLOAD = "upload:"  # prefix of a stray upload's value in the remove menu (document ids are hex)
DOC, COLLECTION = "doc:", "col:"  # prefixes of the values in the "Search only in" menu
Turns = list[tuple[str, str]]


def backend_choices(settings: Settings) -> dict[str, tuple[str, ModelSettings]]:
    """Return the models the drawer may pick: name -> (label, settings); names are all a client sends.

    The configured model is ``"configured"``; when it is not the bundled model, the bundled local
    model is offered too as ``"bundled"`` (a fallback when the model server is down).
    """
    m = settings.model
    labels = {
        "openai": f"Model server from settings ({m.name})",
        "gguf": f"Local model ({Path(m.path or '').name})",
        "bundled": f"Local model ({m.bundled})",
    }
    choices = {"configured": (labels[m.backend], m)}
    if m.backend != "bundled":
        choices["bundled"] = (labels["bundled"], m.model_copy(update={"backend": "bundled"}))
    return choices


def request_settings(settings: Settings, choice: object, top_k: object, hybrid: object) -> Settings:
    """Return the settings for one question: a configured model by name, a bounded top-k, hybrid on/off.

    Raises:
        RagError: A value is not one the drawer offers (the message names the allowed ones).

    """
    choices = backend_choices(settings)
    if not isinstance(choice, str) or choice not in choices:
        raise RagError(f"Invalid choice in Settings: the model must be one of {', '.join(choices)}.")
    if isinstance(top_k, bool) or not isinstance(top_k, int | float) or not 1 <= top_k <= MAX_TOP_K:
        raise RagError(f"Invalid choice in Settings: passages must be a number from 1 to {MAX_TOP_K}.")
    if not isinstance(hybrid, bool):
        raise RagError("Invalid choice in Settings: hybrid retrieval must be on or off.")
    retrieve = settings.retrieve.model_copy(update={"top_k": int(top_k), "hybrid": hybrid})
    return settings.model_copy(update={"model": choices[choice][1], "retrieve": retrieve})


def scope_choices(infos: list[DocumentInfo]) -> list[tuple[str, str]]:
    """Return the "Search only in" menu: each collection, then each document (label, value)."""
    names = sorted({i.collection for i in infos if i.collection})
    return [(f"Collection: {c}", COLLECTION + c) for c in names] + [
        (f"{i.title or i.path} ({i.path})", DOC + i.doc_id) for i in infos
    ]


def request_scope(settings: Settings, chosen: object) -> Scope | None:
    """Return the scope of the menu's choices (documents or collections), checked against the index.

    Raises:
        RagError: A choice is not one the menu offers now (the message says to refresh).

    """
    if chosen in (None, "", []):
        return None
    offered = {value for _, value in scope_choices(api.list_documents(settings))}
    if not isinstance(chosen, list) or not all(isinstance(c, str) and c in offered for c in chosen):
        raise RagError("Invalid choice under Search only in: pick documents or collections the menu lists.")
    docs = tuple(sorted(c.removeprefix(DOC) for c in chosen if c.startswith(DOC)))
    collections = tuple(sorted(c.removeprefix(COLLECTION) for c in chosen if c.startswith(COLLECTION)))
    if docs and collections:  # either chosen document or chosen collection: name the documents
        docs += tuple(i.doc_id for i in api.list_documents(settings) if i.collection in collections)
        return Scope(doc_ids=tuple(sorted(set(docs))))
    return Scope(doc_ids=docs, collections=collections)


def concurrency(settings: Settings) -> int:
    """Answers generated at once: 1 for an in-process model, ``ui.concurrency`` for a server."""
    return 1 if settings.model.backend in _LOCAL else settings.ui.concurrency


def local_model_lock() -> threading.Lock:
    """Return the lock held while an in-process model answers (``rag serve --ui`` queues on it too)."""
    return _LOCAL_MODEL


def _serialised(events: Iterator[StreamEvent], request: Settings) -> Iterator[StreamEvent]:
    """Pass the events through, holding the local-model lock while an in-process model is used."""
    with _LOCAL_MODEL if request.model.backend in _LOCAL else nullcontext():
        yield from events


def respond(
    settings: Settings,
    message: object,
    chat: object,
    turns: Turns,
    choice: object,
    k: object,
    hybrid: object,
    as_of: object = "",
    scope: object = None,
) -> Iterator[tuple[Any, ...]]:
    """Answer one question: yields (question box, chat, turns, sources, Markdown) as the answer streams.

    ``as_of`` is the day the question is asked ("YYYY-MM-DD"; empty means today); ``scope`` the
    "Search only in" choices (documents and collections; empty means all).
    """
    question = message.strip() if isinstance(message, str) else ""
    history = chat if isinstance(chat, list) else []
    turns = turns if isinstance(turns, list) else []
    chat = [*history, {"role": "user", "content": safe_text(question)}]
    yield (
        "",
        [*chat, {"role": "assistant", "content": "_Searching your documents…_"}],
        turns,
        "<p>Searching…</p>",
        gr.skip(),
    )
    draft, turn = "", len(turns) + 1
    try:
        request = request_settings(settings, choice, k, hybrid)
        day = as_of.strip() if isinstance(as_of, str) else ""
        where = request_scope(settings, scope)
        for event in _serialised(api.ask_stream(question, request, turns, day or None, where), request):
            if isinstance(event, Retrieved):
                reply = f"_Found {len(event.passages)} passages; answering…_"
                yield "", [*chat, _said(reply)], turns, sources_html(event.passages, turn), gr.skip()
            elif isinstance(event, Token):
                draft += event.text
                yield "", [*chat, _said(link_markers(draft, turn))], turns, gr.skip(), gr.skip()
            elif isinstance(event, Done):
                a = event.answer
                html, md = sources_html(a.passages, turn, a), answer_markdown(a)
                yield "", [*chat, _said(answer_html(a, turn))], [*turns, (question, a.text)], html, md
    except RagError as exc:
        yield question, [*chat, _said(f"**Error:** {escape(str(exc))}")], turns, "", gr.skip()


def _said(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def status_line(st: IndexStatus) -> str:
    """Return the index status: documents, chunks, embedder, and uploads outside the index."""
    line = (
        f"Index: {st.documents} documents, {st.chunks} chunks, embedder {st.embedder} ({st.dim}-d)"
        if st.embedder
        else f"Index: empty ({st.index_dir}). Add documents under Documents."
    )
    if st.stray_uploads:
        names = ", ".join(escape(n) for n in st.stray_uploads)
        line += f"\n\nUploads not in the index (pick one under Document to delete it): {names}"
    return line


def refresh(settings: Settings) -> tuple[Any, ...]:
    """Return the document table, the remove menu's choices and the status line."""
    try:
        infos, st = api.list_documents(settings), api.index_status(settings)
    except RagError as exc:  # e.g. a damaged manifest: the message says how to rebuild
        return docs_rows([]), gr.update(choices=[], value=None), f"Index: {escape(str(exc))}"
    choices = [(f"{i.title or i.path} ({i.path})", i.doc_id) for i in infos]
    choices += [(f"Not indexed: {name}", UPLOAD + name) for name in st.stray_uploads]
    return docs_rows(infos), gr.update(choices=choices, value=None), status_line(st)


def scope_menu(settings: Settings) -> Any:
    """Return the "Search only in" menu's choices (the chosen ones still listed stay chosen)."""
    try:
        return gr.update(choices=scope_choices(api.list_documents(settings)))
    except RagError:  # a damaged manifest: the status line says how to rebuild
        return gr.update(choices=[], value=[])


def add_files(settings: Settings, files: object, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
    """Store the uploads (never overwriting), ingest them, and say what happened to each."""
    received = [Path(f) for f in files if isinstance(f, str)] if isinstance(files, list) else []
    if not received:
        return ("Choose files first.", None, *refresh(settings))

    def bar(done: int, total: int, message: str) -> None:
        progress((done, total), desc=message)

    try:
        r = api.add_uploads([(f, f.name) for f in received], settings, progress=bar)
    except RagError as exc:  # e.g. another process is writing to the index
        return (f"Error: {escape(str(exc))}", None, *refresh(settings))
    notes = [f"Refused: {escape(why)}" for why in r.refused]
    if r.ingest is not None:
        ing = r.ingest
        notes.insert(
            0,
            f"Added {len(r.stored)} file(s): {ing.documents_changed} new or changed, "
            f"{ing.chunks_embedded} chunks embedded ({ing.seconds:.1f} s).",
        )
    notes += [f"Already uploaded as {escape(name)} (same content)." for name in r.duplicates]
    notes += [f"Problem, not kept: {escape(Path(p.path).name)}: {escape(p.reason)}" for p in r.failed]
    warned = [p for p in r.ingest.problems if p not in r.failed] if r.ingest else []
    notes += [f"Problem: {escape(Path(p.path).name)}: {escape(p.reason)}" for p in warned]
    return ("\n\n".join(notes), None, *refresh(settings))


def remove(settings: Settings, choice: object) -> tuple[Any, ...]:
    """Remove the chosen document (and its uploaded copy), or delete an upload that is not indexed."""
    if not isinstance(choice, str) or not choice:
        return ("Choose a document to remove.", *refresh(settings))
    try:
        if choice.startswith(UPLOAD):
            api.remove_stray_upload(choice.removeprefix(UPLOAD), settings)
            return (f"Deleted the upload {escape(choice.removeprefix(UPLOAD))}.", *refresh(settings))
        done = api.remove_document_and_upload(choice, settings)
    except RagError as exc:
        return (f"Error: {escape(str(exc))}", *refresh(settings))
    if done is None:
        return ("Choose a document to remove.", *refresh(settings))
    info, chunks = done
    return (f"Removed {escape(info.path)} ({chunks} chunks).", *refresh(settings))
