"""Cut a Document into Chunks that fit the embedder's window, with exact character spans."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator

from .types import Chunk, Document

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")

Span = tuple[int, int]


def paragraph_spans(text: str) -> list[Span]:
    """Return (start, end) of each blank-line separated paragraph, whitespace trimmed."""
    spans, pos = [], 0
    for brk in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = brk.start() if brk else len(text)
        piece = text[pos:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((pos + lead, pos + len(piece.rstrip())))
        pos = brk.end() if brk else end
    return spans


def _locate(text: str, piece: str, start: int) -> Span:
    """Find ``piece`` in ``text`` at or after ``start``, tolerating whitespace the splitter changed."""
    found = text.find(piece, start)
    if found < 0:
        pattern = r"\s+".join(re.escape(word) for word in piece.split())
        match = re.compile(pattern).search(text, start)
        if not match:
            raise ValueError(f"chunk not found in its document: {piece[:60]!r}")
        return match.span()
    return found, found + len(piece)


def _sentence_pieces(
    text: str, span: Span, max_tokens: int, overlap: int, tokenize: Callable[[str], list[int]]
) -> Iterator[Span]:
    """Split one over-long paragraph by sentences (LlamaIndex's SentenceSplitter) and map back."""
    from llama_index.core.node_parser import SentenceSplitter

    splitter = SentenceSplitter(chunk_size=max_tokens, chunk_overlap=overlap, tokenizer=tokenize)
    cursor = span[0]
    for piece in splitter.split_text(text[span[0] : span[1]]):
        start, end = _locate(text, piece.strip(), cursor)
        cursor = start + 1
        yield start, end


def chunk_spans(
    text: str,
    count_tokens: Callable[[str], int],
    tokenize: Callable[[str], list[int]],
    max_tokens: int = 200,
    min_tokens: int = 24,
    overlap: int = 24,
) -> list[Span]:
    """Return chunk spans: one per paragraph, long ones split by sentences, short ones merged.

    Paragraphs are the unit so an edit re-embeds only the chunks it touches; a short paragraph
    (a heading) joins the following one so it is not retrieved on its own.

    Args:
        text: The document text.
        count_tokens: Counts the embedder's word-pieces in a string.
        tokenize: Returns the embedder's token ids (used by the sentence splitter).
        max_tokens: Most word-pieces per chunk as ``count_tokens`` counts them (special tokens included).
        min_tokens: Paragraphs below this join the next one when the result still fits.
        overlap: Token overlap between pieces of one long paragraph.

    """
    # The splitter counts bare token ids; count_tokens("") is the fixed overhead ([CLS] and [SEP]).
    piece_budget = max_tokens - count_tokens("")
    units: list[Span] = []
    for span in paragraph_spans(text):
        if count_tokens(text[span[0] : span[1]]) <= max_tokens:
            units.append(span)
        else:
            units.extend(
                _sentence_pieces(text, span, piece_budget, min(overlap, piece_budget // 2), tokenize)
            )
    merged: list[Span] = []
    i = 0
    while i < len(units):
        start, end = units[i]
        if (
            i + 1 < len(units)
            and count_tokens(text[start:end]) < min_tokens
            and count_tokens(text[start : units[i + 1][1]]) <= max_tokens
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


def chunk_document(doc: Document, spans: list[Span]) -> list[Chunk]:
    """Turn spans of a document into Chunks with content-addressed ids."""
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
            )
        )
    return chunks
