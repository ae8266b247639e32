"""Helpers of the fault-injection tests: a real index, the `rag` command, and this test code's own reading
of the three stores (manifest JSON, Chroma's sqlite file, BM25's ids.json), never the code under test."""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from conftest import FARM, LIGHTHOUSE, SEED, cli_env, make_settings

from rag import ingest
from rag.components import close_index
from rag.core.settings import Settings
from rag.pipeline import Pipeline

RAG = str(Path(sys.executable).with_name("rag"))
QUESTIONS = {
    "seed": "What spending target did NATO endorse?",
    "orchard": "Who planted the Bramley apple trees?",
    "lighthouse": "What is the range of the harbour lighthouse at Kestrel Point?",
}


@dataclass
class Index:
    """A real index of three documents built by ``ingest()``, with the test's own views of its stores."""

    base: Path
    settings: Settings

    @property
    def dir(self) -> Path:
        return self.settings.index_dir

    @property
    def docs(self) -> Path:
        return self.base / "docs"

    def rag(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Run the `rag` command in a fresh process on this index (after closing this process's clients)."""
        close_index(self.dir)
        return subprocess.run(
            [RAG, *args],
            env=cli_env(self.dir, self.base, RAG_MODEL__THREADS="1", RAG_MODEL__MAX_TOKENS="24", **env),
            cwd=self.base,
            capture_output=True,
            text=True,
            timeout=600,
        )

    def manifest(self) -> dict:
        return json.loads((self.dir / "manifest.json").read_text())

    def listed(self) -> set[str]:
        """The chunk ids the manifest commits."""
        return {cid for e in self.manifest()["documents"].values() for cid in e["chunks"]}

    def vectors(self, collection: str = "rag") -> set[str]:
        """The ids Chroma's own sqlite file holds for a collection (read-only, by this test's SQL)."""
        db = sqlite3.connect(f"file:{self.dir / 'chroma' / 'chroma.sqlite3'}?mode=ro", uri=True)
        try:
            rows = db.execute(
                "SELECT e.embedding_id FROM embeddings e JOIN segments s ON e.segment_id = s.id "
                "JOIN collections c ON s.collection = c.id WHERE c.name = ?",
                (collection,),
            ).fetchall()
        finally:
            db.close()
        return {r[0] for r in rows}

    def collections(self) -> set[str]:
        db = sqlite3.connect(f"file:{self.dir / 'chroma' / 'chroma.sqlite3'}?mode=ro", uri=True)
        try:
            return {r[0] for r in db.execute("SELECT name FROM collections")}
        finally:
            db.close()

    def bm25_rows(self) -> set[str]:
        return set(json.loads((self.dir / self.manifest()["bm25"] / "ids.json").read_text()))

    def assert_consistent(self) -> None:
        """The manifest, Chroma and BM25 hold exactly the same chunk ids, and `rag check` agrees."""
        listed = self.listed()
        assert self.vectors() == listed, "Chroma and the manifest disagree"
        assert self.bm25_rows() == listed, "BM25 and the manifest disagree"
        check = self.rag("check")
        assert check.returncode == 0 and "Consistent" in check.stdout, check.stdout + check.stderr

    def retrieved(self, *which: str) -> set[str]:
        """Chunk ids a fresh reader in this process retrieves for the named questions."""
        close_index(self.dir)
        pipe = Pipeline.from_settings(self.settings)
        return {p.chunk.id for q in which or QUESTIONS for p in pipe.retrieve(QUESTIONS.get(q, q))}


def build(base: Path) -> Index:
    """Ingest the seed article, a Markdown note and an HTML page into ``base/index``."""
    docs = base / "docs"
    docs.mkdir(parents=True)
    shutil.copy(SEED, docs / SEED.name)
    (docs / "orchard.md").write_text(FARM)
    (docs / "lighthouse.html").write_text(LIGHTHOUSE)
    settings = make_settings(base / "index")
    ingest([docs], settings, show_bar=False)
    close_index(settings.index_dir)
    return Index(base, settings)


def garble(path: Path, start: int, length: int, seed: int = 7) -> None:
    """Overwrite ``length`` bytes of a file from ``start`` with seeded random bytes."""
    rng = random.Random(seed)
    with path.open("r+b") as fh:
        fh.seek(start)
        fh.write(bytes(rng.randrange(256) for _ in range(length)))


def error_lines(stderr: str) -> list[str]:
    """The lines of stderr that carry an error: each must be whole (nothing printed before it)."""
    return [line for line in stderr.splitlines() if "Error:" in line]


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit 2 and exactly one error line, starting the line, naming each of ``words``; return it."""
    lines = error_lines(result.stderr)
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@contextmanager
def mounted(kind: str, target: Path, source: Path | None = None, size: str = "1m") -> Iterator[str]:
    """Mount a read-only bind of ``source`` (kind "ro") or a small tmpfs (kind "tmpfs") on ``target``.

    Yields "" when mounted, else the reason the machine does not allow it (the caller skips).
    """
    target.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        yield "mounting needs root (run as root, or in a container with CAP_SYS_ADMIN)"
        return
    if kind == "ro":
        steps = [
            ["mount", "--bind", str(source), str(target)],
            ["mount", "-o", "remount,bind,ro", str(target)],
        ]
    else:
        steps = [["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)]]
    for done, step in enumerate(steps):
        result = subprocess.run(step, capture_output=True, text=True)
        if result.returncode:
            if done:
                subprocess.run(["umount", str(target)], capture_output=True)
            yield f"{' '.join(step)} failed: {result.stderr.strip()}"
            return
    try:
        yield ""
    finally:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)
