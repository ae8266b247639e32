"""What every VectorStore must do, as one reusable test class (after Haystack's document store tests).

A store's test file subclasses ``VectorStoreContract`` and gives a ``store`` fixture returning an
empty store for 4-dimensional vectors; every test below then runs against it.
"""

from __future__ import annotations

import math

import pytest

from rag.core.types import Chunk, ChunkFilter
from rag.index.vector_store import VectorStore


def chunk(i: int, date: str | None = "2025-06-01", doc: str = "d1", text: str = "", **kw: object) -> Chunk:
    """Chunk ``c{i}`` of document ``doc``; ``kw`` sets page, section, collection, file_offset."""
    text = text or f"chunk number {i}"
    return Chunk(f"c{i}", doc, i * 10, i * 10 + len(text), text, "T", f"{doc}.txt", date, **kw)  # type: ignore[arg-type]


def unit(*xs: float) -> list[float]:
    n = math.sqrt(sum(x * x for x in xs))
    return [x / n for x in xs]


EAST, NORTH, NORTHEAST = unit(1, 0, 0, 0), unit(0, 1, 0, 0), unit(1, 1, 0, 0)


class VectorStoreContract:
    """Tests every VectorStore passes: subclasses provide the ``store`` fixture."""

    @pytest.fixture
    def store(self) -> VectorStore:
        raise NotImplementedError

    def test_an_empty_store_finds_nothing(self, store: VectorStore) -> None:
        assert store.count() == 0 and store.ids() == [] and store.all_chunks() == []
        assert store.query(EAST, 5) == []

    def test_upsert_then_get_in_the_order_asked_leaving_unknown_ids_out(self, store: VectorStore) -> None:
        store.upsert([chunk(1), chunk(2), chunk(3)], [EAST, NORTH, NORTHEAST])
        assert store.count() == 3 and sorted(store.ids()) == ["c1", "c2", "c3"]
        assert [c.id for c in store.get(["c3", "nope", "c1"])] == ["c3", "c1"]

    def test_every_field_of_a_chunk_survives_the_round_trip(self, store: VectorStore) -> None:
        full = chunk(
            1,
            page=3,
            section="Costs > 2024",
            collection="news",
            file_offset=7,
            source_path="/d/d1.txt",
            source_hash="ab12",
        )
        bare = chunk(2, date=None, doc="d2")
        store.upsert([full, bare], [EAST, NORTH])
        assert store.get(["c1", "c2"]) == [full, bare]
        assert sorted(store.all_chunks(), key=lambda c: c.id) == [full, bare]

    def test_query_returns_the_nearest_first_with_cosine_similarity(self, store: VectorStore) -> None:
        store.upsert([chunk(1), chunk(2), chunk(3)], [EAST, NORTH, NORTHEAST])
        hits = store.query(EAST, 2)
        assert [c.id for c, _ in hits] == ["c1", "c3"]
        assert hits[0][1] == pytest.approx(1.0, abs=1e-3) and hits[1][1] == pytest.approx(
            math.sqrt(0.5), abs=1e-3
        )
        assert len(store.query(EAST, 10)) == 3

    def test_upsert_replaces_a_stored_id_text_and_vector(self, store: VectorStore) -> None:
        store.upsert([chunk(1)], [EAST])
        store.upsert([chunk(1, text="new words")], [NORTH])
        assert store.count() == 1 and store.get(["c1"])[0].text == "new words"
        assert store.query(NORTH, 1)[0][1] == pytest.approx(1.0, abs=1e-3)

    def test_update_spans_changes_metadata_and_keeps_text_and_vector(self, store: VectorStore) -> None:
        store.upsert([chunk(1)], [EAST])
        moved = chunk(1, date="2024-01-01", collection="archive")
        store.update_spans([Chunk(**{**moved.__dict__, "start": 500, "end": 515})])
        got = store.get(["c1"])[0]
        assert (got.start, got.date, got.collection, got.text) == (
            500,
            "2024-01-01",
            "archive",
            "chunk number 1",
        )
        assert store.query(EAST, 1)[0][0].id == "c1"

    def test_delete_and_clear(self, store: VectorStore) -> None:
        store.upsert([chunk(1), chunk(2), chunk(3)], [EAST, NORTH, NORTHEAST])
        store.delete(["c2", "nope"])
        assert sorted(store.ids()) == ["c1", "c3"] and all(c.id != "c2" for c, _ in store.query(NORTH, 5))
        store.clear()
        assert store.count() == 0 and store.query(EAST, 5) == []

    def test_max_day_leaves_later_chunks_out_and_undated_ones_in(self, store: VectorStore) -> None:
        store.upsert([chunk(1, "2025-06-01"), chunk(2, "2025-07-01"), chunk(3, None)], [EAST, EAST, EAST])
        assert {c.id for c, _ in store.query(EAST, 5, max_day=20250615)} == {"c1", "c3"}

    def test_a_scope_filters_inside_the_search(self, store: VectorStore) -> None:
        store.upsert(
            [
                chunk(1, doc="a", collection="news"),
                chunk(2, doc="b", collection="notes"),
                chunk(3, None, doc="c"),
            ],
            [EAST, NORTHEAST, NORTH],
        )
        by_doc = ChunkFilter(frozenset({"b", "c"}), frozenset({"b", "c"}))
        assert [c.id for c, _ in store.query(EAST, 1, within=by_doc)] == ["c2"], (
            "the nearest allowed, not none"
        )
        notes = ChunkFilter(frozenset({"b"}), None, ("notes",))
        assert [c.id for c, _ in store.query(EAST, 5, within=notes)] == ["c2"]
        dated = ChunkFilter(frozenset({"a", "b", "c"}), None, (), since_day=20250101, until_day=20251231)
        assert {c.id for c, _ in store.query(EAST, 5, within=dated)} == {"c1", "c2"}, "a range drops undated"

    def test_more_rows_than_one_batch(self, store: VectorStore) -> None:
        many = [chunk(i) for i in range(5_200)]
        store.upsert(many, [EAST] * len(many))
        assert store.count() == 5_200 and len(store.get([c.id for c in many])) == 5_200
        store.delete([c.id for c in many[:5_100]])
        assert store.count() == 100
