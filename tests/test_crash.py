"""kill -9 of `rag ingest` at 20 points; the next ingest brings Chroma, the manifest and BM25 into agreement.

Each round changes the documents, starts `rag ingest` in a subprocess and kills it (SIGKILL) at a
random moment: after a random delay, while it embeds (once its journal exists), as it builds BM25
right before the commit, or just after the commit while it cleans up. Between the kill and the
recovery a reader retrieves; then a recovery ingest runs (the same folder, another folder, after
the killed folder was deleted, or with --prune). After each recovery the three stores are compared
by this file's own code, not by the code under test.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SEED, cli_env

pytestmark = pytest.mark.heavy

RAG = str(Path(sys.executable).with_name("rag"))
KILLS = 20
WORDS = [
    "harbour",
    "ferry",
    "lantern",
    "orchard",
    "granite",
    "meadow",
    "copper",
    "beacon",
    "willow",
    "saddle",
    "quarry",
    "thistle",
    "canal",
]
WORDS += [
    "pylon",
    "barley",
    "glacier",
    "tannery",
    "kiln",
    "furrow",
    "estuary",
    "rampart",
    "bellows",
    "cistern",
    "hamlet",
]


def _sentence(rng: random.Random, tag: str) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
    words.insert(rng.randint(0, len(words)), f"{tag}-{rng.randint(100, 999)}")
    return " ".join(words).capitalize() + "."


def write_doc(path: Path, rng: random.Random) -> None:
    """A document of 4-9 paragraphs, one in four longer than a chunk, with words unique to it."""
    tag = path.stem
    paragraphs = []
    for _ in range(rng.randint(4, 9)):
        n = rng.randint(25, 40) if rng.random() < 0.25 else rng.randint(2, 6)
        paragraphs.append(" ".join(_sentence(rng, tag) for _ in range(n)))
    path.write_text(f"date 2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}\n" + "\n\n".join(paragraphs))


def edit_doc(path: Path, rng: random.Random) -> None:
    """Insert a paragraph at the top (later spans move) and rewrite one paragraph (chunks change)."""
    head, body = path.read_text().split("\n", 1)
    paragraphs = body.split("\n\n")
    paragraphs[rng.randrange(len(paragraphs))] = _sentence(rng, path.stem + "x")
    paragraphs.insert(0, _sentence(rng, path.stem + "top"))
    path.write_text(head + "\n" + "\n\n".join(paragraphs))


class Index:
    """The index folder as this test reads it: manifest, BM25 version, Chroma, journal."""

    def __init__(self, folder: Path, settings, embedder) -> None:  # type: ignore[no-untyped-def]
        self.folder, self.settings, self.embedder = folder, settings, embedder

    def manifest(self) -> dict:
        path = self.folder / "manifest.json"
        return (
            json.loads(path.read_text()) if path.exists() else {"documents": {}, "bm25": "", "generation": 0}
        )

    def committed(self) -> set[str]:
        return {cid for e in self.manifest()["documents"].values() for cid in e["chunks"]}

    def bm25_folders(self) -> set[str]:
        return {p.name for p in self.folder.glob("bm25.*")}

    def stamp(self) -> tuple[int, int] | None:
        try:
            st = (self.folder / "manifest.json").stat()
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns

    def open_store(self):  # type: ignore[no-untyped-def]
        from rag.index.vector_store import make_store

        return make_store(self.settings.store, self.folder, self.embedder.name, self.embedder.dim)

    def retrieved_ids(self, questions: list[str]) -> set[str]:
        """Ids a fresh reader (the real Pipeline over its own Chroma client) retrieves."""
        from rag.pipeline import Pipeline

        store = self.open_store()
        try:
            pipe = Pipeline(self.settings, embedder=self.embedder, store=store)
            return {p.chunk.id for q in questions for p in pipe.retrieve(q)}
        finally:
            store.close()


def wanted_chunks(files: list[Path], settings, embedder) -> dict[str, dict[str, list[int]]]:  # type: ignore[no-untyped-def]
    """Chunk ids and spans each file yields now, per document id (what a complete ingest commits)."""
    from rag.index.manifest import Manifest
    from rag.ingestion.plan import Plan, plan_file

    manifest, plan = Manifest(embedder.name, embedder.dim), Plan()
    for f in files:
        plan_file(f, settings, embedder, manifest, plan)
    assert not plan.problems, plan.problems
    return {doc_id: e.chunks for doc_id, e in manifest.documents.items()}


def docs_in(*folders: Path) -> list[Path]:
    return sorted(p for f in folders if f.exists() for p in f.rglob("*.txt"))


def kill_during(cmd: list[str], env: dict, cwd: Path, index: Index, mode: str, rng, estimate: float):  # type: ignore[no-untyped-def]
    """Run `rag ingest`, SIGKILL it at a point chosen by ``mode``; return the phase it died in, or None."""
    before, bm25_before = index.stamp(), index.bm25_folders()
    journal = index.folder / "ingest-journal.json"
    conditions = {
        "random": lambda: time.monotonic() - t0 > delay,
        "embedding": lambda: journal.exists(),
        "commit": lambda: bool(index.bm25_folders() - bm25_before),
        "cleanup": lambda: index.stamp() != before,
    }
    delay = rng.uniform(0.5, estimate)
    with (cwd / "killed.log").open("ab") as log:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=log)
        t0 = time.monotonic()
        while proc.poll() is None and not conditions[mode]():
            time.sleep(0.001)
        if mode == "embedding":
            time.sleep(rng.uniform(0.0, 1.5))
        if proc.poll() is not None:
            return None  # finished before the kill point
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    committed_now = index.stamp() != before
    if journal.exists():
        return (
            "after the commit, cleaning up"
            if committed_now
            else (
                "building BM25, before the commit"
                if index.bm25_folders() - bm25_before
                else "writing vectors"
            )
        )
    return "after the clean-up" if committed_now else "before writing (reading, chunking)"


def check_agreement(index: Index, files: list[Path], settings, embedder) -> int:  # type: ignore[no-untyped-def]
    """Assert Chroma ids == manifest ids == BM25 ids, spans as committed; return the orphan count."""
    manifest = index.manifest()
    committed = index.committed()
    store = index.open_store()
    try:
        ids = store.ids()
        stored = store.all_chunks()
    finally:
        store.close()
    orphans = len(set(ids) - committed)
    assert len(ids) == len(set(ids)), "a chunk is stored twice"
    assert set(ids) == committed, f"{orphans} orphans, {len(committed - set(ids))} missing vectors"
    bm25 = json.loads((index.folder / manifest["bm25"] / "ids.json").read_text())
    assert sorted(bm25) == sorted(committed), "BM25 rows differ from the manifest's chunks"
    assert index.bm25_folders() == {manifest["bm25"]}, "stale BM25 versions left"
    assert not (index.folder / "ingest-journal.json").exists()
    spans = {cid: (doc, s) for doc, e in manifest["documents"].items() for cid, s in e["chunks"].items()}
    for c in stored:
        assert (c.doc_id, [c.start, c.end]) == spans[c.id], f"spans of {c.id} differ from the manifest"
    # No chunk lost: a document whose file is unchanged holds exactly the chunks the file yields now.
    from rag.ingestion.loaders import content_hash, doc_id_for

    by_id = {doc_id_for(f): f for f in files}
    for doc_id, entry in manifest["documents"].items():
        f = by_id.get(doc_id)
        if f is not None and content_hash(f.read_bytes()) == entry["hash"]:
            assert entry["chunks"] == wanted_chunks([f], settings, embedder)[doc_id], f"{f.name} differs"
    return orphans


def test_kill_ingest_at_20_points_then_recover(tmp_path: Path) -> None:
    from rag.components import shared_embedder
    from rag.core.settings import EmbedSettings, Settings

    rng = random.Random(8)
    index_dir = tmp_path / "index"
    settings = Settings(index_dir=index_dir)
    embedder = shared_embedder(EmbedSettings())
    index = Index(index_dir, settings, embedder)
    env = cli_env(index_dir, tmp_path)
    main = tmp_path / "main"
    main.mkdir()
    shutil.copy(SEED, main / SEED.name)
    for i in range(30):
        write_doc(main / f"m{i:03d}.txt", rng)
    side = tmp_path / "side"  # recovering through it leaves the killed folder's files as they are
    side.mkdir()
    for i in range(2):
        write_doc(side / f"s{i}.txt", rng)
    extra_folders: list[Path] = []
    phases: dict[str, int] = {}
    kills = rounds = orphans_after = leaked = embedded_again = 0
    estimate = 20.0
    modes = ["random", "embedding", "commit", "cleanup"]
    while kills < KILLS:
        rounds += 1
        assert rounds <= 3 * KILLS, f"only {kills} kills landed in {rounds} rounds"
        scenario = rounds % 4
        # Change the documents so the killed run has work: new folder, or edits in the main one.
        if scenario in (1, 2):
            target = tmp_path / f"new{rounds:02d}"
            target.mkdir()
            for i in range(rng.randint(8, 14)):
                write_doc(target / f"n{rounds:02d}_{i:02d}.txt", rng)
            killed_paths = [str(target)]
        else:
            mains = docs_in(main)[1:]
            for f in rng.sample(mains, 3):
                edit_doc(f, rng)
            for i in range(3):
                write_doc(main / f"m{rounds:02d}_{i}.txt", rng)
            if scenario == 3:
                rng.choice(docs_in(main)[1:]).unlink()
            killed_paths = [str(main)] + (["--prune"] if scenario == 3 else [])
        mode = modes[(rounds + rounds // 4) % len(modes)]
        started = time.monotonic()
        phase = kill_during([RAG, "ingest", *killed_paths], env, tmp_path, index, mode, rng, estimate)
        if phase is None:
            estimate = max(5.0, time.monotonic() - started)
        else:
            kills += 1
            phases[phase] = phases.get(phase, 0) + 1
        # A reader between the kill and the recovery answers only from the manifest.
        committed = index.committed()
        if committed:
            probe = [p for p in docs_in(Path(killed_paths[0])) if p.name != SEED.name][:3]
            questions = [f.read_text().split("\n")[1][:200] for f in probe] + ["granite quarry"]
            outside = index.retrieved_ids(questions) - committed
            leaked += len(outside)
            assert not outside, f"retrieved {len(outside)} chunks the manifest does not hold"
        # Recover: another folder, the killed folder deleted + --prune, or the same paths.
        if scenario == 0:
            recover_paths = [str(side)]
        elif scenario == 2:
            shutil.rmtree(killed_paths[0])
            recover_paths = [str(main), "--prune"]
        elif scenario == 1:
            extra_folders.append(Path(killed_paths[0]))
            recover_paths = [str(main)]
        else:
            recover_paths = killed_paths
        folders = [Path(p) for p in recover_paths if not p.startswith("--")]
        wanted = wanted_chunks(docs_in(*folders), settings, embedder)
        uncommitted = {cid for chunks in wanted.values() for cid in chunks} - index.committed()
        started = time.monotonic()
        done = subprocess.run(
            [RAG, "ingest", *recover_paths, "--json"], env=env, cwd=tmp_path, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        if report["chunks_embedded"]:
            estimate = max(5.0, time.monotonic() - started)
        assert report["chunks_embedded"] == len(uncommitted), "re-embedded committed chunks, or missed some"
        embedded_again += report["chunks_embedded"]
        orphans_after += check_agreement(index, docs_in(main, side, *extra_folders), settings, embedder)
        assert not index.retrieved_ids(["granite quarry harbour"]) - index.committed()
        if rounds % 5 == 0:
            check = subprocess.run(
                [RAG, "check", "--json"], env=env, cwd=tmp_path, capture_output=True, text=True
            )
            assert check.returncode == 0 and json.loads(check.stdout)["clean"], check.stdout + check.stderr
    # Finally: every file that exists is indexed with exactly the chunks it yields, nothing else.
    live = [side, *(f for f in extra_folders if f.exists())]
    final = subprocess.run(
        [RAG, "ingest", str(main), *map(str, live), "--prune", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert final.returncode == 0, final.stderr
    files = docs_in(main, *live)
    wanted = wanted_chunks(files, settings, embedder)
    assert {d: e["chunks"] for d, e in index.manifest()["documents"].items()} == wanted
    assert check_agreement(index, files, settings, embedder) == 0
    print(
        f"\nkill -9 test: {kills} kills survived in {rounds} rounds; phases {phases}; orphans after recovery "
        f"{orphans_after}; chunks outside the manifest retrieved {leaked}; chunks re-embedded by recoveries "
        f"{embedded_again} (all uncommitted); final index {len(index.committed())} chunks"
    )
