"""Gold questions and corpora in the documented plain formats (questions.jsonl, corpus.jsonl or a folder)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from rag.core.errors import RagError
from rag.core.types import GoldItem
from rag.ingestion.writer import find_files


def _records(path: Path) -> list[tuple[int, dict[str, object]]]:
    """Read a JSONL file; a bad line is an error naming the line."""
    if not path.is_file():
        raise RagError(f"{path} does not exist. Pass a .jsonl file (see eval/README.md for the format).")
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RagError(f"{path}:{n} is not valid JSON ({exc}). Fix that line.") from None
        if not isinstance(record, dict):
            raise RagError(f"{path}:{n} must be a JSON object.")
        out.append((n, record))
    return out


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def load_questions(path: Path) -> list[GoldItem]:
    """Load questions.jsonl: ``id``, ``question``, ``answers`` (empty = unanswerable), optional fields.

    Raises:
        RagError: A line is not JSON, misses a required field, or an id repeats.

    """
    items: list[GoldItem] = []
    for n, r in _records(path):
        missing = [k for k in ("id", "question", "answers") if k not in r]
        if missing or not isinstance(r.get("answers"), list):
            raise RagError(f"{path}:{n} needs 'id', 'question' and 'answers' (a list); missing {missing}.")
        items.append(
            GoldItem(
                id=str(r["id"]),
                question=str(r["question"]),
                answers=_strings(r["answers"]),
                gold_doc_ids=_strings(r.get("gold_doc_ids")),
                evidence=str(r["evidence"]) if r.get("evidence") else None,
                choices=_strings(r.get("choices")),
                kind=str(r.get("kind", "")),
                date=str(r.get("date") or ""),
                explanation=str(r.get("quiz_explanation") or r.get("explanation") or ""),
            )
        )
    if not items:
        raise RagError(f"{path} holds no questions. Add one JSON object per line.")
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise RagError(f"{path} repeats question ids; each id must be unique.")
    return items


@dataclass(frozen=True)
class Corpus:
    """Files ready to ingest, a content key for caching, and their document ids for gold_doc_ids."""

    files: tuple[Path, ...]
    key: str
    doc_ids: dict[str, str]  # resolved file path -> corpus document id

    def doc_id(self, path: str) -> str:
        """Return the corpus document id of an ingested file path."""
        return self.doc_ids.get(str(Path(path).resolve()), Path(path).name)


def _safe_name(doc_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", doc_id).lstrip(".")[:80] or "doc"
    return safe if safe == doc_id else f"{safe}-{hashlib.sha1(doc_id.encode()).hexdigest()[:8]}"


def _materialise(path: Path, cache_root: Path) -> Corpus:
    """Write each corpus.jsonl record as a Markdown file (title and date as front matter)."""
    key = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    folder = cache_root / key / "docs"
    folder.mkdir(parents=True, exist_ok=True)
    files, ids = [], {}
    for n, r in _records(path):
        if "id" not in r or "text" not in r:
            raise RagError(f"{path}:{n} needs 'id' and 'text'.")
        front = "".join(
            f"{k}: {str(r[k]).replace(chr(10), ' ')}\n" for k in ("title", "date", "url") if r.get(k)
        )
        body = f"---\n{front}---\n{r['text']}\n" if front else f"{r['text']}\n"
        target = folder / f"{_safe_name(str(r['id']))}.md"
        if not target.exists() or target.read_text(encoding="utf-8") != body:
            target.write_text(body, encoding="utf-8")
        files.append(target)
        ids[str(target.resolve())] = str(r["id"])
    return Corpus(tuple(files), key, ids)


def load_corpus(path: Path, cache_root: Path) -> Corpus:
    """Prepare a corpus: a folder of documents or a corpus.jsonl file.

    Args:
        path: The folder or JSONL file.
        cache_root: Where materialised documents and per-corpus indexes are kept.

    """
    if path.is_file() and path.suffix == ".jsonl":
        return _materialise(path, cache_root)
    files, problems = find_files([path])
    if problems or not files:
        raise RagError(f"No documents found at {path}. Pass a folder of documents or a corpus.jsonl file.")
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{f.relative_to(path)}\0".encode() + hashlib.sha256(f.read_bytes()).digest())
    ids = {str(f.resolve()): str(f.relative_to(path)) for f in files}
    return Corpus(tuple(files), digest.hexdigest()[:16], ids)
