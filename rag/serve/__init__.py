"""``rag serve``: the HTTP API (ask, OpenAI-compatible chat, documents, health, metrics) and its client."""
