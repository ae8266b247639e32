"""Questions within some documents: the scope is applied inside Chroma and BM25 (embedded and server)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import FARM, LIGHTHOUSE, SEED, chroma_server, make_settings
from summit import ANSWER_PAGE, AS_OF, QUESTION, make_summit_pdf

from rag import Scope, ask, ingest
from rag.api import check_index, list_documents
from rag.components import shared_embedder
from rag.core.settings import Settings, StoreSettings
from rag.core.types import Chunk, ChunkFilter
from rag.formats.as_json import answer_dict
from rag.index.bm25 import BM25Index
from rag.index.chroma_rows import where_filter
from rag.index.manifest import COLLECTION_SCHEMA, MANIFEST, SCHEMA, DocEntry, Manifest
from rag.pipeline import Pipeline
from rag.retrieval.scope import ScopeError, resolve

MEETING = "How long did the meeting between Zelenskyy and Trump last?"
# Unscoped, the news ranks first for this in both searches (BM25 and dense): with 2 candidates, only
# a filter inside each search can find the orchard's planted trees.
MIXED = "How long did the meeting between Zelenskyy and Trump last at the summit, and who planted trees?"


def make_library(base: Path) -> dict[str, Path]:
    """Three folders, one collection each: the seed article, two notes, the three-page summit PDF."""
    news, notes = base / "news", base / "notes"
    news.mkdir(parents=True)
    notes.mkdir()
    shutil.copy(SEED, news / SEED.name)
    (notes / "orchard.md").write_text(FARM)
    (notes / "lighthouse.html").write_text(LIGHTHOUSE)
    make_summit_pdf(base / "reports" / "summit.pdf")
    return {"news": news, "notes": notes, "reports": base / "reports"}


def ingest_library(folders: dict[str, Path], s: Settings) -> None:
    for name, folder in folders.items():
        ingest([folder], s, show_bar=False, collection=name)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    base = tmp_path_factory.mktemp("library")
    s = make_settings(base / "index")
    ingest_library(make_library(base / "docs"), s)
    return s


def narrow(s: Settings, **retrieve: object) -> Settings:
    return s.model_copy(update={"retrieve": s.retrieve.model_copy(update=retrieve)})


# --- the scope, resolved against the manifest -----------------------------------------------------


def entry(display: str, title: str, date: str | None, collection: str) -> DocEntry:
    return DocEntry(f"/data/{display}", display, "h", title, date, {f"{display}-c": [0, 1]}, 0, collection)


MANIFEST_DOCS = {
    "a": entry("news/war.txt", "Ukraine war", "2025-06-25", "news"),
    "b": entry("notes/orchard.md", "Orchard notes", "2024-04-02", "notes"),
    "c": entry("notes/undated.txt", "Loose notes", None, "notes"),
    "d": entry("reports/summit.pdf", "Alliance summit report", "2025-06-26", "reports"),
}


@pytest.mark.parametrize(
    ("scope", "docs"),
    [
        (Scope(paths=("notes/*",)), "bc"),
        (Scope(paths=("notes",)), "bc"),
        (Scope(paths=("/data/news/*",)), "a"),
        (Scope(paths=("*.pdf", "*.md")), "bd"),
        (Scope(titles=("ORCHARD",)), "b"),
        (Scope(titles=("*report",)), "d"),
        (Scope(collections=("notes",)), "bc"),
        (Scope(since="2025-01-01"), "ad"),
        (Scope(until="2024-12-31", collections=("notes",)), "b"),
        (Scope(doc_ids=("a", "c")), "ac"),
        (Scope(paths=("notes/*",), since="2024-01-01", until="2024-12-31"), "b"),
    ],
)
def test_a_scope_names_the_documents_it_keeps(scope, docs):
    within = resolve(scope, Manifest("e", 3, dict(MANIFEST_DOCS)), Path("idx"))
    assert within is not None and within.docs == frozenset(docs)
    assert within.collections == scope.collections
    by_id = scope.paths or scope.titles or scope.doc_ids
    assert within.doc_ids == (frozenset(docs) if by_id else None), "Chroma gets ids only for globs and ids"


def test_scopes_that_cannot_be_used_say_why():
    manifest = Manifest("e", 3, dict(MANIFEST_DOCS))
    assert resolve(None, manifest, Path("idx")) is None
    assert resolve(Scope(), manifest, Path("idx")) is None
    assert resolve(Scope(paths=("*",)), manifest, Path("idx")) is None, "every document: no filter"
    with pytest.raises(ScopeError, match=r"No indexed document matches.*'contracts/\*'.*rag docs"):
        resolve(Scope(paths=("contracts/*",)), manifest, Path("idx"))
    with pytest.raises(ScopeError, match="--since date must look like 2025-06-06"):
        resolve(Scope(since="June 2025"), manifest, Path("idx"))
    old = Manifest("e", 3, dict(MANIFEST_DOCS), schema=COLLECTION_SCHEMA - 1)
    with pytest.raises(ScopeError, match="rag check --repair"):
        resolve(Scope(collections=("news",)), old, Path("idx"))


def test_the_chroma_where_combines_the_as_of_day_and_the_scope():
    assert where_filter(None, None) is None
    assert where_filter(20250101, None) == {"day": {"$lte": 20250101}}
    within = ChunkFilter(frozenset("ab"), frozenset("ba"), ("x",), 20240101, 20241231)
    assert where_filter(20250101, within) == {
        "$and": [
            {"day": {"$lte": 20241231}},
            {"day": {"$gte": 20240101}},
            {"doc_id": {"$in": ["a", "b"]}},
            {"collection": {"$in": ["x"]}},
        ]
    }
    assert where_filter(None, ChunkFilter(frozenset("a"), None, ("x",))) == {"collection": {"$in": ["x"]}}


def test_bm25_masks_rows_out_of_scope_before_taking_the_top(tmp_path):
    many = [Chunk(f"x{i}", "x", 0, 9, f"ferry ferry timetable {i}") for i in range(10)]
    one = Chunk("y0", "y", 0, 9, "the ferry to the island")
    index = BM25Index.build([*many, one])
    index.set_rows({c.id: 20250101 for c in many} | {"y0": 20240101}, {c.id: c.doc_id for c in [*many, one]})
    assert {i for i, _ in index.query("ferry", 2)} <= {c.id for c in many}, "unscoped, y ranks below n"
    assert [i for i, _ in index.query("ferry", 2, docs=frozenset({"y"}))] == ["y0"]
    assert index.query("ferry", 2, max_day=20241231, docs=frozenset({"x"})) == []


# --- inside retrieval, on a real index ------------------------------------------------------------


@pytest.mark.parametrize("hybrid", [False, True])
def test_the_filter_is_applied_inside_retrieval_not_to_the_top_k(library, hybrid):
    """With 2 candidates the unscoped top is all news: cutting it would leave nothing in scope."""
    s = narrow(library, top_k=2, candidates=2, hybrid=hybrid)
    unscoped = Pipeline.from_settings(s).retrieve(MIXED)
    assert {p.chunk.collection for p in unscoped} == {"news"}
    scoped = Pipeline.from_settings(s).retrieve(MIXED, where=Scope(collections=("notes",)))
    assert len(scoped) == 2 and {p.chunk.collection for p in scoped} == {"notes"}
    assert "Ada Lovell" in scoped[0].chunk.text
    if hybrid:
        assert scoped[0].lexical_score, "BM25 found the notes' row although news rows score higher"
    folder = library.index_dir.parent / "docs" / "reports"  # an absolute folder names what is in it
    in_folder = Pipeline.from_settings(s).retrieve(MIXED, where=Scope(paths=(str(folder),)))
    assert {p.chunk.path.rsplit("/", 1)[-1] for p in in_folder} == {"summit.pdf"}


def assert_scoped_abstains_and_unscoped_answers(s: Settings) -> None:
    scoped = ask(MEETING, s, where=Scope(collections=("notes",)))
    assert scoped.abstained, scoped.text
    assert scoped.passages and {p.chunk.collection for p in scoped.passages} == {"notes"}
    assert scoped.scope == Scope(collections=("notes",)) and answer_dict(scoped)["scope"]["collections"] == [
        "notes"
    ]
    unscoped = ask(MEETING, s)
    assert not unscoped.abstained and "50 minutes" in unscoped.text
    assert any("50 minutes" in c.passage.chunk.text for c in unscoped.citations)
    assert unscoped.scope is None


def test_a_scoped_question_abstains_where_the_unscoped_one_answers(library):
    assert_scoped_abstains_and_unscoped_answers(library)
    dated = ask(MEETING, library, where=Scope(until="2024-12-31"))
    assert dated.abstained and all(p.chunk.date <= "2024-12-31" for p in dated.passages)


def test_a_scoped_question_on_a_chroma_server(tmp_path):
    with chroma_server(tmp_path / "server") as (port, _):
        s = make_settings(tmp_path / "index").model_copy(
            update={"store": StoreSettings(backend="server", port=port, collection="scoped")}
        )
        ingest_library(make_library(tmp_path / "docs"), s)
        assert not (tmp_path / "index" / "chroma").exists(), "vectors went to the server"
        dense = Pipeline.from_settings(narrow(s, top_k=2, candidates=2, hybrid=False))
        assert {p.chunk.collection for p in dense.retrieve(MIXED)} == {"news"}
        scoped = dense.retrieve(MIXED, where=Scope(collections=("notes",)))
        assert len(scoped) == 2 and {p.chunk.collection for p in scoped} == {"notes"}, "the server filters"
        assert_scoped_abstains_and_unscoped_answers(s)


# --- collections and older indexes: metadata rewrites, never re-embedding -------------------------


class CountingEmbedder:
    """The real embedder, counting the texts it embeds."""

    def __init__(self, real):  # type: ignore[no-untyped-def]
        self.real, self.embedded = real, 0

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self.real, name)

    def embed(self, texts):  # type: ignore[no-untyped-def]
        self.embedded += len(texts)
        return self.real.embed(texts)


def test_a_new_collection_rewrites_metadata_without_embedding(tmp_path):
    folders = make_library(tmp_path / "docs")
    s = make_settings(tmp_path / "index")
    ingest([folders["notes"]], s, show_bar=False, collection="notes")
    counting = CountingEmbedder(shared_embedder(s.embed))
    p = Pipeline(s, embedder=counting)
    moved = p.ingest([folders["notes"]], show_bar=False, collection="archive")
    assert moved.chunks_embedded == 0 and counting.embedded == 0
    assert {i.collection for i in list_documents(s)} == {"archive"}
    assert check_index(s).clean, "the vectors' metadata says archive too"
    found = p.retrieve("Who planted the apple trees?", where=Scope(collections=("archive",)))
    assert found and all(x.chunk.collection == "archive" for x in found)
    with pytest.raises(ScopeError, match="No indexed document matches"):
        p.retrieve("apple trees", where=Scope(collections=("notes",)))
    p.ingest([folders["notes"]], show_bar=False)
    assert {i.collection for i in list_documents(s)} == {"archive"}, "no --collection keeps theirs"
    p.ingest([folders["notes"]], show_bar=False, collection="")
    assert {i.collection for i in list_documents(s)} == {""}
    with pytest.raises(ScopeError, match="Invalid collection name"):
        p.ingest([folders["notes"]], show_bar=False, collection="../etc")


def downgrade(s: Settings) -> None:
    """Make the index look as rag wrote it before schema 3: no page, section or collection anywhere."""
    with Pipeline.from_settings(s).index.writing() as store:
        col = store._col  # type: ignore[attr-defined]
        rows = col.get(include=["embeddings", "documents", "metadatas"])
        col.delete(ids=rows["ids"])
        old = [
            {k: v for k, v in m.items() if k not in ("page", "section", "collection")}
            for m in rows["metadatas"]
        ]
        col.add(ids=rows["ids"], embeddings=rows["embeddings"], documents=rows["documents"], metadatas=old)
    raw = json.loads((s.index_dir / MANIFEST).read_text())
    raw["schema"] = 2
    for doc in raw["documents"].values():
        for key in ("collection", "pages", "sections"):
            doc.pop(key)
    (s.index_dir / MANIFEST).write_text(json.dumps(raw))


@pytest.mark.parametrize("how", ["check --repair", "ingest"])
def test_an_older_index_is_upgraded_without_embedding(tmp_path, how):
    folders = make_library(tmp_path / "docs")
    s = make_settings(tmp_path / "index")
    ingest([folders["reports"], folders["notes"]], s, show_bar=False, collection="mine")
    ids = sorted(Manifest.load(s.index_dir).chunk_ids())
    downgrade(s)
    before = Pipeline.from_settings(s).retrieve(QUESTION)
    assert before[0].chunk.page is None, "an older index still answers, without pages"
    with pytest.raises(ScopeError, match="rag check --repair"):
        Pipeline.from_settings(s).retrieve(QUESTION, where=Scope(paths=("*.pdf",)))
    assert check_index(s).outdated_metadata

    counting = CountingEmbedder(shared_embedder(s.embed))
    p = Pipeline(s, embedder=counting)
    if how == "ingest":
        assert p.ingest([folders["notes"]], show_bar=False).chunks_embedded == 0
    else:
        assert any("older index" in r for r in p.check(repair=True).repairs)
    assert counting.embedded == 0, "nothing was embedded again"
    assert check_index(s).clean
    manifest = Manifest.load(s.index_dir)
    assert manifest.schema == SCHEMA and sorted(manifest.chunk_ids()) == ids, "same chunks, same ids"
    after = p.retrieve(QUESTION, where=Scope(paths=("*.pdf",)))
    assert after[0].chunk.page == ANSWER_PAGE and "NATO endorsed" in after[0].chunk.text
    orchard = p.retrieve("Who planted the apple trees?", where=Scope(titles=("orchard",)))
    assert orchard[0].chunk.section == "Orchard notes"


# --- the command line -----------------------------------------------------------------------------


@pytest.mark.heavy  # minutes of subprocesses: CI's heavy tier keeps the default under 12 min
def test_cli_collections_scopes_pages_and_markdown(tmp_path):
    from test_cli import run

    folders = make_library(tmp_path / "docs")
    index = tmp_path / "idx"
    for name in ("reports", "notes"):
        done = run("ingest", str(folders[name]), "--collection", name, env_index=index, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    assert "[reports]" in run("docs", env_index=index, cwd=tmp_path).stdout

    def ask_cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run("ask", "--as-of", AS_OF, *args, QUESTION, env_index=index, cwd=tmp_path)

    answer = json.loads(ask_cli("--json").stdout)
    assert not answer["abstained"], answer["abstain_reason"]
    cite = answer["citations"][0]
    assert cite["page"] == ANSWER_PAGE and cite["doc"].endswith("summit.pdf") and cite["section"] is None
    assert cite["collection"] == "reports" and "NATO endorsed" in cite["text"]
    shown = ask_cli().stdout
    assert f"docs/reports/summit.pdf, p. {ANSWER_PAGE}" in shown, shown
    markdown = ask_cli("--markdown").stdout
    assert "[^1]" in markdown.split("\n\n")[1], markdown
    assert (
        f"[^1]: Alliance summit report (2025-06-26), p. {ANSWER_PAGE}, `docs/reports/summit.pdf`" in markdown
    )

    scoped = json.loads(ask_cli("--json", "--in", "docs/notes/*", "--until", "2024-12-31").stdout)
    assert scoped["abstained"] and scoped["scope"]["paths"] == ["docs/notes/*"]
    assert {p["collection"] for p in scoped["passages"]} == {"notes"}
    shown = ask_cli("--collection", "notes").stdout
    closest = shown.split("Closest passages:\n")[1].split("\n\n")[0].splitlines()
    assert len(closest) == 3 and all(line.startswith("  [") for line in closest), "one line per passage"
    assert "§ Orchard notes" in shown and shown.rstrip().endswith("Searched only collection notes."), shown
    bad = ask_cli("--since", "2025-13-01")
    assert bad.returncode == 2 and "2025-06-06" in bad.stderr
