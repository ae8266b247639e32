"""Cut a Document into Chunks that fit the embedder's window, with exact character spans.

The work is linear in the text's length. A paragraph that fits is one chunk; a longer one is cut at
sentence ends, else at whitespace, else anywhere (``rag.ingestion.cutting``), and the pieces are
packed by the embedder's own token counts. LlamaIndex's SentenceSplitter is not used for this: it
runs nltk's sentence regex under a timeout guard, which raised TimeoutError on a 20 MB single-line
text (after 50 s and 3.7 GB of memory) and did not finish a 2 MB line in 170 s; it also returns
text rather than spans, so each piece had to be searched for again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence

from rag.core.text import page_of, section_of
from rag.core.types import Chunk, Document
from rag.ingestion.cutting import CHARS_PER_TOKEN_CAP, Budget, Counter, Span, pack, trim

__all__ = ["CHARS_PER_TOKEN_CAP", "chunk_document", "chunk_id", "chunk_spans", "paragraph_spans"]

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


# One end mark, closing quotes or brackets, then whitespace; or a CJK end mark (no space follows).
def paragraph_spans(text: str) -> list[Span]:
    """Return (start, end) of each blank-line separated paragraph, whitespace trimmed."""
    spans, pos = [], 0
    for brk in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = brk.start() if brk else len(text)
        span = trim(text, pos, end)
        if span:
            spans.append(span)
        pos = brk.end() if brk else end
    return spans


def _block_units(budget: Budget, paragraphs: Sequence[Span]) -> Iterator[Span]:
    """Keep a block (a table, a row, a cell: its paragraphs) in one unit where it fits, else cut at lines."""
    start, end = paragraphs[0][0], paragraphs[-1][1]
    if budget.fits(start, end):
        yield start, end
        return
    for p_start, p_end in paragraphs:
        if budget.fits(p_start, p_end):
            yield p_start, p_end
        else:
            yield from pack(budget, p_start, p_end, 0, by_line=True)


def _units(budget: Budget, overlap: int, blocks: Sequence[Span]) -> list[tuple[int, int, bool]]:
    """Return (start, end, in a block) of each unit: a paragraph that fits, a piece of one, or a block."""
    ordered = sorted(b for b in blocks if 0 <= b[0] < b[1] <= len(budget.text))
    units: list[tuple[int, int, bool]] = []
    group: list[Span] = []  # the paragraphs of the block being read

    def flush() -> None:
        if group:
            units.extend((s, e, True) for s, e in _block_units(budget, group))
            group.clear()

    b = 0
    for start, end in paragraph_spans(budget.text):
        while b < len(ordered) and ordered[b][1] <= start:
            b += 1
            flush()
        if b < len(ordered) and ordered[b][0] <= start:
            group.append((start, end))
            continue
        flush()
        if budget.fits(start, end):
            units.append((start, end, False))
        else:
            units.extend((s, e, False) for s, e in pack(budget, start, end, overlap))
    flush()
    return units


def chunk_spans(
    text: str,
    count_tokens: Counter,
    max_tokens: int = 200,
    min_tokens: int = 24,
    overlap: int = 24,
    blocks: Sequence[Span] = (),
) -> list[Span]:
    """Return chunk spans: one per paragraph, long ones split by sentences, short ones merged.

    Paragraphs are the unit so an edit re-embeds only the chunks it touches; a short paragraph
    (a heading) joins the following one so it is not retrieved on its own. A block (a table, a
    spreadsheet row, a slide, a notebook cell, a message) is one chunk where it fits, never merged
    with a neighbour, and cut at its line breaks where it does not fit. The work is linear in
    ``len(text)``: no tokenizer call sees more than ``max_tokens * CHARS_PER_TOKEN_CAP`` characters
    (but for a paragraph's sentences, each counted once).

    Args:
        text: The document text.
        count_tokens: Counts the embedder's word-pieces in a string (special tokens included).
        max_tokens: Most word-pieces per chunk as ``count_tokens`` counts them.
        min_tokens: Paragraphs below this join the next one when the result still fits.
        overlap: Tokens of a long paragraph's previous chunk repeated at the start of the next.
        blocks: (start, end) of the document's blocks (``Document.blocks``), on paragraph bounds.

    """
    budget = Budget(text, count_tokens, max_tokens)
    units = _units(budget, overlap, blocks)
    merged: list[Span] = []
    i = 0
    while i < len(units):
        start, end, in_block = units[i]
        if (
            not in_block
            and i + 1 < len(units)
            and count_tokens(text[start:end]) < min_tokens
            and budget.fits(start, units[i + 1][1])
        ):
            end = units[i + 1][1]
            i += 1
        merged.append((start, end))
        i += 1
    return merged


def chunk_id(doc_id: str, text: str, occurrence: int) -> str:
    """Return a content-addressed chunk id: unchanged text keeps its id across re-ingests."""
    digest = hashlib.sha1(f"{doc_id}\x00{text}".encode()).hexdigest()[:16]
    return f"{doc_id}-{digest}" + (f"-{occurrence}" if occurrence else "")


def chunk_document(doc: Document, spans: list[Span], collection: str = "") -> list[Chunk]:
    """Turn spans of a document into Chunks with content-addressed ids, pages and heading paths."""
    seen: dict[str, int] = {}
    chunks = []
    for start, end in spans:
        text = doc.text[start:end]
        occurrence = seen.get(text, 0)
        seen[text] = occurrence + 1
        chunks.append(
            Chunk(
                id=chunk_id(doc.id, text, occurrence),
                doc_id=doc.id,
                start=start,
                end=end,
                text=text,
                title=doc.title,
                path=doc.path,
                date=doc.date,
                file_offset=doc.body_offset,
                page=page_of(doc.pages, start, end),
                section=section_of(doc.sections, start, end),
                collection=collection,
            )
        )
    return chunks
