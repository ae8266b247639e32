"""Faults injected into a real index (Chroma on disk, BM25, manifest), recovered with rag's own commands.

Findings 3 to 6 of issue 18, and the faults around them: the vector store file garbled, truncated or
deleted; the manifest deleted, garbled or replaced by an older copy; vectors no document owns; the
BM25 folder deleted or garbled; another collection name. Each test asserts that the command names
the part that is damaged (one error line with the cause and the fix), that no question is answered
from a chunk the manifest does not commit, that the documented command restores an index whose
three stores agree (read by this file's own code), and that nothing that could be kept was lost.
One test per finding runs in the default tier; the variants of each fault run in the heavy tier.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from faults import Index, assert_one_line_error, build, garble

from rag.components import close_index
from rag.core.types import Chunk
from rag.pipeline import Pipeline

SQLITE = Path("chroma") / "chroma.sqlite3"


@pytest.fixture
def index(tmp_path: Path) -> Index:
    return build(tmp_path)


def test_finding3_garbled_store_header_rebuild_keeps_it_aside_and_starts_empty(index):
    before = index.listed()
    garble(index.dir / SQLITE, 0, 100)
    check = index.rag("check")
    assert check.returncode == 1 and "(store_damaged)" in check.stdout, check.stdout + check.stderr
    assert "chroma.sqlite3 is damaged" in check.stdout and "rag check --repair" in check.stdout
    ask = index.rag("ask", "What spending target did NATO endorse?")
    assert_one_line_error(ask, "chroma.sqlite3 is damaged", "rag check --repair", "--rebuild")
    rebuilt = index.rag("ingest", "--rebuild", "docs")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    aside = [p for p in index.dir.iterdir() if p.name.startswith("chroma.damaged-")]
    assert len(aside) == 1 and str(aside[0]) in rebuilt.stderr, "says where the damaged store went"
    assert (aside[0] / "chroma.sqlite3").stat().st_size > 0, "moved aside, not deleted"
    assert index.listed() == before
    index.assert_consistent()
    assert index.retrieved() <= index.listed() and index.retrieved()


@pytest.mark.heavy
@pytest.mark.parametrize("fault", ["garbled mid-file", "truncated"])
def test_finding3_damaged_store_check_repair_reembeds_every_chunk_from_the_files(index, fault):
    before = index.listed()
    path = index.dir / SQLITE
    if fault == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        garble(path, path.stat().st_size // 3, 64 * 1024)
    check = index.rag("check")
    assert check.returncode == 1 and "(store_damaged)" in check.stdout, check.stdout + check.stderr
    repaired = index.rag("check", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "kept it as" in repaired.stdout and "re-embedded" in repaired.stdout
    assert index.listed() == before, "nothing lost: every chunk was re-embedded from its file"
    index.assert_consistent()


@pytest.mark.heavy
def test_a_deleted_store_folder_is_named_as_missing_and_repaired(index):
    before = index.listed()
    shutil.rmtree(index.dir / "chroma")
    ask = index.rag("ask", "Who planted the Bramley apple trees?")
    assert_one_line_error(ask, "is missing", "rag check --repair")
    assert not (index.dir / "chroma").exists(), "a question does not create an empty store"
    check = index.rag("check")
    assert check.returncode == 1 and "(store_missing)" in check.stdout, check.stdout
    assert index.rag("check", "--repair").returncode == 0
    assert index.listed() == before
    index.assert_consistent()


def test_finding4_deleted_manifest_is_rebuilt_from_the_store_before_any_vector_goes(index):
    original = index.manifest()
    vectors = index.vectors()
    (index.dir / "manifest.json").unlink()
    check = index.rag("check")
    assert check.returncode == 1 and "(manifest_missing)" in check.stdout, check.stdout
    assert "orphan_vectors" not in check.stdout, "the manifest is named, not 16 orphans"
    ask = index.rag("ask", "Who planted the Bramley apple trees?")
    assert_one_line_error(ask, "manifest", "is missing", "rag check --repair")
    repaired = index.rag("check", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert index.vectors() == vectors, "no vector was deleted"
    rebuilt = index.manifest()
    assert rebuilt["documents"] == original["documents"], "paths, hashes, spans, pages: as they were"
    index.assert_consistent()


@pytest.mark.heavy
def test_a_lost_manifest_keeps_the_chunks_of_changed_and_deleted_files(index):
    vectors = index.vectors()
    (index.dir / "manifest.json").unlink()
    (index.docs / "orchard.md").write_text(
        (index.docs / "orchard.md").read_text() + "\nPears came in 2011.\n"
    )
    (index.docs / "lighthouse.html").unlink()
    assert index.rag("check", "--repair").returncode == 0
    assert index.vectors() == vectors == index.listed(), "every stored chunk is placed, none deleted"
    gone = next(d for d, e in index.manifest()["documents"].items() if e["path"].endswith("lighthouse.html"))
    assert any(i.startswith(gone) for i in index.retrieved("lighthouse")), "its chunks still answer"
    index.assert_consistent()
    redo = index.rag("ingest", "--prune", "docs", "--json")
    assert redo.returncode == 0 and json.loads(redo.stdout)["documents_changed"] == 1, redo.stderr
    assert json.loads(redo.stdout)["documents_removed"] == 1, "--prune is the user's choice to drop it"
    index.assert_consistent()


def test_a_garbled_manifest_is_named_kept_aside_and_rebuilt(index):
    original = index.manifest()["documents"]
    garble(index.dir / "manifest.json", 10, 200)
    check = index.rag("check")
    assert check.returncode == 1 and "(manifest_damaged)" in check.stdout, check.stdout + check.stderr
    ingest = index.rag("ingest", "docs")
    assert_one_line_error(ingest, "manifest", "is damaged", "rag check --repair")
    repaired = index.rag("check", "--repair")
    assert repaired.returncode == 0 and "kept the damaged manifest as" in repaired.stdout
    assert list(index.dir.glob("manifest.json.damaged-*")), "the damaged file is kept"
    assert index.manifest()["documents"] == original
    index.assert_consistent()


@pytest.mark.heavy
def test_an_older_manifest_gets_back_the_documents_ingested_since(index):
    old = (index.dir / "manifest.json").read_text()
    extra = index.base / "more"
    extra.mkdir()
    (extra / "kiln.txt").write_text("The brick kiln at Harlow Ford fired 9,000 bricks a week in 1887.")
    assert index.rag("ingest", str(extra)).returncode == 0
    newer, vectors = index.manifest()["documents"], index.vectors()
    (index.dir / "manifest.json").write_text(old)  # a backup restored over the live manifest
    check = index.rag("check")
    assert check.returncode == 1 and "belong to 1 documents the manifest does not list" in check.stdout
    assert index.rag("check", "--repair").returncode == 0
    assert index.vectors() == vectors and index.manifest()["documents"] == newer
    index.assert_consistent()


def test_what_cannot_be_re_created_is_deleted_only_with_force(index):
    pipe = Pipeline.from_settings(index.settings)
    stray = Chunk("stray-1", "", 0, 20, "A row no document owns.")
    doc = next(d for d, e in index.manifest()["documents"].items() if e["path"].endswith("orchard.md"))
    orchard = next(i for i in index.listed() if i.startswith(doc))
    with pipe.index.writing() as store:
        store.upsert([stray], pipe.embedder.embed([stray.text]))
        store.delete([orchard])
    close_index(index.dir)
    (index.docs / "orchard.md").unlink()  # the vector and its file are both gone
    kept = index.rag("check", "--repair")
    assert kept.returncode == 1, kept.stdout + kept.stderr
    assert "(unplaced_vectors)" in kept.stdout and "(lost_chunks)" in kept.stdout
    assert "rag check --repair --force" in kept.stdout
    assert "stray-1" in index.vectors() and orchard in index.listed(), "kept until the user says so"
    forced = index.rag("check", "--repair", "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "stray-1" not in index.vectors() and orchard not in index.listed()
    index.assert_consistent()


def test_finding5_another_collection_name_is_an_error_naming_both(index):
    for command in (["ask", "Who planted the Bramley apple trees?"], ["check"], ["check", "--repair"]):
        result = index.rag(*command, RAG_STORE__COLLECTION="other")
        assert_one_line_error(result, "'rag'", "'other'")
    changed = index.docs / "orchard.md"
    changed.write_text(changed.read_text() + "\nPears came in 2011.\n")
    assert_one_line_error(index.rag("ingest", "docs", RAG_STORE__COLLECTION="other"), "'rag'", "'other'")
    assert index.collections() == {"rag"}, "no empty collection was created"
    index.assert_consistent()


def test_finding5_an_index_that_predates_the_record_names_the_collection_it_holds(index):
    data = index.manifest()
    data.pop("collection")
    (index.dir / "manifest.json").write_text(json.dumps(data))
    result = index.rag("ask", "Who planted the Bramley apple trees?", RAG_STORE__COLLECTION="other")
    assert_one_line_error(result, "'rag'", "'other'")
    assert index.collections() == {"rag"}


def test_finding6_a_deleted_bm25_folder_is_named_not_a_busy_index(index):
    shutil.rmtree(index.dir / index.manifest()["bm25"])
    ask = index.rag("ask", "Who planted the Bramley apple trees?")
    line = assert_one_line_error(ask, "BM25 folder", "is missing", "rag check --repair")
    assert "kept changing" not in line
    check = index.rag("check")
    assert check.returncode == 1 and "(bm25_version_missing)" in check.stdout
    assert index.rag("check", "--repair").returncode == 0
    index.assert_consistent()
    assert index.retrieved("orchard")


@pytest.mark.heavy
def test_a_garbled_bm25_folder_is_named_and_rebuilt(index):
    folder = index.dir / index.manifest()["bm25"]
    for f in folder.iterdir():
        if f.name != "ids.json":
            garble(f, 0, min(64, f.stat().st_size))
    check = index.rag("check")
    assert check.returncode == 1 and "(bm25_damaged)" in check.stdout, check.stdout + check.stderr
    ask = index.rag("ask", "Who planted the Bramley apple trees?")
    assert_one_line_error(ask, "BM25 folder", "is damaged", "rag check --repair")
    assert index.rag("check", "--repair").returncode == 0
    index.assert_consistent()
