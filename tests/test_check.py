"""`rag check` counts where Chroma, the manifest and BM25 disagree; `rag check --repair` fixes it."""

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from conftest import SEED, cli_env

from rag import ingest
from rag.api import check_index
from rag.index.manifest import Manifest
from rag.pipeline import Pipeline

RAG = str(Path(sys.executable).with_name("rag"))


def chunks_of(pipe: Pipeline, name: str):  # type: ignore[no-untyped-def]
    with pipe.index.writing() as store:
        return sorted((c for c in store.all_chunks() if c.path.endswith(name)), key=lambda c: c.start)


def test_check_counts_each_disagreement_and_repair_fixes_all(corpus, settings):
    ingest([corpus], settings, show_bar=False)
    assert check_index(settings).clean
    pipe = Pipeline.from_settings(settings)
    seed = chunks_of(pipe, SEED.name)
    with pipe.index.writing() as store:
        orphans = [replace(seed[0], id="orphan-a"), replace(seed[0], id="orphan-b")]
        store.upsert(orphans, pipe.embedder.embed([c.text for c in orphans]))
        store.delete([c.id for c in seed[:3]])
        store.update_spans([replace(seed[5], start=seed[5].start + 1)])
    index = settings.index_dir
    shutil.rmtree(index / Manifest.load(index).bm25)
    (index / "bm25.leftover").mkdir()
    (index / "ingest-journal.json").write_text("[]")

    found = check_index(settings)
    assert found.problems() == {
        "orphan_vectors": 2,
        "missing_vectors": 3,
        "span_mismatches": 1,
        "bm25_version_missing": 1,
        "stale_bm25_versions": 1,
        "unfinished_journal": 1,
    }
    fixed = check_index(settings, repair=True)
    assert fixed.clean, fixed.problems()
    assert any("re-embedded 3 missing chunks" in r for r in fixed.repairs), fixed.repairs
    assert check_index(settings).clean
    assert [(c.id, c.start, c.end) for c in chunks_of(pipe, SEED.name)] == [
        (c.id, c.start, c.end) for c in seed
    ]
    top = pipe.retrieve(seed[1].text)[0]
    assert top.chunk.id == seed[1].id, "the re-embedded vector is found by dense search"


def test_repair_forgets_vectorless_chunks_of_a_changed_file_and_ingest_redoes_it(corpus, settings):
    ingest([corpus], settings, show_bar=False)
    pipe = Pipeline.from_settings(settings)
    orchard = chunks_of(pipe, "orchard.md")
    with pipe.index.writing() as store:
        store.delete([orchard[0].id])
    (corpus / "orchard.md").write_text(
        (corpus / "orchard.md").read_text() + "\nThe pear trees came in 2011.\n"
    )
    assert check_index(settings).problems() == {"missing_vectors": 1}
    fixed = check_index(settings, repair=True)
    assert fixed.clean and any("changed or is gone" in r for r in fixed.repairs), fixed.repairs
    entry = next(
        e for e in Manifest.load(settings.index_dir).documents.values() if e.path.endswith("orchard.md")
    )
    assert entry.hash == "" and orchard[0].id not in entry.chunks
    report = ingest([corpus], settings, show_bar=False)
    assert report.documents_changed == 1 and report.chunks_embedded >= 1
    assert check_index(settings).clean


def test_bm25_rows_that_differ_from_the_manifest_are_counted_and_rebuilt(corpus, settings):
    ingest([corpus], settings, show_bar=False)
    ids_file = settings.index_dir / Manifest.load(settings.index_dir).bm25 / "ids.json"
    ids = json.loads(ids_file.read_text())
    ids_file.write_text(json.dumps([*ids[1:], "not-a-chunk", ids[2]]))
    assert check_index(settings).problems() == {"bm25_missing": 1, "bm25_extra": 2}
    assert check_index(settings, repair=True).clean


def test_cli_check_exit_codes_and_json(corpus, tmp_path):
    env = cli_env(tmp_path / "idx", tmp_path)

    def rag(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [RAG, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
        )

    assert rag("ingest", str(corpus)).returncode == 0
    clean = rag("check")
    assert clean.returncode == 0 and "Consistent" in clean.stdout, clean.stdout + clean.stderr
    (tmp_path / "idx" / "bm25.leftover").mkdir()
    (tmp_path / "idx" / "ingest-journal.json").write_text('["gone"]')
    found = rag("check")
    assert found.returncode == 1 and "rag check --repair" in found.stdout
    assert "old BM25 folders left behind (stale_bm25_versions)" in found.stdout
    repaired = rag("check", "--repair", "--json")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    result = json.loads(repaired.stdout)
    assert result["clean"] and result["problems"] == {}
    assert any("interrupted ingest" in r for r in result["repairs"]), result["repairs"]
    (tmp_path / "idx" / "manifest.json").write_text("{damaged")
    broken = rag("check")
    assert broken.returncode == 1 and "the manifest is damaged (manifest_damaged)" in broken.stdout
    assert "rag check --repair" in broken.stdout and not broken.stderr
    rebuilt = rag("check", "--repair")
    assert rebuilt.returncode == 0 and "Consistent" in rebuilt.stdout, rebuilt.stdout + rebuilt.stderr
    assert "kept the damaged manifest as" in rebuilt.stdout
    assert json.loads(rag("docs", "--json").stdout), "the documents are listed again"
