"""The Gradio chat UI: a thin page over ``ask_stream()``, ``ingest()`` and the document list."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import nullcontext
from html import escape
from pathlib import Path
from typing import Any

import gradio as gr
from pydantic import ValidationError

from . import api
from .errors import RagError
from .loaders import SUFFIXES
from .manifest import Manifest
from .render import CSS, HEAD, answer_html, docs_rows, link_markers, safe_text, sources_html
from .settings import ModelSettings, RetrieveSettings, Settings
from .types import Done, Retrieved, StreamEvent, Token
from .uploads import UploadError, store_upload, upload_dir

_LOCAL = ("bundled", "gguf")
_LOCAL_MODEL = threading.Lock()  # one in-process model answers one question at a time, whatever the queue
Turns = list[tuple[str, str]]


def variant(base: Settings, backend: str, base_url: str, top_k: float, hybrid: bool) -> Settings:
    """Return the settings for one request, with the drawer's backend, URL, top-k and hybrid choices."""
    update: dict[str, Any] = {"backend": backend}
    if backend == "openai" and base_url.strip():
        update["base_url"] = base_url.strip()
    try:  # validated: model_copy alone would accept any value from the page
        model = ModelSettings.model_validate(base.model.model_dump() | update)
        retrieve = RetrieveSettings.model_validate(
            base.retrieve.model_dump() | {"top_k": top_k, "hybrid": hybrid}
        )
    except ValidationError as exc:
        raise RagError(f"Invalid choice in Settings: {exc.errors()[0]['msg']}.") from None
    return base.model_copy(update={"model": model, "retrieve": retrieve})


def concurrency(settings: Settings) -> int:
    """Answers generated at once: 1 for an in-process model, ``ui.concurrency`` for a server."""
    return 1 if settings.model.backend in _LOCAL else settings.ui.concurrency


def status_line(settings: Settings) -> str:
    """Return the index status: documents, chunks, embedder."""
    try:
        manifest = Manifest.load(settings.index_dir)
    except RagError as exc:
        return f"Index: {exc}"
    if manifest is None:
        return f"Index: empty ({settings.index_dir}). Add documents under Documents."
    infos = manifest.infos()
    return (
        f"Index: {len(infos)} documents, {sum(i.chunks for i in infos)} chunks, "
        f"embedder {manifest.embedder} ({manifest.dim}-d)"
    )


def exposure_warning(host: str, share: bool) -> str:
    """Return a warning when the page will be reachable from other machines, else ""."""
    if share:
        return "Warning: --share makes a public link; anyone with it can read your documents."
    if host not in ("127.0.0.1", "localhost", "::1"):
        return f"Warning: listening on {host}; other machines on the network can read your documents."
    return ""


def _serialised(events: Iterator[StreamEvent], request: Settings) -> Iterator[StreamEvent]:
    """Pass the events through, holding the local-model lock while an in-process model is used."""
    with _LOCAL_MODEL if request.model.backend in _LOCAL else nullcontext():
        yield from events


