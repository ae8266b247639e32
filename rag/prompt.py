"""The prompt: short instructions and numbered passages (prompt tokens are the CPU bottleneck)."""

from __future__ import annotations

from collections.abc import Sequence

from .types import Passage

SYSTEM = (
    "Answer the question in one short sentence using only the numbered passages, and cite the "
    "passage number in brackets at the end, for example: The meeting lasted two hours [3]."
)


def passage_block(n: int, passage: Passage) -> str:
    """Render one passage as ``[n] (title, date) text``."""
    chunk = passage.chunk
    title = chunk.title if len(chunk.title) <= 60 and not chunk.title.endswith("…") else ""
    head = ", ".join(x for x in (title, chunk.date) if x)
    return f"[{n}] ({head}) {chunk.text}" if head else f"[{n}] {chunk.text}"


def build_messages(question: str, passages: Sequence[Passage]) -> list[dict[str, str]]:
    """Return chat messages: a system instruction, then the passages and the question.

    Args:
        question: The user's question.
        passages: Retrieved passages; their 1-based position is the citation number.

    """
    body = "\n\n".join(passage_block(n, p) for n, p in enumerate(passages, 1))
    user = f"Passages:\n{body}\n\nQuestion: {question}\nAnswer with citations:"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def condense_messages(history: Sequence[tuple[str, str]], question: str) -> list[dict[str, str]]:
    """Return messages asking the model to rewrite a follow-up as a self-contained question.

    Args:
        history: Earlier (question, answer) turns, oldest first.
        question: The follow-up to rewrite.

    """
    turns = "\n".join(f"Q: {q}\nA: {a}" for q, a in history[-3:])
    user = (
        f"Conversation so far:\n{turns}\n\nFollow-up question: {question}\n"
        "Rewrite the follow-up as one self-contained question that names what it refers to. "
        "Reply with the question only."
    )
    return [{"role": "user", "content": user}]
