"""The tables bench_scale.py prints: ingest, retrieval latency, recall and loading."""

from __future__ import annotations

from typing import Any

from benchlib import ratio, table


def print_tables(result: dict[str, Any], base_size: int) -> None:
    """Print the ingest, retrieval and load/recall tables."""
    v = result["vectors"]
    rate = v["chunks_per_s"]
    print(
        f"\nVectors: {v['real_vectors']:,} real (embedder: {rate:.1f} chunks/s, measured {v['measured']} on "
        f"{v['embedded']:,} chunks), {v['rows'] - v['real_vectors']:,} real+noise (mean cosine to their "
        f"real vector {v['mean_cosine_to_source']:.2f}).\nText: {result['real_chunks']:,} real chunks, the "
        "rest generated."
    )
    base = {r["backend"]: r for r in result["ingest"] if r["size"] == base_size}
    rows = []
    for r in result["ingest"]:
        ref = base.get(r["backend"], {}).get("store_bm25_chunks_per_s", float("nan"))
        rows.append(
            [
                f"{r['chunks']:,}",
                r["backend"],
                r["read_and_chunk_s"],
                r["store_s"],
                r["bm25_and_commit_s"],
                r["store_bm25_chunks_per_s"],
                ratio(r["store_bm25_chunks_per_s"], ref),
                r["wall_s"],
                (r["wall_s"] + r["chunks"] / rate) / 60,
                r["peak_rss_mb"],
            ]
        )
    heads = [
        "chunks",
        "backend",
        "read+chunk s",
        "Chroma s",
        "BM25+commit s",
        "store+BM25 chunks/s",
        f"vs {base_size // 1000}k",
        "wall s (no embedding)",
        "est. min with embedding",
        "peak RSS MB",
    ]
    print("\nIngest into an empty index\n\n" + table(heads, rows))
    lat = [
        [f"{r['chunks']:,}", r["backend"], r["ef_search"] or "as built"]
        + [
            f"{r[f'{k}_p50_ms']:.0f} / {r[f'{k}_p95_ms']:.0f}"
            for k in ("hybrid", "hybrid_as_of", "dense", "store", "exact")
        ]
        + [r["embed_p50_ms"]]
        for r in result["query"]
    ]
    heads = [
        "chunks",
        "backend",
        "ef_search",
        "hybrid p50/p95 ms",
        "hybrid as-of",
        "dense only",
        "Chroma alone",
        "exact numpy",
        "embed question p50",
    ]
    print("\nRetrieval (ms)\n\n" + table(heads, lat))
    loads = [
        [
            f"{r['chunks']:,}",
            r["backend"],
            r["ef_search"] or "as built",
            r["recall_questions"],
            r["recall_held_out"],
            r["first_retrieve_ms"],
            r["bm25_load_ms"],
            r["bm25_rss_mb"],
            r["bm25_disk_mb"],
            r["manifest_load_ms"],
        ]
        for r in result["query"]
    ]
    heads = [
        "chunks",
        "backend",
        "ef_search",
        "recall@10 questions",
        "recall@10 held-out",
        "first retrieve ms",
        "BM25 load ms",
        "BM25 RSS MB",
        "BM25 disk MB",
        "manifest load ms",
    ]
    print("\nRecall and loading\n\n" + table(heads, loads))
    if "server_peak_rss_mb" in result:
        print(f"\n`chroma run` server peak RSS: {result['server_peak_rss_mb']:.0f} MB")
