"""Questions within some documents: a ``Scope`` resolved against one commit into a retrieval filter.

The filter is applied inside retrieval, never to a finished top-k (which would starve the answer):
Chroma gets a ``where`` pre-filter (on the chunk metadata "collection", "day" and, for path and title
patterns, "doc_id"), BM25 a mask of the rows whose documents are in scope.
"""

from __future__ import annotations

import fnmatch
import os
import re
from datetime import date
from pathlib import Path

from rag.core.errors import RagError
from rag.core.text import day_number
from rag.core.types import ChunkFilter, Scope
from rag.index.manifest import COLLECTION_SCHEMA, DocEntry, Manifest

_COLLECTION = re.compile(r"[\w][\w .-]{0,63}")
_MAGIC = re.compile(r"[*?\[]")


class ScopeError(RagError):
    """A scope that cannot be used: a bad date or name, no document matches, or an older index."""


def check_collection(name: str) -> str:
    """Return a valid collection name (stripped; "" takes documents out of theirs), else raise ScopeError."""
    name = name.strip()
    if name and not _COLLECTION.fullmatch(name):
        raise ScopeError(
            f"Invalid collection name {name!r}: use 1-64 letters, digits, spaces, '.', '-' or '_', "
            "starting with a letter or digit, e.g. rag ingest --collection contracts PATH..."
        )
    return name


def scope_day(value: str | None, which: str) -> int:
    """Return an ISO date as YYYYMMDD (0 for None), or raise ScopeError with the expected form."""
    if not value:
        return 0
    try:
        return day_number(date.fromisoformat(value.strip()).isoformat())
    except ValueError:
        raise ScopeError(f"The {which} date must look like 2025-06-06, not {value!r}.") from None


def _path_matches(pattern: str, entry: DocEntry) -> bool:
    """Match a glob on the shown or absolute path (``*`` crosses folders); a plain path names a folder."""
    patterns = {pattern.removeprefix("./"), os.path.abspath(os.path.expanduser(pattern))}
    for candidate in (entry.display, entry.path):
        for p in patterns:
            if fnmatch.fnmatchcase(candidate, p):
                return True
            folder = p.rstrip("/" + os.sep)
            if not _MAGIC.search(p) and folder and candidate.startswith(folder + os.sep):
                return True
    return False


def _title_matches(pattern: str, title: str) -> bool:
    """Match a case-insensitive glob on the title; words without wildcards match titles containing them."""
    pattern, title = pattern.lower(), title.lower()
    return fnmatch.fnmatchcase(title, pattern) if _MAGIC.search(pattern) else pattern in title


def _in_scope(scope: Scope, doc_id: str, entry: DocEntry, since: int, until: int) -> bool:
    day = day_number(entry.date)
    return (
        (not scope.paths or any(_path_matches(p, entry) for p in scope.paths))
        and (not scope.titles or any(_title_matches(t, entry.title) for t in scope.titles))
        and (not scope.collections or entry.collection in scope.collections)
        and (not scope.doc_ids or doc_id in scope.doc_ids)
        and (not (since or until) or (day > 0 and since <= day and (not until or day <= until)))
    )


def describe(scope: Scope) -> str:
    """Return the scope in words, e.g. ``in 'notes/*', collection news, since 2025-01-01``."""
    parts = [f"in {', '.join(repr(p) for p in scope.paths)}"] if scope.paths else []
    parts += [f"title {', '.join(repr(t) for t in scope.titles)}"] if scope.titles else []
    parts += [f"collection {', '.join(scope.collections)}"] if scope.collections else []
    parts += [f"{len(scope.doc_ids)} chosen documents"] if scope.doc_ids else []
    parts += [f"since {scope.since}"] if scope.since else []
    parts += [f"until {scope.until}"] if scope.until else []
    return ", ".join(parts)


def resolve(scope: Scope | None, manifest: Manifest, index_dir: Path) -> ChunkFilter | None:
    """Return the retrieval filter for a scope (None when it leaves every document in).

    Raises:
        ScopeError: A date is malformed, no indexed document matches, or the index's chunk metadata
            predates scopes (the message gives the command that upgrades it).

    """
    if not scope:
        return None
    since, until = scope_day(scope.since, "--since"), scope_day(scope.until, "--until")
    if since and until and since > until:
        raise ScopeError(
            f"The date range is inverted: --since {scope.since} is after --until {scope.until}. Swap them "
            f"(--since {scope.until} --until {scope.since})."
        )
    if manifest.schema < COLLECTION_SCHEMA:
        raise ScopeError(
            f"The index at {index_dir} was built by an older rag: its chunks do not record the "
            "collection a scope needs. Upgrade it in place (no re-embedding): rag check --repair"
        )
    docs = frozenset(d for d, e in manifest.documents.items() if _in_scope(scope, d, e, since, until))
    if not docs:
        raise ScopeError(
            f"No indexed document matches the scope ({describe(scope)}). `rag docs` lists the indexed "
            "documents with their paths, titles, dates and collections."
        )
    if len(docs) == len(manifest.documents):
        return None
    by_id = bool(scope.paths or scope.titles or scope.doc_ids)  # globs and ids: Chroma has no glob match
    return ChunkFilter(docs, docs if by_id else None, scope.collections, since, until)
