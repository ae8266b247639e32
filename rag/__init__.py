"""rag: answers from your own documents, every claim cited to a passage you can check."""

import os

# Nothing in rag may reach a model hub or send telemetry; set before any library import.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from .api import ask, ask_stream, ingest, list_documents, remove_document
from .errors import RagError
from .settings import Settings, load_settings
from .types import Answer, Citation, Passage

__all__ = [
    "Answer",
    "Citation",
    "Passage",
    "RagError",
    "Settings",
    "ask",
    "ask_stream",
    "ingest",
    "list_documents",
    "load_settings",
    "remove_document",
]
