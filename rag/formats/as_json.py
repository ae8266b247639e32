"""The JSON shapes of answers, passages and citations (``rag ask --json``, eval results), and back.

``answer_from_dict(answer_dict(a)) == a``: what ``rag serve`` sends, ``rag ask --server`` and the
eval's replay read back into the same frozen types.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, cast

from rag.core.types import Answer, Chunk, Citation, Conflict, Passage, Scope, SentenceCheck, Source, Timings
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
        "scope": scope_dict(a.scope) if a.scope else None,
        "citations": [citation_dict(c) for c in a.citations],
        "passages": [passage_dict(p) for p in a.passages],
        "sentences": [asdict(s) for s in a.sentences],
        "invalid_citations": list(a.invalid_citations),
        "draft": a.draft,
        "timings": asdict(a.timings),
    }


def scope_dict(scope: Scope) -> dict[str, Any]:
    """Return a scope as JSON: lists of paths, titles, collections and ids, and the two dates."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(scope).items()}


def _source_dict(c: Chunk) -> dict[str, Any]:
    """Where a chunk comes from, for JSON output: document, title, date, page, section, spans, text, file."""
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
        "source_path": c.source_path,  # the file as resolved at ingest
        "source_hash": c.source_hash,  # its sha256 then
    }


def passage_dict(p: Passage) -> dict[str, Any]:
    """Flatten a passage for JSON output."""
    scores = {
        "rank": p.rank,
        "score": p.score,
        "dense_score": p.dense_score,
        "lexical_score": p.lexical_score,
    }
    return {"id": p.chunk.id, **scores, "source": p.source, "flags": list(p.flags), **_source_dict(p.chunk)}


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


def chunk_from(d: dict[str, Any], chunk_id: str) -> Chunk:
    """Return the Chunk a passage's or citation's JSON describes (the shape of ``_source_dict``)."""
    return Chunk(
        chunk_id,
        d["doc_id"],
        d["start"],
        d["end"],
        d["text"],
        d["title"],
        d["doc"],
        d["date"],
        d["file_start"] - d["start"],
        d["page"],
        d["section"],
        d.get("collection", ""),
        d.get("source_path", ""),
        d.get("source_hash", ""),
    )


def passage_from(d: dict[str, Any]) -> Passage:
    """Return the Passage of ``passage_dict``'s JSON (results saved before "source" read as fused)."""
    source = cast(Source, d.get("source", "fused"))
    return Passage(
        chunk_from(d, d["id"]),
        d["score"],
        d["rank"],
        source,
        d["dense_score"],
        d["lexical_score"],
        tuple(d["flags"]),
    )


def citation_from(d: dict[str, Any], passages: tuple[Passage, ...]) -> Citation:
    """Return the Citation of ``citation_dict``'s JSON, pointing at its passage among ``passages``."""
    n, pid = d["n"], d["passage_id"]
    given = passages[n - 1] if 0 < n <= len(passages) and passages[n - 1].chunk.id == pid else None
    passage = given or next((p for p in passages if p.chunk.id == pid), None)
    if passage is None:  # not among the answer's passages: rebuild it from the citation's own copy
        passage = Passage(chunk_from(d, pid), 0.0, n, "fused")
    return Citation(
        n,
        passage,
        d["sentence"],
        d["supported"],
        d["quote"],
        d["quote_start"],
        d["quote_end"],
        d["inferred"],
    )


def scope_from(d: dict[str, Any]) -> Scope:
    """Return the Scope of ``scope_dict``'s JSON."""
    return Scope(
        paths=tuple(d.get("paths") or ()),
        titles=tuple(d.get("titles") or ()),
        collections=tuple(d.get("collections") or ()),
        doc_ids=tuple(d.get("doc_ids") or ()),
        since=d.get("since"),
        until=d.get("until"),
    )


def answer_from_dict(d: dict[str, Any]) -> Answer:
    """Return the Answer of ``answer_dict``'s JSON (e.g. from ``rag serve``).

    Raises:
        KeyError: A field ``answer_dict`` writes is missing.
        TypeError: A field has the wrong type.

    """
    passages = tuple(passage_from(p) for p in d["passages"])
    return Answer(
        question=d["question"],
        text=d["answer"],
        citations=tuple(citation_from(c, passages) for c in d["citations"]),
        passages=passages,
        abstained=d["abstained"],
        timings=Timings(**d["timings"]),
        sentences=tuple(
            SentenceCheck(s["text"], tuple(s["cited"]), s["supported"], s["reason"]) for s in d["sentences"]
        ),
        draft=d["draft"],
        rewritten=d["rewritten"],
        abstain_reason=d["abstain_reason"],
        invalid_citations=tuple(d["invalid_citations"]),
        as_of=d["as_of"],
        confidence=d["confidence"],
        scope=scope_from(d["scope"]) if d["scope"] else None,
        signals=tuple((k, float(v)) for k, v in d.get("signals", {}).items()),
        conflicts=tuple(_conflict_from(c, passages) for c in d.get("conflicts", ())),
    )


def _conflict_from(d: dict[str, Any], passages: tuple[Passage, ...]) -> Conflict:
    """Return the Conflict of its JSON: both passages are among the answer's, named by chunk id."""
    by_id = {p.chunk.id: p for p in passages}
    return Conflict(by_id[d["older"]], by_id[d["newer"]], d["older_says"], d["newer_says"])
