"""An index written by the rag before pages, sections and collections (schema 2), opened by this one.

The index is built by that release's own code (exported from git into a tmp folder and run in a
subprocess), not simulated: whatever it wrote is what a user upgrading has on disk.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from io import BytesIO
from pathlib import Path

import pytest
from conftest import ROOT, cli_env, make_settings
from summit import ANSWER_PAGE, QUESTION
from test_cli import RAG
from test_scope import make_library

from rag import Scope
from rag.core.types import Query
from rag.index.manifest import MANIFEST, SCHEMA, Manifest
from rag.pipeline import Pipeline

pytestmark = pytest.mark.heavy

# The last commit before schema 3 (afc9fed, "Merge ingest-hardening"): its index has "day" in the chunk
# metadata but no page, section or collection, and its manifest no pages, sections or collections.
OLD_RELEASE = "afc9fed75c1ac36649a1a67d2e6f7cb4291f2c85"
OLD_INGEST = """
import sys
from pathlib import Path
import rag, rag.manifest  # the old release's flat module (rag.index.manifest would be found in this checkout)
from rag import ingest
from rag.core.settings import Settings
assert Path(rag.__file__).is_relative_to(Path(sys.argv[1])), rag.__file__
index = Path(sys.argv[2])
report = ingest([Path(p) for p in sys.argv[3:]], Settings(index_dir=index, data_dir=index.parent / "data"),
                show_bar=False)
print(rag.manifest.SCHEMA, report.chunks_embedded)
"""


def export_old_release(dest: Path) -> Path:
    """Write the old release's ``rag`` package into ``dest``; skip when git or the commit is not here."""
    try:
        tar = subprocess.run(
            ["git", "-C", str(ROOT), "archive", OLD_RELEASE, "rag"], capture_output=True, timeout=60
        )
    except FileNotFoundError:
        pytest.skip("git is not installed: the old release cannot be exported")
    if tar.returncode != 0:
        pytest.skip(f"commit {OLD_RELEASE[:7]} is not in this checkout (a shallow clone?)")
    with tarfile.open(fileobj=BytesIO(tar.stdout)) as archive:
        archive.extractall(dest, filter="data")
    return dest


def test_an_index_from_the_release_before_pages_is_upgraded_in_place(tmp_path):
    folders = make_library(tmp_path / "docs")
    index = tmp_path / "index"
    old = export_old_release(tmp_path / "old")
    env = {**cli_env(index, tmp_path), "PYTHONPATH": str(old)}
    paths = [str(f) for f in folders.values()]
    built = subprocess.run(
        [sys.executable, "-c", OLD_INGEST, str(old), str(index), *paths],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,  # not the checkout: "import rag" must find the old release only
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    schema, embedded = map(int, built.stdout.split())
    assert schema == 2 and embedded > 10, built.stdout
    raw = json.loads((index / MANIFEST).read_text())
    assert raw["schema"] == 2 and all("collection" not in d for d in raw["documents"].values())
    ids = sorted(Manifest.load(index).chunk_ids())

    # Opened by this release: unscoped questions still work (no pages yet), and the as-of filter too.
    s = make_settings(index)
    p = Pipeline(s)
    before = p.retrieve(QUESTION)
    assert "NATO endorsed" in before[0].chunk.text and before[0].chunk.page is None
    two = s.model_copy(update={"retrieve": s.retrieve.model_copy(update={"candidates": 2, "top_k": 2})})
    early = Pipeline(two).retrieve(Query(QUESTION, "2025-06-01"))  # the 2 nearest are dated later
    assert len(early) == 2 and all(x.chunk.date and x.chunk.date <= "2025-06-01" for x in early), (
        "an older index with 'day' keeps filtering by the as-of date inside Chroma and BM25"
    )

    # A scoped question is refused with the command that fixes it; rag check says the same.
    def rag(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([RAG, *args], capture_output=True, text=True, env=cli_env(index, tmp_path))

    refused = rag("ask", "--in", "*.pdf", QUESTION)
    assert refused.returncode == 2 and "rag check --repair" in refused.stderr, refused.stderr
    checked = rag("check", "--json")
    assert checked.returncode == 1 and json.loads(checked.stdout)["outdated_metadata"], checked.stdout
    repaired = rag("check", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "older index" in repaired.stdout, repaired.stdout

    # Upgraded in place: same chunk ids (nothing re-chunked or re-embedded), pages and headings known.
    manifest = Manifest.load(index)
    assert manifest.schema == SCHEMA and sorted(manifest.chunk_ids()) == ids
    p = Pipeline(s)
    after = p.retrieve(QUESTION, where=Scope(paths=("*.pdf",)))
    assert after[0].chunk.page == ANSWER_PAGE and "NATO endorsed" in after[0].chunk.text
    assert p.retrieve("Who planted the apple trees?", where=Scope(titles=("orchard",)))[0].chunk.section
    again = json.loads(rag("ingest", *paths, "--json").stdout)
    assert again["chunks_embedded"] == 0, "the upgraded index needs no embedding"
