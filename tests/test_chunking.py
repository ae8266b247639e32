import pytest
from conftest import SEED

from rag.chunking import chunk_document, chunk_spans, paragraph_spans
from rag.loaders import load_document
from rag.parts import shared_embedder as embedder_for
from rag.settings import EmbedSettings


@pytest.fixture(scope="module")
def embedder():
    return embedder_for(EmbedSettings())


def test_paragraph_spans_are_trimmed_and_exact():
    text = "  First para.\n\n\nSecond\npara.  \n \nThird."
    spans = paragraph_spans(text)
    assert [text[a:b] for a, b in spans] == ["First para.", "Second\npara.", "Third."]


def test_seed_chunks_have_exact_spans_and_fit_the_embedder(embedder):
    doc, _ = load_document(SEED, SEED.read_bytes())
    chunks = chunk_document(doc, chunk_spans(doc.text, embedder.count_tokens, embedder.tokenize))
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
    spans = chunk_spans(text, embedder.count_tokens, embedder.tokenize, max_tokens=64, overlap=8)
    assert len(spans) > 5
    for a, b in spans:
        assert embedder.count_tokens(text[a:b]) <= 64
        assert text[a:b].strip() == text[a:b]
    covered = "".join(text[a:b] for a, b in spans)
    assert "number 79" in covered and "number 0 " in covered
