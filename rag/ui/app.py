"""The Gradio chat UI: the page layout and its launch; the handlers are in ``rag.ui.handlers``.

The page's API is closed by default: it listens on loopback, asks for ``ui.auth`` when set, and
refuses any other address without a password unless told it is unsafe.
"""

from __future__ import annotations

from functools import partial

import gradio as gr

from rag.core.errors import RagError
from rag.core.hosts import is_loopback
from rag.core.settings import Settings
from rag.formats.as_html import COPY_JS, CSS, HEAD
from rag.ingestion.loaders import SUFFIXES
from rag.ui.handlers import add_files, backend_choices, concurrency, refresh, remove, respond, scope_menu
from rag.ui.open_route import add_open_route

__all__ = ["build_app", "concurrency", "exposure_warning", "is_loopback", "launch", "require_auth"]


class ExposureError(RagError):
    """The page would be reachable from other machines without a password."""


def exposure_warning(host: str, share: bool) -> str:
    """Return a warning when the page will be reachable from other machines, else ""."""
    if share:
        return (
            "Warning: --share makes a public link; anyone with it and the password can read your documents."
        )
    if not is_loopback(host):
        return f"Warning: listening on {host}; other machines on the network can reach the page (plain HTTP)."
    return ""


def require_auth(settings: Settings, host: str, share: bool, unsafe_no_auth: bool = False) -> None:
    """Refuse to serve beyond loopback without a password, unless explicitly told it is unsafe.

    Raises:
        ExposureError: ``host`` is not loopback (or ``share`` is on) and ``ui.auth`` is not set.

    """
    if (share or not is_loopback(host)) and settings.ui.auth is None and not unsafe_no_auth:
        where = "a public share link" if share else host
        raise ExposureError(
            f"Refusing to serve the UI on {where} without a password: anyone who reaches it could read "
            "your documents and use your model. Set a password with RAG_UI__AUTH=user:password (or "
            'auth = "user:password" under [ui] in rag.toml), or pass --unsafe-no-auth to serve it '
            "open anyway (unsafe)."
        )


def build_app(settings: Settings) -> gr.Blocks:
    """Build the page: chat with sources, documents (upload, list, remove) and a settings drawer."""
    with gr.Blocks(title="rag: ask your documents") as demo:
        turns = gr.State([])
        markdown = gr.State("")  # the last answer as Markdown, for "Copy as Markdown"
        gr.Markdown(
            "## Ask your documents\nEvery sentence cites a passage: click [n] to see it, highlighted."
        )
        with gr.Sidebar(label="Settings", open=False, position="right"):
            gr.Markdown("### Settings")
            model = gr.Radio(
                [(label, name) for name, (label, _) in backend_choices(settings).items()],
                value="configured",
                label="Model (set on the server: RAG_MODEL__*)",
            )
            top_k = gr.Slider(
                1, 20, value=min(settings.retrieve.top_k, 20), step=1, label="Passages given to the model"
            )
            hybrid = gr.Checkbox(settings.retrieve.hybrid, label="Hybrid retrieval (dense + BM25)")
            as_of = gr.Textbox(
                "",
                label="As of (YYYY-MM-DD; empty = today)",
                info="Questions are asked on this day: later documents are not used.",
                max_lines=1,
                elem_id="as-of",
            )
            status = gr.Markdown(elem_id="index-status")
        with gr.Tab("Ask"), gr.Row():
            with gr.Column(scale=3):
                scope = gr.Dropdown(
                    [],
                    multiselect=True,
                    label="Search only in (empty: all documents)",
                    info="Pick documents or collections; the chat answers from these only.",
                    elem_id="scope",
                )
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
                with gr.Row():
                    new = gr.Button("New chat", size="sm")
                    copy = gr.Button("Copy as Markdown", size="sm", elem_id="copy-md")
                exported = gr.Textbox(
                    label="Answer as Markdown (sources as footnotes)",
                    lines=6,
                    interactive=False,
                    visible=False,
                    buttons=["copy"],
                    elem_id="answer-md",
                )
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
            "fn": partial(respond, settings),
            "inputs": [box, chat, turns, model, top_k, hybrid, as_of, scope],
            "outputs": [box, chat, turns, sources, markdown],
            "concurrency_limit": concurrency(settings),
            "concurrency_id": "answer",
        }
        box.submit(**chat_io, api_name="ask")  # type: ignore[arg-type]
        ask.click(**chat_io, api_visibility="private")  # type: ignore[arg-type]
        new.click(
            lambda: ([], [], "", "", gr.update(value="", visible=False)),
            outputs=[chat, turns, sources, markdown, exported],
            api_visibility="private",
            queue=False,
        )
        copy.click(
            lambda md: gr.update(value=md, visible=bool(md)),
            markdown,
            exported,
            api_visibility="private",
            queue=False,
        ).then(None, exported, None, js=COPY_JS, api_visibility="private")
        listing = [table, pick, status]
        index = {"concurrency_limit": 1, "concurrency_id": "index"}
        added_files = add.click(
            partial(add_files, settings),
            files,
            [added, files, *listing],
            api_name="add",
            **index,  # type: ignore[arg-type]
        )
        dropped = drop.click(
            partial(remove, settings),
            pick,
            [removed, *listing],
            api_name="remove",
            **index,  # type: ignore[arg-type]
        )
        for changed in (added_files, dropped):  # the "Search only in" menu follows the index
            changed.then(partial(scope_menu, settings), outputs=scope, api_visibility="private")
        demo.load(partial(refresh, settings), outputs=listing, api_name="documents", concurrency_limit=None)
        demo.load(partial(scope_menu, settings), outputs=scope, api_name="scopes", concurrency_limit=None)
    return demo


def launch(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    share: bool = False,
    unsafe_no_auth: bool = False,
) -> tuple[gr.Blocks, str]:
    """Start the page without blocking; return the app and its URL (``demo.close()`` stops it).

    Args:
        settings: Settings; ``ui.host``, ``ui.port`` and ``ui.auth`` unless overridden.
        host: Address to listen on.
        port: Port to listen on.
        share: Also open a public Gradio share link.
        unsafe_no_auth: Serve beyond loopback without a password (anyone who reaches it can use it).

    Raises:
        ExposureError: Not loopback, no ``ui.auth`` and not ``unsafe_no_auth``.

    """
    host = host or settings.ui.host
    require_auth(settings, host, share, unsafe_no_auth)
    auth = settings.ui.auth.get_secret_value().partition(":") if settings.ui.auth else None
    demo = build_app(settings)
    demo.queue(default_concurrency_limit=concurrency(settings))
    _, local_url, share_url = demo.launch(
        server_name=host,
        server_port=port or settings.ui.port,
        share=share,
        auth=[(auth[0], auth[2])] if auth else None,
        prevent_thread_lock=True,
        quiet=True,
        max_file_size=int(settings.ui.max_upload_mb * 1e6),
        ssr_mode=False,
        mcp_server=False,
        css=CSS,
        head=HEAD,
    )
    try:
        add_open_route(demo.server_app, settings)
    except RagError:
        demo.close()
        raise
    return demo, share_url or local_url
