import json
import shutil
import subprocess
import sys

import pytest
from conftest import SEED, cli_env

from rag import ingest, list_documents, remove_document
from rag.core.errors import EmbedderMismatchError
from rag.index.manifest import Manifest


def test_ingest_folder_all_formats(corpus, settings):
    report = ingest([corpus], settings, show_bar=False)
    assert report.documents_seen == 3 and report.problems == ()
    assert report.chunks_embedded > 10
    docs = {d.path.split("/")[-1]: d for d in list_documents(settings)}
    assert docs["orchard.md"].title == "Orchard notes"
    assert docs["lighthouse.html"].date == "2023-09-14"
    assert docs[SEED.name].date == "2025-06-25"


def test_reingest_unchanged_embeds_nothing(corpus, settings):
    first = ingest([corpus], settings, show_bar=False)
    second = ingest([corpus], settings, show_bar=False)
    assert second.chunks_embedded == 0 and second.chunks_removed == 0
    assert second.chunks_skipped == first.chunks_embedded


def test_unchanged_reingest_loads_neither_chroma_nor_torch(corpus, settings):
    """A re-ingest that finds nothing changed answers from the manifest and the files' hashes."""
    first = ingest([corpus], settings, show_bar=False)
    code = (
        "import sys; from pathlib import Path; from rag import ingest; "
        "from rag.core.settings import Settings; "
        f"r = ingest([Path({str(corpus)!r})], Settings(index_dir=Path({str(settings.index_dir)!r})), "
        "show_bar=False); "
        "print(r.chunks_skipped, r.chunks_embedded, 'chromadb' in sys.modules, 'torch' in sys.modules)"
    )
    env = cli_env(settings.index_dir, corpus.parent)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.split() == [str(first.chunks_embedded), "0", "False", "False"], out.stderr
    (corpus / "orchard.md").write_text("# Changed\n\nA new paragraph about the budget.\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    _, embedded, chroma, _ = out.stdout.split()
    assert int(embedded) > 0 and chroma == "True", out.stderr  # a change takes the full path


def test_changed_file_reembeds_only_changed_chunks(corpus, settings):
    first = ingest([corpus], settings, show_bar=False)
    seed = corpus / SEED.name
    text = seed.read_text()
    old = "Two people were killed in a Russian attack on the city of Samara."
    assert old in text
    seed.write_text(text.replace(old, "Three people were hurt in a drone attack on the city of Samara."))
    second = ingest([corpus], settings, show_bar=False)
    assert second.chunks_embedded == 1
    assert second.chunks_removed == 1
    assert second.chunks_skipped == first.chunks_embedded - 1
    manifest = Manifest.load(settings.index_dir)
    total = sum(len(e.chunks) for e in manifest.documents.values())
    assert total == first.chunks_embedded


def test_edit_near_top_keeps_later_chunk_spans_exact(corpus, settings):
    from rag.pipeline import Pipeline

    ingest([corpus], settings, show_bar=False)
    seed = corpus / SEED.name
    seed.write_text(seed.read_text().replace("Ukrainian President", "Ukraine's President", 1))
    report = ingest([corpus], settings, show_bar=False)
    assert report.chunks_embedded == 1
    text = seed.read_text()
    passages = Pipeline.from_settings(settings).retrieve("What spending target did NATO endorse?")
    body = text[text.index("Ukraine's") :]
    for p in passages:
        if p.chunk.path.endswith(SEED.name):
            assert body[p.chunk.start : p.chunk.end] == p.chunk.text


def test_prune_removes_chunks_of_deleted_files(corpus, settings):
    ingest([corpus], settings, show_bar=False)
    orchard = next(d for d in list_documents(settings) if d.path.endswith("orchard.md"))
    (corpus / "orchard.md").unlink()
    kept = ingest([corpus], settings, show_bar=False)
    assert kept.chunks_removed == 0 and len(list_documents(settings)) == 3
    pruned = ingest([corpus], settings, prune=True, show_bar=False)
    assert pruned.documents_removed == 1 and pruned.chunks_removed == orchard.chunks
    assert len(list_documents(settings)) == 2


def test_remove_document(corpus, settings):
    ingest([corpus], settings, show_bar=False)
    doc = next(d for d in list_documents(settings) if d.path.endswith("lighthouse.html"))
    assert remove_document(doc.doc_id, settings) == doc.chunks
    assert doc.doc_id not in {d.doc_id for d in list_documents(settings)}


def test_embedder_mismatch_is_refused_with_rebuild_hint(corpus, settings):
    ingest([corpus], settings, show_bar=False)
    path = settings.index_dir / "manifest.json"
    raw = json.loads(path.read_text())
    raw["embedder"], raw["dim"] = "other-model", 768
    path.write_text(json.dumps(raw))
    with pytest.raises(EmbedderMismatchError, match="--rebuild"):
        ingest([corpus], settings, show_bar=False)


def test_bad_files_are_reported_and_the_rest_ingested(corpus, settings):
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.txt").write_bytes(b"\x00\xff" * 500)
    (corpus / "latin.txt").write_bytes("Crème brûlée costs 7 euros at the Orchard café.".encode("cp1252"))
    (corpus / "bad.txt").write_bytes(b"\x81\x8d\x8f\x90\x9d" * 10)
    (corpus / "corrupt.pdf").write_bytes(b"%PDF-1.7\n garbage")
    report = ingest([corpus, corpus / "missing.txt"], settings, show_bar=False)
    reasons = {p.path.split("/")[-1]: p.reason for p in report.problems}
    assert "empty" in reasons["empty.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "cp1252" in reasons["latin.txt"] and reasons["latin.txt"].startswith("warning")
    assert "UTF-8" in reasons["bad.txt"]
    assert "PDF" in reasons["corrupt.pdf"]
    assert "does not exist" in reasons["missing.txt"]
    paths = {d.path.split("/")[-1] for d in list_documents(settings)}
    assert paths == {SEED.name, "orchard.md", "lighthouse.html", "latin.txt"}


def test_damaged_manifest_says_how_to_rebuild(corpus, settings):
    from rag.core.errors import RagError

    ingest([corpus], settings, show_bar=False)
    (settings.index_dir / "manifest.json").write_text("{not json")
    with pytest.raises(RagError, match="rebuild"):
        ingest([corpus], settings, show_bar=False)


def test_a_copied_index_answers_from_its_new_place(corpus, settings, tmp_path):
    """The index folder is self-contained: a copy retrieves the same passages."""
    from rag.pipeline import Pipeline

    ingest([corpus], settings, show_bar=False)
    copy = tmp_path / "copy"
    shutil.copytree(settings.index_dir, copy)
    moved = settings.model_copy(update={"index_dir": copy})
    question = "Who planted the Bramley apple trees?"
    there = Pipeline.from_settings(moved).retrieve(question)
    assert [p.chunk.id for p in there] == [
        p.chunk.id for p in Pipeline.from_settings(settings).retrieve(question)
    ]
    assert "Ada Lovell" in there[0].chunk.text


def test_second_writer_is_refused_while_the_index_is_locked(corpus, settings):
    from rag.core.errors import RagError
    from rag.ingestion.writer import index_lock

    with (
        index_lock(settings.index_dir),
        pytest.raises(RagError, match="Another process"),
        index_lock(settings.index_dir, timeout=0.2),
    ):
        pass
    ingest([corpus], settings, show_bar=False)  # the lock is free again


def test_huge_file_is_skipped_with_the_reason(corpus, settings, monkeypatch):
    import rag.ingestion.plan

    monkeypatch.setattr(rag.ingestion.plan, "MAX_FILE_BYTES", 2000)
    report = ingest([corpus], settings, show_bar=False)
    reasons = {p.path.split("/")[-1]: p.reason for p in report.problems}
    assert "larger than" in reasons[SEED.name]
    assert {d.path.split("/")[-1] for d in list_documents(settings)} == {"orchard.md", "lighthouse.html"}


def test_every_stored_chunk_fits_the_embedder_window(tmp_path, settings):
    from rag.core.settings import ChunkSettings
    from rag.pipeline import Pipeline

    long = " ".join(f"Sentence {i} is about the harbour, its ferries and {i} boats." for i in range(120))
    (tmp_path / "long.txt").write_text(long)
    small = settings.model_copy(update={"chunk": ChunkSettings(max_tokens=64, overlap_tokens=8)})
    ingest([tmp_path / "long.txt"], small, show_bar=False)
    pipe = Pipeline.from_settings(small)
    with pipe.index.use() as (store, _):
        chunks = store.all_chunks()
    embedder = pipe.embedder
    assert len(chunks) > 10
    assert max(embedder.count_tokens(c.text) for c in chunks) <= 64


def test_bad_chunk_settings_say_the_fix():
    from pydantic import ValidationError

    from rag.core.settings import ChunkSettings

    with pytest.raises(ValidationError, match="RAG_CHUNK__OVERLAP_TOKENS"):
        ChunkSettings(max_tokens=64, overlap_tokens=40)


def test_a_parser_crash_skips_only_that_file(corpus, settings):
    import zipfile

    with zipfile.ZipFile(corpus / "broken.docx", "w") as z:
        z.writestr("word/document.xml", "<w:document><unclosed>")
    report = ingest([corpus], settings, show_bar=False)
    reasons = {p.path.split("/")[-1]: p.reason for p in report.problems}
    assert "broken.docx" in reasons
    assert len(list_documents(settings)) == 3


def test_opening_the_index_with_a_users_own_embedder_is_refused(corpus, settings, tmp_path):
    """A model folder given by path gets its own identity; the index built with the bundled one refuses it."""
    from rag.core.settings import EmbedSettings
    from rag.models.bundled import embedder_path

    ingest([corpus], settings, show_bar=False)
    own = tmp_path / "my-minilm"
    own.symlink_to(embedder_path(), target_is_directory=True)
    other = settings.model_copy(update={"embed": EmbedSettings(model_path=str(own))})
    with pytest.raises(EmbedderMismatchError, match="all-MiniLM-L6-v2"):
        ingest([corpus], other, show_bar=False)


def test_file_spans_point_at_the_text_in_the_source_file(corpus, settings):
    from rag.pipeline import Pipeline

    ingest([corpus], settings, show_bar=False)
    with Pipeline.from_settings(settings).index.use() as (store, _):
        chunks = store.all_chunks()
    raw = {p.name: p.read_text() for p in corpus.iterdir()}
    checked = 0
    for chunk in chunks:
        name = chunk.path.split("/")[-1]
        if name in (SEED.name, "orchard.md"):  # plain-text formats: the file holds the text verbatim
            start, end = chunk.file_span
            assert raw[name][start:end] == chunk.text
            checked += 1
    assert checked > 10
    assert any(c.file_offset > 0 for c in chunks), "the date header / front matter is skipped"


def test_text_over_the_size_limit_is_refused_with_the_setting_to_raise(corpus, settings):
    from rag.core.settings import ChunkSettings

    small = settings.model_copy(update={"chunk": ChunkSettings(max_text_mb=0.002)})  # the seed is ~4 KB
    report = ingest([corpus], small, show_bar=False)
    reasons = {p.path.split("/")[-1]: p.reason for p in report.problems}
    assert "over the limit of 0.002 MB" in reasons[SEED.name]
    assert "RAG_CHUNK__MAX_TEXT_MB=1" in reasons[SEED.name]
    assert {d.path.split("/")[-1] for d in list_documents(small)} == {"orchard.md", "lighthouse.html"}


def test_a_chunker_crash_skips_only_that_file(corpus, settings, monkeypatch):
    """Any exception while chunking one file is that file's problem line; the run goes on."""
    import rag.ingestion.plan

    real = rag.ingestion.plan.chunk_spans

    def chunker(text, *args, **kwargs):  # type: ignore[no-untyped-def]
        if "TRIGGER" in text:
            raise TimeoutError("regex match timed out")  # what nltk's guard raised on a 20 MB line
        return real(text, *args, **kwargs)

    monkeypatch.setattr(rag.ingestion.plan, "chunk_spans", chunker)
    (corpus / "trigger.txt").write_text("This file makes the chunker fail: TRIGGER.")
    report = ingest([corpus], settings, show_bar=False)
    reasons = {p.path.split("/")[-1]: p.reason for p in report.problems}
    assert "TimeoutError: regex match timed out" in reasons["trigger.txt"]
    assert len(list_documents(settings)) == 3


def test_broken_symbolic_links_are_reported(corpus, settings, tmp_path):
    (corpus / "moved.txt").symlink_to(tmp_path / "nowhere" / "moved.txt")
    given = tmp_path / "given.md"
    given.symlink_to(tmp_path / "gone.md")
    report = ingest([corpus, given], settings, show_bar=False)
    reasons = {p.path.split("/")[-1]: p.reason for p in report.problems}
    assert reasons["moved.txt"].startswith("broken symbolic link")
    assert str(tmp_path / "nowhere" / "moved.txt") in reasons["moved.txt"]
    assert reasons["given.md"].startswith("broken symbolic link")
    assert len(list_documents(settings)) == 3


def _stored_vs_committed(settings):
    """Return (stored chunk id -> (start, end), manifest chunk id -> (start, end)) for one index."""
    from rag.pipeline import Pipeline

    manifest = Manifest.load(settings.index_dir)
    committed = {cid: tuple(s) for e in manifest.documents.values() for cid, s in e.chunks.items()}
    with Pipeline(settings).index.writing() as store:
        stored = {c.id: (c.start, c.end) for c in store.all_chunks()}
        store.close()
    return stored, committed


def test_a_crash_between_span_updates_and_the_commit_is_undone(corpus, settings, monkeypatch, tmp_path):
    """Moved chunks get new spans in Chroma before the commit; a crash there must not leave them."""
    import rag.ingestion.writer
    from rag.pipeline import Pipeline

    ingest([corpus], settings, show_bar=False)
    seed = corpus / SEED.name
    seed.write_text(seed.read_text().replace("\n\n", "\n\nA new paragraph moves every later chunk.\n\n", 1))

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt  # the process dies after writing vectors and spans, before the commit

    monkeypatch.setattr(rag.ingestion.writer, "commit", crash)
    with pytest.raises(KeyboardInterrupt):
        Pipeline(settings).ingest([corpus], show_bar=False)
    monkeypatch.undo()
    other = tmp_path / "other"
    other.mkdir()
    (other / "note.txt").write_text("The ferry to Kestrel Point leaves at nine.")
    Pipeline(settings).ingest([other], show_bar=False)  # any ingest recovers first
    stored, committed = _stored_vs_committed(settings)
    assert stored == committed


def test_a_crash_inside_a_rebuild_leaves_no_vectorless_manifest(corpus, settings, monkeypatch):
    import rag.ingestion.recovery
    from rag.pipeline import Pipeline

    ingest([corpus], settings, show_bar=False)

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(rag.ingestion.recovery, "remove_versions", crash)  # dies after the store was cleared
    with pytest.raises(KeyboardInterrupt):
        Pipeline(settings).ingest([corpus], show_bar=False, rebuild=True)
    monkeypatch.undo()
    report = Pipeline(settings).ingest([corpus], show_bar=False)
    stored, committed = _stored_vs_committed(settings)
    assert stored == committed and report.chunks_embedded == len(committed) > 10


def test_a_new_index_searches_hnsw_with_ef_200(corpus, settings):
    """bench_scale: recall@10 at 100k chunks 0.95 with Chroma's default 100, 0.98 with 200, same p50."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    ingest([corpus], settings=settings)
    client = chromadb.PersistentClient(
        path=str(settings.index_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    hnsw = client.get_collection(settings.store.collection).configuration_json["hnsw"]
    assert hnsw["ef_search"] == 200 and hnsw["space"] == "cosine"
