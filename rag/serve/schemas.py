"""The request bodies the API accepts, validated before anything runs (unknown ask fields are refused)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rag.core.types import Scope
from rag.serve.state import MAX_TOP_K


class ScopeIn(BaseModel):
    """Which documents to search (as ``rag ask --in/--collection/--title/--since/--until``); all must hold."""

    model_config = ConfigDict(extra="forbid")

    paths: list[str] = Field([], description="Globs on the paths `GET /v1/documents` lists, or folders.")
    titles: list[str] = Field(
        [], description="Case-insensitive globs on titles; a word matches titles holding it."
    )
    collections: list[str] = Field([], description="Collections given at ingest (rag ingest --collection).")
    doc_ids: list[str] = Field([], description="Document ids from `GET /v1/documents`.")
    since: str | None = Field(None, description="Only documents dated on or after this day (YYYY-MM-DD).")
    until: str | None = Field(None, description="Only documents dated on or before this day (YYYY-MM-DD).")

    def scope(self) -> Scope | None:
        """Return the Scope (None when it narrows nothing)."""
        s = Scope(
            tuple(self.paths),
            tuple(self.titles),
            tuple(self.collections),
            tuple(self.doc_ids),
            self.since,
            self.until,
        )
        return s or None


class AskRequest(BaseModel):
    """``POST /v1/ask``: a question, and optionally its day, its scope, its passage count, its history."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="The question.")
    as_of: str | None = Field(
        None, description="The day it is asked (YYYY-MM-DD; default today): later documents are not used."
    )
    scope: ScopeIn | None = Field(None, description="Search only these documents.")
    top_k: int | None = Field(None, ge=1, le=MAX_TOP_K, description="Passages given to the model.")
    history: list[tuple[str, str]] = Field(
        [], max_length=50, description="Earlier (question, answer) turns; a follow-up is made self-contained."
    )
    stream: bool = Field(False, description="Server-sent events: retrieved, token..., done (or error).")


class ChatMessage(BaseModel):
    """One message of an OpenAI chat request; content is text or a list of text parts."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """Return the message's text (text parts joined; images and other parts are ignored)."""
        if isinstance(self.content, str):
            return self.content
        parts = self.content or []
        return "\n".join(str(p.get("text", "")) for p in parts if p.get("type") == "text")


class ChatRequest(BaseModel):
    """``POST /v1/chat/completions`` as OpenAI clients send it; sampling fields are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = Field("rag", description='Always "rag": the model and its server are the server\'s choice.')
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    stream: bool = False
    top_k: int | None = Field(None, ge=1, le=MAX_TOP_K, description="rag's own: passages given to the model.")
    as_of: str | None = Field(None, description="rag's own: the day the question is asked (YYYY-MM-DD).")
    scope: ScopeIn | None = Field(None, description="rag's own: search only these documents.")
