"""Finding 7: each error names its real cause and the fix, on a line of its own.

A model file error is no longer printed after "Found 4 passages. Draft:" on the same line; a folder
given as the GGUF path is called a folder, not missing; a symbolic link loop is called a loop, not a
missing target; ``--since`` after ``--until`` names the inverted range instead of "no document matches".
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import NATO

from rag.cli.main import main
from rag.core.errors import ModelFileError
from rag.core.types import Scope
from rag.index.manifest import DocEntry, Manifest
from rag.ingestion.plan import find_files
from rag.models.bundled import BUNDLED, check_gguf, package_file
from rag.retrieval.scope import ScopeError, resolve


def _ask(index_dir: Path, *args: str, **env: str):  # type: ignore[no-untyped-def]
    env = {
        "RAG_MODEL__THREADS": "1",
        "RAG_MODEL__BUNDLED": "smollm2-135m",
        "RAG_MODEL__MAX_TOKENS": "16",
        **env,
    }
    return CliRunner().invoke(main, ["--index", str(index_dir), "ask", *args], env=env)


def _error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if "Error:" in line]
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    return lines[0]


def test_finding7_a_model_file_error_is_printed_on_a_line_of_its_own(seed_index, tmp_path):
    model = BUNDLED["smollm2-135m"]
    whole = package_file(*model.parts[0], model.install)
    cut = tmp_path / "cut.gguf"
    with whole.open("rb") as fh:
        cut.write_bytes(fh.read(2_000_000))
    result = _ask(seed_index.index_dir, NATO, RAG_MODEL__BACKEND="gguf", RAG_MODEL__PATH=str(cut))
    assert result.exit_code == 2, result.output
    assert "Found" in result.stderr, "the error comes after the passages were found"
    line = _error_line(result.stderr)
    assert "is incomplete" in line and "fetch the file again" in line


def test_finding7_a_folder_given_as_the_model_file_is_called_a_folder(seed_index, tmp_path):
    result = _ask(seed_index.index_dir, NATO, RAG_MODEL__BACKEND="gguf", RAG_MODEL__PATH=str(tmp_path))
    assert result.exit_code == 2, result.output
    line = _error_line(result.stderr)
    assert "is a folder" in line and "does not exist" not in line and ".gguf file in it" in line


@pytest.mark.fast
def test_finding7_check_gguf_tells_a_folder_from_a_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="is a folder"):
        check_gguf(tmp_path)
    with pytest.raises(ModelFileError, match="does not exist"):
        check_gguf(tmp_path / "nope.gguf")


@pytest.mark.fast
def test_finding7_a_symbolic_link_loop_is_called_a_loop(tmp_path):
    (tmp_path / "a.txt").symlink_to(tmp_path / "b.txt")
    (tmp_path / "b.txt").symlink_to(tmp_path / "a.txt")
    os.symlink(tmp_path / "gone.txt", tmp_path / "broken.txt")
    files, problems = find_files([tmp_path])
    reasons = {Path(p.path).name: p.reason for p in problems}
    assert files == []
    assert "symbolic link loop" in reasons["a.txt"] and "does not exist" not in reasons["a.txt"]
    assert "broken symbolic link" in reasons["broken.txt"] and "gone.txt" in reasons["broken.txt"]


@pytest.mark.fast
def test_finding7_since_after_until_names_the_inverted_range(tmp_path):
    manifest = Manifest("e", 4, {"d1": DocEntry("/x/a.txt", "a.txt", "h", "A", "2025-06-10", {"c": [0, 1]})})
    with pytest.raises(ScopeError, match=r"--since 2025-06-30 is after --until 2025-06-01"):
        resolve(Scope(since="2025-06-30", until="2025-06-01"), manifest, tmp_path)


def test_finding7_the_cli_says_the_range_is_inverted(seed_index):
    result = _ask(seed_index.index_dir, NATO, "--since", "2025-06-30", "--until", "2025-06-01")
    assert result.exit_code == 2, result.output
    line = _error_line(result.stderr)
    assert "inverted" in line and "no document matches" not in line
