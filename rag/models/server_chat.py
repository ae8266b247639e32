"""Any OpenAI-compatible server as a ChatModel (llama.cpp's server, vLLM, Ollama, LM Studio)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rag.core.errors import ModelServerError, missing
from rag.core.settings import ModelSettings
from rag.models.chat_protocol import Delta, Message, yes_share


class OpenAIServerModel:
    """Any OpenAI-compatible server, through LlamaIndex's OpenAILike client."""

    def __init__(self, settings: ModelSettings) -> None:
        """Configure the client; nothing is sent until the first question."""
        try:
            from llama_index.llms.openai_like import OpenAILike
        except ImportError:
            raise missing("llama_index.llms.openai_like", "core", "The openai backend") from None
        self._llm = OpenAILike(
            model=settings.name,
            api_base=settings.base_url,
            api_key=settings.api_key,
            is_chat_model=True,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            timeout=settings.timeout,
            max_retries=0,
            logprobs=True,
            top_logprobs=1,
        )
        # The same client asked for one token and its alternatives: the self-check's "yes"/"no".
        self._judge = self._llm.model_copy(update={"max_tokens": 1, "top_logprobs": 20, "temperature": 0.0})
        self._url = settings.base_url
        self.name = settings.name

    def stream(self, messages: list[Message]) -> Iterator[Delta]:
        """Yield the server's streamed reply; connection problems become ModelServerError."""
        chat = _chat(messages)
        try:
            for response in self._llm.stream_chat(chat):
                if response.delta:
                    yield Delta(response.delta, logprobs=_server_logprobs(response.raw))
        except Exception as exc:  # openai raises APIConnectionError, APIStatusError, ...
            raise ModelServerError(
                f"The model server at {self._url} failed: {type(exc).__name__}: {exc}. Check that "
                "it is running and that RAG_MODEL__BASE_URL and RAG_MODEL__NAME are right."
            ) from exc

    def yes_probability(self, messages: list[Message]) -> float | None:
        """Ask for one token with its alternatives; None when the server reports none (or fails)."""
        try:
            raw = self._judge.chat(_chat(messages)).raw
            return yes_share([dict(t) for t in raw.choices[0].logprobs.content[0].top_logprobs])
        except Exception:  # a signal, not the answer: a server without top_logprobs gives none
            return None


def _chat(messages: list[Message]) -> list[Any]:
    """Turn messages into LlamaIndex chat messages."""
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role=m["role"], content=m["content"]) for m in messages]


def _server_logprobs(raw: Any) -> tuple[float, ...]:
    """Token log-probabilities of one streamed OpenAI chunk (empty when the server sends none)."""
    try:
        content = raw.choices[0].logprobs.content or []
    except (AttributeError, IndexError, TypeError):
        return ()
    return tuple(float(t.logprob) for t in content)
