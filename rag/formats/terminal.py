"""Make text from documents and models safe to print on a terminal (no escape or control sequences).

A document (or a model repeating one) can contain ESC sequences that retitle the terminal, clear
the screen, move the cursor or hide text, and carriage returns or bidi overrides that make a line
read differently from what it holds. Output for humans drops them; JSON output escapes them anyway.
"""

from __future__ import annotations

import re

# ESC sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), DCS/SOS/PM/APC strings, and
# two-byte escapes; then the 8-bit forms of CSI and OSC. Each alternative scans forward once.
_SEQUENCE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[ -/]*[0-~])"
    r"|\x9b[0-?]*[ -/]*[@-~]|\x9d[^\x07\x9c]*[\x07\x9c]?"
)
# Whatever control characters are left (tab and newline are kept), and bidi overrides.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def plain(text: str) -> str:
    """Return ``text`` without terminal escape sequences and control characters (tab and newline kept).

    Args:
        text: Text from a document, a file name or a model.

    """
    return _CONTROL.sub("", _SEQUENCE.sub("", text))
