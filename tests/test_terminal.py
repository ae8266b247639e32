"""Text from documents and models is printed without terminal escape or control sequences."""

import pytest

from rag.formats.terminal import plain

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Title\x1b]0;pwned\x07 text", "Title text"),  # OSC: retitles the terminal
        ("a\x1b]2;x\x1b\\b", "ab"),  # OSC ended by ST
        ("\x1b[2J\x1b[Hclear", "clear"),  # CSI: clear the screen, cursor home
        ("\x1b[31mred\x1b[0m", "red"),
        ("\x1bcreset", "reset"),  # RIS: reset the terminal
        ("\x9b2Jc1", "c1"),  # the 8-bit CSI
        ("over\rwrite", "overwrite"),  # a carriage return hides the start of the line
        ("\u202eevil", "evil"),  # a bidi override reverses what follows
        ("bell\x07 nul\x00 del\x7f", "bell nul del"),
        ("tabs\tand\nnewlines stay", "tabs\tand\nnewlines stay"),
        ("Ünïcödé, “quotes” – and 中文 stay", "Ünïcödé, “quotes” – and 中文 stay"),
    ],
)
def test_plain_drops_escape_and_control_sequences(raw, shown):
    assert plain(raw) == shown


def test_plain_is_linear_on_a_flood_of_escapes():
    flood = "\x1b[" + "1;" * 200_000 + "\x1b]" * 100_000
    assert "\x1b" not in plain(flood)
