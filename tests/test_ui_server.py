"""The UI against a real OpenAI-compatible model server (llama.cpp's, via xllamacpp) that dies mid-answer."""

from __future__ import annotations

import time

from conftest import free_port
from gradio_client import Client
from test_backends import start_llama_server
from test_ui import MEETING, last_reply

from rag.core.settings import ModelSettings
from rag.models.bundled import bundled_gguf_path
from rag.ui.app import launch

LONG = "Describe in detail everything the documents say about the meeting, who attended it and what followed."


def streaming(outputs: list) -> bool:
    """True once answer text (not a status note) has appeared in the chat."""
    return any(o[1] and last_reply(o[1]) and not last_reply(o[1]).startswith("_") for o in outputs)


def test_model_server_killed_mid_stream_then_restarted(seed_index):
    port = free_port()
    model = bundled_gguf_path("smollm2-135m", seed_index.model.cache_dir)
    server = ModelSettings(
        backend="openai", base_url=f"http://127.0.0.1:{port}/v1", max_tokens=400, timeout=30
    )
    s = seed_index.model_copy(update={"model": server})
    proc = start_llama_server(model, port)
    demo, url = launch(s, port=free_port())
    try:
        job = Client(url, verbose=False).submit(LONG, api_name="/ask")
        deadline = time.monotonic() + 120
        while not streaming(job.outputs()):
            assert not job.done() and time.monotonic() < deadline, "the answer never started streaming"
            time.sleep(0.02)
        proc.kill()
        proc.wait(10)
        box, chat, sources = job.result(timeout=120)
        reply = last_reply(chat)
        assert reply.startswith("**Error:**"), f"the answer was cut short, so the page says so: {reply[:300]}"
        assert f"The model server at http://127.0.0.1:{port}/v1 failed" in reply
        assert "Check that it is running" in reply and "RAG_MODEL__BASE_URL" in reply, (
            "the error says the fix"
        )
        assert box == LONG, "the question stays in the box to ask again"

        proc = start_llama_server(model, port)  # the same port: the next question just works
        _, chat, sources = Client(url, verbose=False).predict(MEETING, api_name="/ask")
        assert not last_reply(chat).startswith("**Error"), last_reply(chat)[:300]
        assert "50 minutes" in sources
    finally:
        demo.close()
        proc.kill()
        proc.wait(10)
