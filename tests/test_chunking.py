import itertools

import pytest
from conftest import SEED

from rag.components import shared_embedder as embedder_for
from rag.core.settings import EmbedSettings
from rag.ingestion.chunking import chunk_document, chunk_spans, paragraph_spans
from rag.ingestion.loaders import load_document


@pytest.fixture(scope="module")
def embedder():
    return embedder_for(EmbedSettings())


@pytest.mark.fast
def test_paragraph_spans_are_trimmed_and_exact():
    text = "  First para.\n\n\nSecond\npara.  \n \nThird."
    spans = paragraph_spans(text)
    assert [text[a:b] for a, b in spans] == ["First para.", "Second\npara.", "Third."]


def test_seed_chunks_have_exact_spans_and_fit_the_embedder(embedder):
    doc, _ = load_document(SEED, SEED.read_bytes())
    chunks = chunk_document(doc, chunk_spans(doc.text, embedder.count_tokens))
    assert len(chunks) > 5
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        assert embedder.count_tokens(c.text) <= 200
    assert any("five percent of gross domestic product" in c.text for c in chunks)
    # the heading "Putin to stay at home" is merged into the paragraph after it
    assert not any(c.text.strip() == "Putin to stay at home" for c in chunks)
    assert len({c.id for c in chunks}) == len(chunks)


def test_long_paragraph_is_split_by_sentences_within_budget(embedder):
    sentences = [f"Sentence number {i} talks about the harbour and its {i} boats." for i in range(80)]
    text = "Intro.\n\n" + " ".join(sentences)
    spans = chunk_spans(text, embedder.count_tokens, max_tokens=64, overlap=8)
    assert len(spans) > 5
    for a, b in spans:
        assert embedder.count_tokens(text[a:b]) <= 64
        assert text[a:b].strip() == text[a:b]
    covered = "".join(text[a:b] for a, b in spans)
    assert "number 79" in covered and "number 0 " in covered


def test_seed_chunk_ids_are_the_ones_the_old_splitter_made(embedder):
    """Ordinary documents keep their chunk ids across the change of splitter (nothing re-embedded)."""
    import dataclasses
    import json

    from conftest import ROOT

    recorded = json.loads((ROOT / "tests" / "data" / "seed_chunk_ids.json").read_text())
    doc, _ = load_document(SEED, SEED.read_bytes())
    doc = dataclasses.replace(doc, id=recorded["doc_id"])
    chunks = chunk_document(doc, chunk_spans(doc.text, embedder.count_tokens))
    assert [c.id for c in chunks] == recorded["ids"]


def _long_line(kind: str, size: int) -> str:
    words = "the harbour ferry sailed north across grey water while 42 gulls circled Kestrel Point"
    if kind == "sentences":
        unit = words + ". "
    elif kind == "no punctuation":
        unit = words + " "
    elif kind == "no whitespace":
        unit = words.replace(" ", "")
    elif kind == "dots":
        unit = "."
    elif kind == "closers":
        unit = ". " + ")" * 500 + "x "
    else:  # CJK: sentence ends with no space after them
        unit = "港口的渡轮向北航行。"
    return (unit * (size // len(unit) + 1))[:size]


@pytest.mark.parametrize("kind", ["sentences", "no punctuation", "no whitespace", "dots", "closers", "cjk"])
def test_chunking_a_long_single_line_is_linear_work(embedder, kind):
    """No tokenizer call sees more than a chunk's worth of text, and all calls together a few times the text.

    The old splitter counted the whole line at once (then nltk's regex guard timed out on 20 MB).
    """
    text = _long_line(kind, 300_000)
    calls: list[int] = []

    def count(s: str) -> int:
        calls.append(len(s))
        return embedder.count_tokens(s)

    spans = chunk_spans(text, count, max_tokens=200, overlap=24)
    assert max(calls) <= 200 * 32
    assert sum(calls) <= 12 * len(text)
    covered = bytearray(len(text))
    for a, b in spans:
        assert text[a:b] and text[a:b].strip() == text[a:b]
        covered[a:b] = b"\x01" * (b - a)
    assert all(covered[i] or text[i].isspace() for i in range(len(text)))
    for a, b in spans[:300]:
        assert embedder.count_tokens(text[a:b]) <= 200


def test_pieces_of_a_long_paragraph_overlap_by_whole_sentences(embedder):
    sentences = [f"Sentence number {i} talks about the harbour and its {i} boats." for i in range(80)]
    text = " ".join(sentences)
    spans = chunk_spans(text, embedder.count_tokens, max_tokens=64, overlap=20)
    for (a1, b1), (a2, b2) in itertools.pairwise(spans):
        assert a1 < a2 < b1 < b2  # the next piece starts inside the previous one, at a sentence
        assert text[a2:].startswith("Sentence number")
        assert embedder.count_tokens(text[a2:b1]) - 2 <= 20


def test_token_counts_need_no_torch_and_match_the_model():
    """Planning and chunking read the tokenizer file; only embedding loads torch, and counts agree."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom rag.models.embedder import make_embedder\n"
        "from rag.core.settings import EmbedSettings\n"
        "e = make_embedder(EmbedSettings())\n"
        "n = e.count_tokens('NATO endorsed five percent of GDP by 2035.')\n"
        "print(e.name, e.dim, e.max_tokens, n, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["all-MiniLM-L6-v2", "384", "256", "12", "False"], out.stderr[-500:]
    embedder = embedder_for(EmbedSettings())
    text = SEED.read_text()
    tokenizer = embedder._loaded().tokenizer
    for start in range(0, len(text), 700):
        piece = text[start : start + 1200]
        assert embedder.count_tokens(piece) == len(tokenizer.encode(piece, add_special_tokens=False)) + 2
