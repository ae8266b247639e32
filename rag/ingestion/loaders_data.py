"""Data files: Jupyter notebooks (.ipynb, via nbformat) and JSON (flattened to "key.path: value" lines).

A notebook's cells are parts cited as "cell 4" (its position in the notebook): markdown and code,
with short outputs (a long output, an image or a table dump, is left out). A JSON file's top-level
entries are parts cited by their key ("servers", "[3]"), each value on a line with its full path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from rag.ingestion.parsed import LoadError, LoadOptions, Parsed, TextBuilder, cell_text, decode_text

MAX_OUTPUT_CHARS = 2000  # a cell output longer than this is left out (data dumps, base64 blobs)


def _outputs(cell: Any) -> str:
    """Return a code cell's short text outputs (streams, results); longer ones are noted, not kept."""
    texts = []
    for out in cell.get("outputs", ()):
        if out.get("output_type") == "stream":
            text = out.get("text", "")
        else:
            text = out.get("data", {}).get("text/plain", "")
        text = "".join(text) if isinstance(text, list) else str(text)
        if len(text) > MAX_OUTPUT_CHARS:
            texts.append(f"[an output of {len(text):,} characters is left out]")
        elif text.strip():
            texts.append(text.strip())
    return "\n".join(texts)


def ipynb(data: bytes, _: LoadOptions | None = None) -> Parsed:
    """Read a notebook's markdown and code cells (with short outputs), each cited as "cell N"."""
    import nbformat

    text, warning = decode_text(data)
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises JSON, validation and version errors of several kinds
        raise LoadError(f"not a readable notebook ({' '.join(str(exc).split())[:200]})") from None
    out = TextBuilder()
    title = notebook.metadata.get("title")
    for number, cell in enumerate(notebook.cells, 1):
        source = str(cell.get("source", ""))
        if cell.cell_type == "markdown" and not title and source.lstrip().startswith("# "):
            title = source.lstrip()[2:].splitlines()[0].strip()
        outputs = _outputs(cell) if cell.cell_type == "code" else ""
        part = f"{source.strip()}\n\nOutput:\n{outputs}" if outputs else source
        out.add(part, section=f"cell {number}", block=True)
    return out.parsed(str(title) if title else None, warning=warning)


def _flatten(value: Any, path: str) -> Iterator[str]:
    """Yield "path: value" lines for every leaf of a JSON value ("a.b[0].c: 5")."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _flatten(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and value:
        for i, item in enumerate(value):
            yield from _flatten(item, f"{path}[{i}]")
    else:
        shown = json.dumps(value) if isinstance(value, dict | list) else cell_text(value)
        yield f"{path}: {' '.join(shown.split())}" if path else shown


def json_file(data: bytes, _: LoadOptions | None = None) -> Parsed:
    """Read a JSON file as key paths and values; each top-level entry is one part."""
    text, warning = decode_text(data)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LoadError(f"not valid JSON ({exc}); check the file") from None
    except RecursionError:
        raise LoadError("JSON nested too deeply to read") from None
    if isinstance(value, dict):
        entries = [(str(key), item) for key, item in value.items()]
    elif isinstance(value, list):
        entries = [(f"[{i}]", item) for i, item in enumerate(value)]
    else:
        entries = [("", value)]
    out = TextBuilder()
    for key, item in entries:
        out.add("\n".join(_flatten(item, key)), section=key or None, block=True)
    title = value.get("title") or value.get("name") if isinstance(value, dict) else None
    return out.parsed(title if isinstance(title, str) else None, warning=warning)


LOADERS = {".ipynb": ipynb, ".json": json_file}
NO_TEXT = {".ipynb": "no cells with text in the notebook", ".json": "no values found in the JSON"}
