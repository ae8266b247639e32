"""A truncated, junk or unloadable GGUF file gives a ModelFileError that names the file and the fix."""

import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli_env

from rag.core.errors import ModelFileError
from rag.core.settings import ModelSettings
from rag.models.bundled import BUNDLED, package_file
from rag.models.chat import make_model

RAG = str(Path(sys.executable).with_name("rag"))


@pytest.fixture(scope="module")
def smollm2() -> Path:
    model = BUNDLED["smollm2-135m"]
    return package_file(*model.parts[0], model.install)


def load(path: Path):  # type: ignore[no-untyped-def]
    return make_model(ModelSettings(backend="gguf", path=str(path), n_ctx=512))


@pytest.fixture
def truncated(tmp_path, smollm2) -> Path:
    cut = tmp_path / "cut.gguf"
    with smollm2.open("rb") as src, cut.open("wb") as dst:
        dst.write(src.read(smollm2.stat().st_size // 2))
    return cut


def test_a_truncated_gguf_says_it_is_incomplete(truncated):
    with pytest.raises(ModelFileError, match="incomplete") as caught:
        load(truncated)
    assert str(truncated) in str(caught.value) and "fetch the file again" in str(caught.value)


def test_a_gguf_cut_by_one_byte_is_caught(tmp_path, smollm2):
    cut = tmp_path / "short.gguf"
    shutil.copy(smollm2, cut)
    with cut.open("r+b") as fh:
        fh.truncate(smollm2.stat().st_size - 1)
    with pytest.raises(ModelFileError, match="incomplete"):
        load(cut)


def test_junk_after_the_magic_bytes_is_a_damaged_header(tmp_path):
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"GGUF" + bytes(range(256)) * 16)
    with pytest.raises(ModelFileError, match="header is damaged"):
        load(junk)


def test_a_file_llama_cpp_refuses_is_reported_with_the_fix(tmp_path):
    """A well-formed GGUF with no model in it: llama.cpp's bare RuntimeError becomes a ModelFileError."""
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 0))
    with pytest.raises(ModelFileError, match=r"llama\.cpp could not load") as caught:
        load(empty)
    assert str(empty) in str(caught.value) and "RAG_MODEL__PATH" in str(caught.value)


def test_the_complete_file_still_loads(smollm2):
    """Loaded in a child process: llama.cpp's teardown of a loaded model has hung pytest at exit."""
    code = (
        "import sys; from rag.models.chat import make_model; from rag.core.settings import ModelSettings;"
        "m = make_model(ModelSettings(backend='gguf', path=sys.argv[1], n_ctx=512)); print(m.name)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(smollm2)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1].startswith("SmolLM2")


@pytest.mark.heavy  # minutes of subprocesses: CI's heavy tier keeps the default under 12 min
def test_rag_ask_with_a_truncated_model_prints_the_fix_not_a_traceback(corpus, tmp_path, truncated):
    env = cli_env(tmp_path / "idx", tmp_path)
    done = subprocess.run([RAG, "ingest", str(corpus)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    env.update(RAG_MODEL__BACKEND="gguf", RAG_MODEL__PATH=str(truncated))
    asked = subprocess.run(
        [RAG, "ask", "What spending target did NATO endorse?"], env=env, capture_output=True, text=True
    )
    assert asked.returncode == 2
    assert "incomplete" in asked.stderr and str(truncated) in asked.stderr
    assert "Traceback" not in asked.stderr