def build_app(settings: Settings) -> gr.Blocks:
    """Build the page: chat with sources, documents (upload, list, remove) and a settings drawer."""
    local = settings.model.backend if settings.model.backend in _LOCAL else "bundled"
    local_label = f"Local model ({settings.model.path if local == 'gguf' else settings.model.bundled})"

    def respond(
        message: str, chat: list[dict[str, Any]], turns: Turns, backend: str, url: str, k: float, hybrid: bool
    ) -> Iterator[tuple[Any, ...]]:
        question, turn = (message or "").strip(), len(turns) + 1
        chat = [*chat, {"role": "user", "content": safe_text(question)}]
        draft, note = "", "_Searching your documents…_"
        yield "", [*chat, {"role": "assistant", "content": note}], turns, "<p>Searching…</p>"
        try:
            request = variant(settings, backend, url, k, hybrid)
            for event in _serialised(api.ask_stream(question, request, turns), request):
                if isinstance(event, Retrieved):
                    reply = f"_Found {len(event.passages)} passages; answering…_"
                    yield (
                        "",
                        [*chat, {"role": "assistant", "content": reply}],
                        turns,
                        sources_html(event.passages, turn),
                    )
                elif isinstance(event, Token):
                    draft += event.text
                    reply = link_markers(draft, turn)
                    yield "", [*chat, {"role": "assistant", "content": reply}], turns, gr.skip()
                elif isinstance(event, Done):
                    a = event.answer
                    reply, html = answer_html(a, turn), sources_html(a.passages, turn, a)
                    yield (
                        "",
                        [*chat, {"role": "assistant", "content": reply}],
                        [*turns, (question, a.text)],
                        html,
                    )
        except RagError as exc:
            reply = f"**Error:** {escape(str(exc))}"
            yield message, [*chat, {"role": "assistant", "content": reply}], turns, ""

    def refresh() -> tuple[Any, ...]:
        try:
            infos = api.list_documents(settings)
        except RagError:
            infos = []  # the status line below carries the error and its fix
        choices = [(f"{i.title or i.path} ({i.path})", i.doc_id) for i in infos]
        return docs_rows(infos), gr.update(choices=choices, value=None), status_line(settings)

    def add_files(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        stored, notes = [], []
        for f in files or []:
            try:
                stored.append(store_upload(Path(f), Path(f).name, settings))
            except UploadError as exc:
                notes.append(f"Refused: {exc}")
        if stored:
            try:
                bar = lambda d, t, m: progress((d, t), desc=m)  # noqa: E731
                report = api.ingest(stored, settings, progress=bar, show_bar=False)
            except RagError as exc:  # e.g. another process is writing to the index
                return (f"Error: {exc}", None, *refresh())
            notes.insert(
                0,
                f"Added {len(stored)} file(s): {report.documents_changed} new or changed, "
                f"{report.chunks_embedded} chunks embedded ({report.seconds:.1f} s).",
            )
            notes += [f"Problem: {Path(p.path).name}: {p.reason}" for p in report.problems]
        return ("\n\n".join(notes) or "Choose files first.", None, *refresh())

    def remove(doc_id: str | None) -> tuple[Any, ...]:
        info = next((i for i in api.list_documents(settings) if i.doc_id == doc_id), None)
        if info is None:
            return ("Choose a document to remove.", *refresh())
        try:
            removed = api.remove_document(info.doc_id, settings)
        except RagError as exc:
            return (f"Error: {exc}", *refresh())
        copy = Path(info.path).resolve()
        if copy.parent == upload_dir(settings) and copy.is_file():
            copy.unlink()  # an uploaded copy goes too, so it does not come back on the next ingest
        return (f"Removed {info.path} ({removed} chunks).", *refresh())

    with gr.Blocks(title="rag: ask your documents") as demo:
        turns = gr.State([])
        gr.Markdown(
            "## Ask your documents\nEvery sentence cites a passage: click [n] to see it, highlighted."
        )
        with gr.Sidebar(label="Settings", open=False, position="right"):
            gr.Markdown("### Settings")
            backend = gr.Radio(
                [(local_label, local), ("OpenAI-compatible server", "openai")],
                value=settings.model.backend if settings.model.backend == "openai" else local,
                label="Model backend",
            )
            url = gr.Textbox(settings.model.base_url, label="Server URL (OpenAI-compatible backend)")
            top_k = gr.Slider(
                1, 20, value=settings.retrieve.top_k, step=1, label="Passages given to the model"
            )
            hybrid = gr.Checkbox(settings.retrieve.hybrid, label="Hybrid retrieval (dense + BM25)")
            status = gr.Markdown(elem_id="index-status")
        with gr.Tab("Ask"), gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Answers", height=520, elem_id="chat", buttons=["copy"])
                with gr.Row():
                    box = gr.Textbox(
                        label="Question",
                        placeholder="Ask about your documents…",
                        show_label=False,
                        scale=5,
                        elem_id="question",
                    )
                    ask = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                new = gr.Button("New chat", size="sm")
            with gr.Column(scale=2):
                sources = gr.HTML(
                    "<p>The passages behind each answer appear here.</p>", label="Sources", elem_id="sources"
                )
        with gr.Tab("Documents"):
            files = gr.File(label="Upload documents", file_count="multiple", file_types=list(SUFFIXES))
            add = gr.Button("Add to index", variant="primary")
            added = gr.Markdown(elem_id="ingest-status")
            table = gr.Dataframe(headers=["title", "date", "chunks", "path"], interactive=False, wrap=True)
            with gr.Row():
                pick = gr.Dropdown(label="Document", choices=[], scale=4)
                drop = gr.Button("Remove from index", variant="stop", scale=1)
            removed = gr.Markdown()
        chat_io = {
            "fn": respond,
            "inputs": [box, chat, turns, backend, url, top_k, hybrid],
            "outputs": [box, chat, turns, sources],
            "concurrency_limit": concurrency(settings),
            "concurrency_id": "answer",
        }
        box.submit(**chat_io, api_name="ask")  # type: ignore[arg-type]
        ask.click(**chat_io, api_visibility="private")  # type: ignore[arg-type]
        new.click(lambda: ([], [], ""), outputs=[chat, turns, sources], api_visibility="private", queue=False)
        listing = [table, pick, status]
        add.click(
            add_files,
            files,
            [added, files, *listing],
            api_name="add",
            concurrency_limit=1,
            concurrency_id="index",
        )
        drop.click(
            remove, pick, [removed, *listing], api_name="remove", concurrency_limit=1, concurrency_id="index"
        )
        demo.load(refresh, outputs=listing, api_name="documents", concurrency_limit=None)
    return demo


def launch(
    settings: Settings, host: str | None = None, port: int | None = None, share: bool = False
) -> tuple[gr.Blocks, str]:
    """Start the page without blocking; return the app and its URL (``demo.close()`` stops it).

    Args:
        settings: Settings; ``ui.host`` and ``ui.port`` unless overridden.
        host: Address to listen on.
        port: Port to listen on.
        share: Also open a public Gradio share link.

    """
    demo = build_app(settings)
    demo.queue(default_concurrency_limit=concurrency(settings))
    _, local_url, share_url = demo.launch(
        server_name=host or settings.ui.host,
        server_port=port or settings.ui.port,
        share=share,
        prevent_thread_lock=True,
        quiet=True,
        max_file_size=int(settings.ui.max_upload_mb * 1e6),
        ssr_mode=False,
        mcp_server=False,
        css=CSS,
        head=HEAD,
    )
    return demo, share_url or local_url
