"""The `rag` command as a user runs it (a real subprocess, real index in a tmp folder)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli_env

RAG = str(Path(sys.executable).with_name("rag"))


def run(*args: str, env_index: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RAG, *args], capture_output=True, text=True, env=cli_env(env_index, cwd, **env), cwd=cwd, timeout=300
    )


@pytest.mark.heavy  # minutes of subprocesses: CI's heavy tier keeps the default under 12 min
def test_cli_ingest_ask_json_and_errors(corpus, tmp_path):
    index = tmp_path / "idx"
    first = run("ingest", str(corpus), "--json", env_index=index, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["documents_seen"] == 3 and report["chunks_embedded"] > 10
    again = json.loads(run("ingest", str(corpus), "--json", env_index=index, cwd=tmp_path).stdout)
    assert again["chunks_embedded"] == 0 and again["chunks_skipped"] == report["chunks_embedded"]

    out = run(
        "ask",
        "--json",
        "How long did the meeting between Zelenskyy and Trump last?",
        env_index=index,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert set(answer) >= {"answer", "abstained", "citations", "passages", "timings"}
    cite = answer["citations"][0]
    assert set(cite) >= {"n", "doc", "title", "date", "start", "end", "text"}
    assert "50 minutes" in cite["text"] and cite["date"] == "2025-06-25"

    kyiv = json.loads(
        run("ask", "--json", "What is the population of Kyiv?", env_index=index, cwd=tmp_path).stdout
    )
    assert kyiv["abstained"] is True

    readable = run(
        "ask", "How long did the meeting between Zelenskyy and Trump last?", env_index=index, cwd=tmp_path
    )
    assert "Sources:" in readable.stdout and "[1]" in readable.stdout

    docs = run("docs", env_index=index, cwd=tmp_path)
    assert "3 documents" in docs.stdout


def test_cli_errors_exit_2_with_the_fix(tmp_path):
    missing = run("ask", "anything?", env_index=tmp_path / "none", cwd=tmp_path)
    assert missing.returncode == 2 and "rag ingest" in missing.stderr
    empty = run("ask", "  ", env_index=tmp_path / "none", cwd=tmp_path)
    assert empty.returncode == 2 and "empty" in empty.stderr
    bad_cfg = run("--config", "nope.toml", "docs", env_index=tmp_path, cwd=tmp_path)
    assert bad_cfg.returncode == 2 and "does not exist" in bad_cfg.stderr


@pytest.mark.heavy  # minutes of subprocesses: CI's heavy tier keeps the default under 12 min
def test_toml_settings_file(corpus, tmp_path):
    (tmp_path / "rag.toml").write_text('[retrieve]\ntop_k = 2\n[model]\nbundled = "smollm2-135m"\n')
    index = tmp_path / "idx"
    run("ingest", str(corpus), env_index=index, cwd=tmp_path)
    out = run("ask", "--json", "How long did the meeting last?", env_index=index, cwd=tmp_path)
    assert len(json.loads(out.stdout)["passages"]) == 2


@pytest.mark.heavy  # minutes of subprocesses: CI's heavy tier keeps the default under 12 min
def test_rebuild_after_an_embedder_mismatch(corpus, tmp_path):
    index = tmp_path / "idx"
    run("ingest", str(corpus), env_index=index, cwd=tmp_path)
    manifest = index / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"all-MiniLM-L6-v2"', '"old-model"'))
    refused = run("ingest", str(corpus), env_index=index, cwd=tmp_path)
    assert refused.returncode == 2 and "--rebuild" in refused.stderr
    rebuilt = run("ingest", str(corpus), "--rebuild", "--json", env_index=index, cwd=tmp_path)
    assert rebuilt.returncode == 0, rebuilt.stderr
    report = json.loads(rebuilt.stdout)
    assert report["chunks_embedded"] > 10 and report["chunks_skipped"] == 0
    docs = run("docs", env_index=index, cwd=tmp_path)
    assert "3 documents" in docs.stdout


def test_invalid_settings_name_the_value_to_fix(tmp_path):
    bad_env = subprocess.run(
        [RAG, "docs"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "RAG_RETRIEVE__TOP_K": "many"},
    )
    assert (
        bad_env.returncode == 2 and "retrieve.top_k" in bad_env.stderr and "Traceback" not in bad_env.stderr
    )
    (tmp_path / "rag.toml").write_text("[retrieve\ntop_k = 2\n")
    bad_toml = run("docs", env_index=tmp_path / "idx", cwd=tmp_path)
    assert bad_toml.returncode == 2 and "not valid TOML" in bad_toml.stderr


def test_ingest_exits_3_when_files_failed_and_says_why_on_its_own_lines(corpus, tmp_path):
    (corpus / "corrupt.pdf").write_bytes(b"%PDF-1.7\n garbage")
    (corpus / "empty.html").write_text("<html><head><script>start()</script></head><body> </body></html>")
    (corpus / "moved.txt").symlink_to(tmp_path / "nowhere.txt")
    index = tmp_path / "idx"
    failed = run("ingest", str(corpus), env_index=index, cwd=tmp_path)
    assert failed.returncode == 3, failed.stderr
    lines = failed.stderr.splitlines()
    assert not [x for x in lines if "EOF marker" in x and not x.startswith("  skipped:")], "pypdf printed"
    assert any(x.startswith("  skipped:") and "corrupt.pdf" in x and "EOF marker" in x for x in lines)
    assert any("empty.html: no text found in the HTML" in x for x in lines)
    assert any("moved.txt: broken symbolic link" in x for x in lines)
    assert "3 documents" in run("docs", env_index=index, cwd=tmp_path).stdout, "the rest was ingested"

    for bad in ("corrupt.pdf", "empty.html", "moved.txt"):
        (corpus / bad).unlink()
    (corpus / "latin.txt").write_bytes("Crème brûlée costs 7 euros at the Orchard café.".encode("cp1252"))
    warned = run("ingest", str(corpus), env_index=index, cwd=tmp_path)
    assert warned.returncode == 0, "a warning is not a failure"
    assert "warning:" in warned.stderr and "cp1252" in warned.stderr


@pytest.mark.heavy  # minutes of subprocesses: CI's heavy tier keeps the default under 12 min
def test_ask_and_docs_print_no_terminal_escapes_from_a_document(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notice.txt").write_text(
        "Harbour notice\x1b]0;pwned\x07\x1b[2J\x1b[H\n\n"
        "The ferry to Kestrel Point leaves at 9:40 every morning.\x1b]2;owned\x1b\\ "
        "The fare is 12 euros.\r\x1bc\n"
    )
    index = tmp_path / "idx"
    assert run("ingest", str(docs), env_index=index, cwd=tmp_path).returncode == 0
    asked = run("ask", "When does the ferry to Kestrel Point leave?", env_index=index, cwd=tmp_path)
    listed = run("docs", env_index=index, cwd=tmp_path)
    assert asked.returncode == 0, asked.stderr
    assert "Kestrel Point" in asked.stdout and "Harbour notice" in listed.stdout
    for out in (asked.stdout, asked.stderr, listed.stdout):
        assert not set(out) & {"\x1b", "\x07", "\r"}, repr(out)
