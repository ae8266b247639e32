"""Check a GGUF file before llama.cpp loads it: a readable header, and all the tensor data it declares.

llama.cpp (through xllamacpp) reports any bad file as ``RuntimeError('Failed to init server, please
check the input params.')``, the same for a truncated download as for a wrong setting. Reading the
header says which it is. The ``gguf`` package (llama.cpp's reader) would do the parsing, but it is
not a dependency of this project and only the sizes are needed here: the layout below is the GGUF
v2/v3 format of llama.cpp's docs/gguf.md.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from rag.core.errors import ModelFileError

# Value types of metadata: fixed sizes in bytes; 8 is a string, 9 an array.
_SCALAR = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY = 8, 9
# ggml tensor types: (elements per block, bytes per block), from ggml's type traits.
_BLOCKS = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 9: (32, 36),
    10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 15: (256, 292),
    16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18), 21: (256, 110),
    22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8),
    29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66), 39: (32, 17),
}  # fmt: skip
_MAX_COUNT = 1 << 24  # no real model has this many tensors, keys or array items: the header is junk


class _Damaged(Exception):
    """The header cannot be read."""


class _Reader:
    """Little-endian reads from the header, failing on a short file or an absurd length."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh

    def take(self, fmt: str) -> int:
        size = struct.calcsize(fmt)
        data = self.fh.read(size)
        if len(data) != size:
            raise _Damaged("the header ends early")
        return int(struct.unpack("<" + fmt, data)[0])

    def count(self) -> int:
        n = self.take("Q")
        if n > _MAX_COUNT:
            raise _Damaged(f"it declares {n:,} entries")
        return n

    def skip(self, size: int) -> None:
        if size > _MAX_COUNT * 64 or len(self.fh.read(size)) != size:
            raise _Damaged("the header ends early")

    def string(self) -> bytes:
        n = self.count()
        data = self.fh.read(n)
        if len(data) != n:
            raise _Damaged("the header ends early")
        return data

    def value(self, kind: int) -> int | None:
        """Skip one metadata value; return it when it is an integer (general.alignment is one)."""
        if kind in _SCALAR:
            value = self.take({1: "B", 2: "H", 4: "I", 8: "Q"}[_SCALAR[kind]])
            return None if kind in (6, 12) else value  # floats are read as bits, not used
        if kind == _STRING:
            self.string()
        elif kind == _ARRAY:
            item, n = self.take("I"), self.count()
            if item in _SCALAR:
                self.skip(_SCALAR[item] * n)
            else:
                for _ in range(n):
                    self.value(item)
        else:
            raise _Damaged(f"unknown value type {kind}")
        return None


def _data_needed(fh: BinaryIO) -> int:
    """Return the file size the header implies: header, padding and every tensor's data."""
    r = _Reader(fh)
    version = r.take("I")
    if version not in (2, 3):
        raise _Damaged(f"GGUF version {version} (llama.cpp reads 2 and 3)")
    tensors, keys = r.count(), r.count()
    alignment = 32
    for _ in range(keys):
        key, kind = r.string(), r.take("I")
        value = r.value(kind)
        if key == b"general.alignment" and value:
            alignment = value
    end = 0
    for _ in range(tensors):
        r.string()
        dims = [r.count() for _ in range(r.take("I"))]
        kind, offset = r.take("I"), r.take("Q")
        elements = 1
        for d in dims:
            elements *= d
        block, size = _BLOCKS.get(kind, (1, 0))  # an unknown type: at least its offset must exist
        end = max(end, offset + elements // block * size)
    if not tensors:
        return fh.tell()
    return -(-fh.tell() // alignment) * alignment + end  # tensor data starts at the next alignment


def check_gguf_file(path: Path) -> None:
    """Raise ModelFileError when a GGUF file's header is unreadable or its tensor data is cut short.

    Args:
        path: The model file (its magic bytes are checked by the caller).

    Raises:
        ModelFileError: The message names the file, what is wrong and how to fix it.

    """
    size = path.stat().st_size
    try:
        with path.open("rb") as fh:
            fh.seek(4)  # the magic bytes
            needed = _data_needed(fh)
    except _Damaged as exc:
        raise ModelFileError(
            f"{path} is not a usable GGUF file: its header is damaged ({exc}). Download the model "
            "again or convert it with llama.cpp's convert_hf_to_gguf.py."
        ) from None
    if needed > size:
        raise ModelFileError(
            f"{path} is incomplete: its header declares {needed:,} bytes of model data but the file "
            f"has {size:,} ({size / needed:.0%}). The download or copy was cut short: fetch the file again."
        )
