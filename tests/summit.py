"""A three-page PDF with known text on known pages (made with fpdf2), for page citations and scopes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

TITLE = "Alliance summit report"
PAGES = (
    "Leaders of the alliance met in The Hague on 24 and 25 June 2025 for a two-day summit. The host "
    "city closed roads around the World Forum and brought in extra police from across the Netherlands.",
    "NATO endorsed a defence spending target of five percent of GDP by 2035. The target was agreed at "
    "the summit in The Hague.",
    "The summit communique was short. The next summit will be held in Ankara, Turkey, in 2026.",
)
ANSWER_PAGE = 2  # the page that says what NATO endorsed
QUESTION = "What defence spending target did NATO endorse?"
AS_OF = "2025-07-01"  # SmolLM2 answers it (greedy) with the prompt of this day; other days it may abstain


def make_summit_pdf(path: Path) -> Path:
    """Write the report, one paragraph per page, dated 2025-06-26; return its path."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(TITLE)
    pdf.set_creation_date(datetime(2025, 6, 26, tzinfo=UTC))
    pdf.set_font("Helvetica", size=12)
    for text in PAGES:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path
