from conftest import NATO

from rag.api import _retriever
from rag.retrieve import rrf


def test_rrf_orders_by_summed_reciprocal_rank():
    fused = rrf([["a", "b", "c"], ["c", "a"]], k=60)
    assert [i for i, _ in fused] == ["a", "c", "b"]
    assert abs(fused[0][1] - (1 / 61 + 1 / 62)) < 1e-12


def test_hybrid_puts_the_answer_passage_first(seed_index):
    passages = _retriever(seed_index).retrieve(NATO)
    assert "five percent of gross domestic product" in passages[0].chunk.text
    assert passages[0].source == "fused"
    assert passages[0].dense_score is not None and passages[0].lexical_score is not None
    assert [p.rank for p in passages] == list(range(1, len(passages) + 1))
    assert len(passages) == seed_index.retrieve.top_k


def test_dense_only_and_other_documents(seed_index):
    dense = seed_index.model_copy(
        update={"retrieve": seed_index.retrieve.model_copy(update={"hybrid": False})}
    )
    passages = _retriever(dense).retrieve("Who planted the Bramley apple trees?")
    assert passages[0].source == "dense"
    assert "Ada Lovell" in passages[0].chunk.text
    assert passages[0].chunk.title == "Orchard notes" and passages[0].chunk.date == "2024-04-02"
