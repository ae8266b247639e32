"""The models rag runs: the embedder and the chat models (bundled GGUF, own file, a server)."""
