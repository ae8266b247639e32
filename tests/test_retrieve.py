import pytest
from conftest import NATO

from rag.pipeline import Pipeline
from rag.retrieval.retriever import rrf


@pytest.mark.fast
def test_rrf_orders_by_summed_reciprocal_rank():
    fused = rrf([["a", "b", "c"], ["c", "a"]], k=60)
    assert [i for i, _ in fused] == ["a", "c", "b"]
    assert abs(fused[0][1] - (1 / 61 + 1 / 62)) < 1e-12


@pytest.mark.fast
def test_rrf_ties_share_a_rank():
    fused = dict(rrf([[["a", "b"], "c"]], k=60))
    assert fused["a"] == fused["b"] == 1 / 61 and fused["c"] == 1 / 63


def test_hybrid_puts_the_answer_passage_first(seed_index):
    passages = Pipeline.from_settings(seed_index).retrieve(NATO)
    assert "five percent of gross domestic product" in passages[0].chunk.text
    assert passages[0].source == "fused"
    assert passages[0].dense_score is not None and passages[0].lexical_score is not None
    assert [p.rank for p in passages] == list(range(1, len(passages) + 1))
    assert len(passages) == seed_index.retrieve.top_k


def test_dense_only_and_other_documents(seed_index):
    dense = seed_index.model_copy(
        update={"retrieve": seed_index.retrieve.model_copy(update={"hybrid": False})}
    )
    passages = Pipeline.from_settings(dense).retrieve("Who planted the Bramley apple trees?")
    assert passages[0].source == "dense"
    assert "Ada Lovell" in passages[0].chunk.text
    assert passages[0].chunk.title == "Orchard notes" and passages[0].chunk.date == "2024-04-02"


@pytest.mark.fast
def test_bm25_versions_are_immutable_and_named_by_the_commit(tmp_path):
    from rag.core.types import Chunk
    from rag.index.bm25 import BM25Index, remove_versions

    def chunk(i: int, text: str) -> Chunk:
        return Chunk(f"c{i}", "d", 0, len(text), text)

    v1 = BM25Index.build([chunk(1, "ferry crossing takes 35 minutes")]).save(tmp_path)
    first = BM25Index.load(tmp_path, v1)
    assert first.query("ferry", 5)[0][0] == "c1"
    v2 = BM25Index.build([chunk(2, "the bakery bakes rye bread"), chunk(3, "ferry tickets")]).save(tmp_path)
    assert v2 != v1
    second = BM25Index.load(tmp_path, v2)
    assert [i for i, _ in second.query("bakery bread", 5)] == ["c2"]
    remove_versions(tmp_path, keep=v2)
    assert [p.name for p in tmp_path.glob("bm25.*")] == [v2], "old versions are removed"
    assert first.query("ferry", 5)[0][0] == "c1", "a reader keeps the version it loaded"
    assert BM25Index.load(tmp_path / "none", "").ids == []


def test_top_k_above_candidates_still_returns_top_k(seed_index):
    s = seed_index.model_copy(
        update={"retrieve": seed_index.retrieve.model_copy(update={"top_k": 6, "candidates": 2})}
    )
    assert len(Pipeline.from_settings(s).retrieve("Who is Mark Rutte?")) == 6
