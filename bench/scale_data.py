"""Corpus and vectors for bench_scale.py: real news pages, generated variants, vectors computed once.

Real text: the RealTimeQA corpora (materialised as Markdown under the cache, never in the repo).
Generated text, only to reach the largest size: variants of the real pages (paragraphs shuffled,
numbers changed, 15% of the words replaced by other words of the corpus), dated 1-3 years earlier.
Vectors: ``embed`` real chunks (spread over the real ones) go through the real embedder, which also
measures its throughput; every other chunk gets the vector of a real chunk of its source page plus
noise shaped like the real vectors' own spread (their top principal directions), scaled so that its
cosine to that vector is about ``similarity``. Everything is cached by its parameters.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.core.settings import Settings
from rag.evaluate.data import load_corpus
from rag.index.manifest import Manifest
from rag.ingestion.plan import Plan, plan_file
from rag.models.embedder import Embedder


def digest(text: str) -> str:
    """The key of a chunk text (sha1)."""
    return hashlib.sha1(text.encode()).hexdigest()


@dataclass
class Catalog:
    """Files in ingest order (real pages first), their chunk counts, and each chunk's text key and source."""

    files: list[str]
    counts: list[int]
    keys: list[str]  # one per chunk row, in file order
    sources: list[int]  # per row: the real row whose vector it derives from (itself for real rows)
    real_rows: int

    def prefix(self, size: int) -> tuple[list[Path], int]:
        """The first files holding at least ``size`` chunks, and how many chunks they hold."""
        total = 0
        for n, count in enumerate(self.counts, 1):
            total += count
            if total >= size:
                return [Path(f) for f in self.files[:n]], total
        raise SystemExit(f"the corpus holds {total:,} chunks, fewer than {size:,}")


def _chunk_texts(path: Path, settings: Settings, embedder: Embedder) -> list[str]:
    """Chunk one file exactly as ingest does (rag.ingestion.plan) and return the chunk texts."""
    plan = Plan()
    plan_file(path, settings, embedder, Manifest(embedder.name, embedder.dim), plan)
    if plan.problems:
        raise SystemExit(f"{path}: {plan.problems[0].reason}")
    return [c.text for c in plan.to_embed]


def _variant(text: str, n: int, vocab: list[str], rng: random.Random) -> str:
    """A generated page from a real one: redated earlier, paragraphs shuffled, words and numbers changed."""
    head, _, body = text.partition("\n---\n") if text.startswith("---\n") else ("", "", text)
    paragraphs = [p for p in body.split("\n\n") if p.strip()]
    rng.shuffle(paragraphs)

    def swap(m: re.Match[str]) -> str:
        word = m.group()
        if word.isdigit():
            return str(int(word) + n % 97 + 1)
        return rng.choice(vocab) if rng.random() < 0.15 else word

    new = "\n\n".join(re.sub(r"[A-Za-z]+|\d+", swap, p) for p in paragraphs)
    head = re.sub(r"date: (\d{4})", lambda m: f"date: {int(m.group(1)) - 1 - n % 3}", head)
    head = re.sub(r"title: (.*)", lambda m: f"title: {m.group(1)} (variant {n})", head)
    return f"{head}\n---\n{new}\n" if head else new


def build_catalog(
    sets: list[Path], cache: Path, target: int, settings: Settings, embedder: Embedder, real_pages: int = 0
) -> Catalog:
    """Chunk real pages (up to ``target`` chunks or ``real_pages`` pages), then generated variants.

    Cached by its inputs.
    """
    parts = [hashlib.sha256(s.read_bytes()).hexdigest()[:12] for s in sets]
    key = digest(json.dumps([parts, target, real_pages, settings.chunk.model_dump(), embedder.name]))[:12]
    cached = cache / f"catalog-{key}.json"
    if cached.exists():
        return Catalog(**json.loads(cached.read_text()))
    files: list[str] = []
    counts: list[int] = []
    keys: list[str] = []
    sources: list[int] = []
    rows_of: list[tuple[int, int]] = []  # per real file: (first row, count)
    for corpus in sets:
        for path in load_corpus(corpus, cache / "corpus").files:
            if len(keys) >= target or (real_pages and len(files) >= real_pages):
                break
            texts = _chunk_texts(path, settings, embedder)
            rows_of.append((len(keys), len(texts)))
            sources += range(len(keys), len(keys) + len(texts))
            files.append(str(path)), counts.append(len(texts)), keys.extend(map(digest, texts))
    real = len(keys)
    originals = [Path(f).read_text(encoding="utf-8") for f in files]
    vocab = sorted({w for t in originals[:200] for w in re.findall(r"[a-z]{4,}", t)})
    rng, folder = random.Random(7), cache / f"generated-{key}"
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    while len(keys) < target:
        src = n % len(originals)
        path = folder / f"g{n:06d}.md"
        path.write_text(_variant(originals[src], n, vocab, rng), encoding="utf-8")
        texts = _chunk_texts(path, settings, embedder)
        first, count = rows_of[src]
        sources += [first + i % max(count, 1) for i in range(len(texts))]
        files.append(str(path)), counts.append(len(texts)), keys.extend(map(digest, texts))
        n += 1
        print(f"  generated {n} pages, {len(keys):,} chunks", end="\r", flush=True)
    catalog = Catalog(files, counts, keys, sources, real)
    cached.write_text(json.dumps(asdict(catalog)))
    return catalog


