"""One bench_scale.py measurement in a fresh process (so peak RSS and load times are its own).

python bench/scale_worker.py ingest '{"size": 20000, ...}'   # prints one JSON line
python bench/scale_worker.py query '{"size": 20000, ...}'
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from benchlib import pct, peak_rss_mb, rss_mb
from scale_data import CachedEmbedder, Catalog, digest

from rag.answer.steps import make_query
from rag.core.settings import RetrieveSettings, Settings, StoreSettings
from rag.index.bm25 import BM25Index
from rag.index.manifest import Manifest
from rag.models.embedder import make_embedder
from rag.pipeline import Pipeline


def setup(spec: dict[str, Any]) -> tuple[Settings, CachedEmbedder, Catalog, np.ndarray]:
    """Settings for this index and backend, and the embedder that looks chunk vectors up."""
    store = StoreSettings(backend=spec["backend"], port=spec.get("port", 8000), collection=spec["collection"])
    settings = Settings(index_dir=Path(spec["index"]), store=store)
    catalog = Catalog(**json.loads(Path(spec["catalog"]).read_text()))
    vectors = np.load(spec["vectors"], mmap_mode="r")
    return settings, CachedEmbedder(make_embedder(settings.embed), catalog, vectors), catalog, vectors


def ingest(spec: dict[str, Any]) -> dict[str, Any]:
    """Ingest the first files holding ``size`` chunks into an empty index; time its phases."""
    settings, embedder, catalog, _ = setup(spec)
    files, chunks = catalog.prefix(spec["size"])
    marks: dict[str, float] = {}

    def progress(done: int, total: int, message: str) -> None:
        marks["read" if message.startswith("reading") else "stored"] = time.perf_counter()

    embedder.real.embed(["warm-up"])  # an ingest with new chunks loads the model: count it in the RSS
    rss_before = rss_mb()
    start = time.perf_counter()
    report = Pipeline(settings, embedder=embedder).ingest(files, progress=progress, show_bar=False)
    end = time.perf_counter()
    read, stored = marks.get("read", start), marks.get("stored", marks.get("read", start))
    return {
        "chunks": report.chunks_embedded,
        "files": len(files),
        "wall_s": end - start,
        "read_and_chunk_s": read - start,
        "store_s": stored - read,
        "bm25_and_commit_s": end - stored,
        "store_bm25_chunks_per_s": report.chunks_embedded / max(end - read, 1e-9),
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
        "expected_chunks": chunks,
    }


def timed_ms(fn: Any) -> tuple[Any, float]:
    """Call ``fn`` and return its value and the milliseconds it took."""
    start = time.perf_counter()
    value = fn()
    return value, (time.perf_counter() - start) * 1000


def recall_at_10(
    store: Any, rows: np.ndarray, queries: np.ndarray, row_of: dict[str, int]
) -> tuple[float, float]:
    """ANN recall@10 of the store against exact search over ``rows``; ties at the 10th score count as hits."""
    hits, ms = 0, []
    for q in queries:
        exact = rows @ q
        tenth = np.partition(exact, -10)[-10]
        found, took = timed_ms(lambda q=q: store.query(q.tolist(), 10))
        ms.append(took)
        hits += sum(1 for chunk, _ in found if exact[row_of[chunk.id]] >= tenth - 1e-6)
    return hits / (10 * len(queries)), pct(ms, 50)


def query(spec: dict[str, Any]) -> dict[str, Any]:
    """Load times, retrieval p50/p95 (hybrid, as of the question's day, dense, store alone), recall@10."""
    settings, embedder, catalog, vectors = setup(spec)
    out: dict[str, Any] = {"ef_search": spec.get("ef")}
    if spec.get("ef"):  # read when the HNSW index loads: set before this process's first query
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        same = ChromaSettings(anonymized_telemetry=False)  # as rag's client: one setting per path and process
        client = (
            chromadb.HttpClient(host="127.0.0.1", port=spec["port"], settings=same)
            if spec["backend"] == "server"
            else chromadb.PersistentClient(path=str(settings.index_dir / "chroma"), settings=same)
        )
        client.get_collection(spec["collection"]).modify(configuration={"hnsw": {"ef_search": spec["ef"]}})
    manifest, out["manifest_load_ms"] = timed_ms(lambda: Manifest.load(settings.index_dir))
    assert manifest is not None
    import bm25s  # noqa: F401  (imported first: the load time and memory are the index's own)

    before = rss_mb()
    _, out["bm25_load_ms"] = timed_ms(lambda: BM25Index.load(settings.index_dir, manifest.bm25))
    out["bm25_rss_mb"] = rss_mb() - before
    out["bm25_disk_mb"] = (
        sum(f.stat().st_size for f in (settings.index_dir / manifest.bm25).iterdir()) / 2**20
    )
    questions = [(q["text"], q["date"]) for q in spec["questions"]]
    hybrid = Pipeline(settings, embedder=embedder)
    dense = Pipeline(
        settings.model_copy(update={"retrieve": RetrieveSettings(hybrid=False)}), embedder=embedder
    )
    embedder.real.embed(["warm-up"])  # the model loads on first use: time the index side only
    _, out["first_retrieve_ms"] = timed_ms(lambda: hybrid.retrieve(questions[0][0]))
    vecs = np.array(embedder.embed([q for q, _ in questions]), "float32")
    times: dict[str, list[float]] = {
        k: [] for k in ("hybrid", "hybrid_as_of", "dense", "store", "embed", "exact")
    }
    row_of = _row_of(catalog, manifest)
    rows = np.array(vectors[: len(row_of)])
    with hybrid.index.use() as (store, _):
        _check_rows(store, catalog, row_of)
        for (text, day), vec in zip(questions, vecs, strict=True):
            times["hybrid"].append(timed_ms(lambda t=text: hybrid.retrieve(t))[1])
            times["hybrid_as_of"].append(
                timed_ms(lambda t=text, d=day: hybrid.retrieve(make_query(t, _date(d))))[1]
            )
            times["dense"].append(timed_ms(lambda t=text: dense.retrieve(t))[1])
            times["store"].append(
                timed_ms(lambda v=vec: store.query(v.tolist(), settings.retrieve.candidates))[1]
            )
            times["embed"].append(timed_ms(lambda t=text: embedder.embed([t]))[1])
            times["exact"].append(timed_ms(lambda v=vec: np.argpartition(rows @ v, -20)[-20:])[1])
        rng = np.random.default_rng(5)
        picked = rows[rng.integers(0, len(rows), spec["synthetic_queries"])]
        held_out = picked + rng.normal(scale=0.02, size=picked.shape).astype("float32")
        held_out /= np.linalg.norm(held_out, axis=1, keepdims=True)
        out["recall_questions"], _ = recall_at_10(store, rows, vecs, row_of)
        out["recall_held_out"], out["store_top10_p50_ms"] = recall_at_10(store, rows, held_out, row_of)
    for name, values in times.items():
        out[f"{name}_p50_ms"], out[f"{name}_p95_ms"] = pct(values, 50), pct(values, 95)
    out["peak_rss_mb"] = peak_rss_mb()
    out["chunks"] = len(row_of)
    return out


def _row_of(catalog: Catalog, manifest: Manifest) -> dict[str, int]:
    """Map each committed chunk id to its catalog row (files and chunks in catalog order)."""
    by_path = {e.path: e for e in manifest.documents.values()}
    out, first = {}, 0
    for f, count in zip(catalog.files, catalog.counts, strict=True):
        entry = by_path.get(str(Path(f).resolve()))
        if entry is None:
            break
        spans = sorted(entry.chunks.items(), key=lambda kv: (kv[1][0], kv[1][1]))
        out.update((cid, first + i) for i, (cid, _) in enumerate(spans))
        first += count
    return out


def _check_rows(store: Any, catalog: Catalog, row_of: dict[str, int]) -> None:
    """Fail unless stored chunks hold the text of the catalog row they map to (exact search relies on it)."""
    sample = list(row_of)[:: max(1, len(row_of) // 50)]
    for chunk in store.get(sample):
        if digest(chunk.text) != catalog.keys[row_of[chunk.id]]:
            raise SystemExit(f"chunk {chunk.id} does not match catalog row {row_of[chunk.id]}")


def _date(day: str) -> Any:
    from datetime import date

    return date.fromisoformat(day) if day else date.today()


if __name__ == "__main__":
    mode, raw = sys.argv[1], sys.argv[2]
    result = {"ingest": ingest, "query": query}[mode](json.loads(raw))
    print(json.dumps(result))
