"""rag: answers from your own documents, every claim cited to a passage you can check."""

import os

# Nothing in rag may reach a model hub or send telemetry: set (not merely default) before any library
# import, so an inherited HF_HUB_OFFLINE=0 cannot switch downloads back on.
os.environ.update(
    HF_HUB_OFFLINE="1",
    TRANSFORMERS_OFFLINE="1",
    HF_HUB_DISABLE_PROGRESS_BARS="1",
    ANONYMIZED_TELEMETRY="False",
    GRADIO_ANALYTICS_ENABLED="False",
)
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from rag.api import ask, ask_stream, ingest, list_documents, remove_document
from rag.core.errors import RagError
from rag.core.settings import Settings, load_settings
from rag.core.types import Answer, Citation, Passage, Scope

__all__ = [
    "Answer",
    "Citation",
    "Passage",
    "RagError",
    "Scope",
    "Settings",
    "ask",
    "ask_stream",
    "ingest",
    "list_documents",
    "load_settings",
    "remove_document",
]
