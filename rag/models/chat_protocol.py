"""What a chat model is to rag: the ChatModel protocol, its messages and streamed pieces."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

Message = dict[str, str]


@dataclass(frozen=True)
class Delta:
    """A piece of streamed text; the last one carries the token counts when the backend knows them.

    ``logprobs`` holds the log-probability of each token in ``text`` when the backend reports them
    (llama.cpp and most OpenAI-compatible servers do): the verifier reads the model's confidence.
    """

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    logprobs: tuple[float, ...] = ()


class ChatModel(Protocol):
    """Streams a chat completion, and reads its own probability of answering "yes"."""

    name: str

    def stream(self, messages: list[Message]) -> Iterator[Delta]:
        """Yield the reply piece by piece."""
        ...

    def yes_probability(self, messages: list[Message]) -> float | None:
        """Return P("yes") / (P("yes") + P("no")) for the reply's first token; None when unknown."""
        ...


def yes_share(top_logprobs: list[dict[str, Any]]) -> float | None:
    """Return the share of "yes" in the probability of "yes" and "no" among a token's alternatives.

    Args:
        top_logprobs: ``{"token": ..., "logprob": ...}`` alternatives of one token, as OpenAI-style
            servers (and llama.cpp) report them.

    Returns:
        A probability in [0, 1], or None when neither word is among the alternatives.

    """
    yes = no = 0.0
    for alt in top_logprobs:
        word = str(alt.get("token", "")).strip().lower()
        if word in ("yes", "no"):
            p = math.exp(float(alt["logprob"]))
            yes, no = (yes + p, no) if word == "yes" else (yes, no + p)
    return yes / (yes + no) if yes + no > 0 else None