def texts_of(catalog: Catalog, rows: list[int], settings: Settings, embedder: Embedder) -> list[str]:
    """Re-chunk the files holding ``rows`` and return those rows' texts."""
    wanted, out, first = set(rows), {}, 0
    for f, count in zip(catalog.files, catalog.counts, strict=True):
        if wanted & set(range(first, first + count)):
            for i, text in enumerate(_chunk_texts(Path(f), settings, embedder)):
                out[first + i] = text
        first += count
    return [out[r] for r in rows]


def build_vectors(
    catalog: Catalog, cache: Path, embed: int, similarity: float, settings: Settings, embedder: Embedder
) -> tuple[np.ndarray, dict[str, Any]]:
    """One unit vector per catalog row (see the module docstring), and how they were made."""
    key = digest("".join(catalog.keys) + f"/{embed}")[:12]
    sample = sorted(
        {r * catalog.real_rows // min(embed, catalog.real_rows) for r in range(min(embed, catalog.real_rows))}
    )
    real_file, meta_file = cache / f"real-{key}.npy", cache / f"real-{key}.json"
    if real_file.exists():
        real, meta = np.load(real_file), json.loads(meta_file.read_text())
    else:
        texts = texts_of(catalog, sample, settings, embedder)
        start = time.perf_counter()
        real = np.array(
            [v for i in range(0, len(texts), 64) for v in embedder.embed(texts[i : i + 64])], "float32"
        )
        seconds = time.perf_counter() - start
        meta = {
            "embedded": len(texts),
            "embed_seconds": seconds,
            "chunks_per_s": len(texts) / seconds,
            "measured": time.strftime("%Y-%m-%d %H:%M"),
        }
        np.save(real_file, real), meta_file.write_text(json.dumps(meta))
    rng = np.random.default_rng(11)
    centred = real - real.mean(axis=0)
    _, spread, directions = np.linalg.svd(centred, full_matrices=False)
    k = min(128, len(real) - 1)
    shape = directions[:k] * (spread[:k, None] / np.sqrt(len(real)))  # noise like the data's own variance
    position = np.searchsorted(np.array(sample), np.array(catalog.sources)).clip(0, len(sample) - 1)
    vectors = real[position].copy()
    synthetic = np.ones(len(catalog.keys), bool)
    synthetic[np.array(sample)] = False
    noise = rng.normal(size=(int(synthetic.sum()), k)).astype("float32") @ shape
    length = np.sqrt(1 / similarity**2 - 1) * rng.uniform(0.5, 1.5, size=(len(noise), 1))
    vectors[synthetic] += noise / np.linalg.norm(noise, axis=1, keepdims=True) * length
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    cosine = (
        float(np.mean(np.sum(vectors[synthetic] * real[position][synthetic], axis=1))) if noise.size else 1.0
    )
    first_row: dict[str, int] = {}
    for row, text_key in enumerate(catalog.keys):  # the same text always gets the same vector
        vectors[row] = vectors[first_row.setdefault(text_key, row)]
    meta |= {"rows": len(vectors), "real_vectors": len(sample), "similarity": similarity, "noise_dims": k}
    meta["mean_cosine_to_source"] = cosine
    return vectors.astype("float32"), meta


class CachedEmbedder:
    """The real embedder's tokenizer and name, with chunk vectors looked up instead of computed.

    Texts not in the catalog (questions) are embedded by the real model.
    """

    def __init__(self, real: Embedder, catalog: Catalog, vectors: np.ndarray) -> None:
        """Wrap ``real``; ``vectors`` rows follow ``catalog.keys``."""
        self.real, self.vectors = real, vectors
        self.name, self.dim, self.max_tokens = real.name, real.dim, real.max_tokens
        self.row = {k: i for i, k in reversed(list(enumerate(catalog.keys)))}

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Return the cached vector of each chunk text; embed anything else with the real model."""
        rows = [self.row.get(digest(t)) for t in texts]
        if any(r is None for r in rows):
            return self.real.embed(texts)
        return [self.vectors[r].tolist() for r in rows if r is not None]

    def tokenize(self, text: str) -> list[int]:
        """The real tokenizer's ids."""
        return self.real.tokenize(text)

    def count_tokens(self, text: str) -> int:
        """The real tokenizer's count."""
        return self.real.count_tokens(text)
