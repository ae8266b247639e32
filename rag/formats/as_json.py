"""The JSON shapes of answers, passages and citations (``rag ask --json``, eval results)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rag.core.types import Answer, Chunk, Citation, Passage
from rag.verify.confidence import confidence_words


def answer_dict(a: Answer) -> dict[str, Any]:
    """Return the JSON shape printed by ``rag ask --json``."""
    return {
        "question": a.question,
        "rewritten": a.rewritten,
        "as_of": a.as_of,
        "answer": a.text,
        "abstained": a.abstained,
        "abstain_reason": a.abstain_reason,
        "confidence": a.confidence,  # estimated probability that the answer is right (rag.verify.confidence)
        "confidence_words": confidence_words(a.confidence),
        "signals": dict(a.signals),
        "conflicts": [
            {
                "older": c.older.chunk.id,
                "older_says": c.older_says,
                "newer": c.newer.chunk.id,
                "newer_says": c.newer_says,
            }
            for c in a.conflicts
        ],
        "scope": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(a.scope).items()}
        if a.scope
        else None,
        "citations": [citation_dict(c) for c in a.citations],
        "passages": [passage_dict(p) for p in a.passages],
        "sentences": [asdict(s) for s in a.sentences],
        "invalid_citations": list(a.invalid_citations),
        "draft": a.draft,
        "timings": asdict(a.timings),
    }


def _source_dict(c: Chunk) -> dict[str, Any]:
    """Where a chunk comes from, for JSON output: document, title, date, page, section, spans and text."""
    return {
        "doc": c.path,
        "doc_id": c.doc_id,
        "title": c.title,
        "date": c.date,
        "page": c.page,
        "section": c.section,
        "collection": c.collection,
        "start": c.start,
        "end": c.end,
        "file_start": c.file_span[0],
        "file_end": c.file_span[1],
        "text": c.text,
    }


def passage_dict(p: Passage) -> dict[str, Any]:
    """Flatten a passage for JSON output."""
    scores = {
        "rank": p.rank,
        "score": p.score,
        "dense_score": p.dense_score,
        "lexical_score": p.lexical_score,
    }
    return {"id": p.chunk.id, **scores, "flags": list(p.flags), **_source_dict(p.chunk)}


def citation_dict(c: Citation) -> dict[str, Any]:
    """Flatten a citation for JSON output."""
    return {
        "n": c.n,
        "passage_id": c.passage.chunk.id,
        **_source_dict(c.passage.chunk),
        "quote": c.quote,
        "quote_start": c.quote_start,
        "quote_end": c.quote_end,
        "sentence": c.sentence,
        "supported": c.supported,
        "inferred": c.inferred,
    }
