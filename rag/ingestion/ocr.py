"""OCR of scanned PDF pages: find pages without a text layer, render them (pdfium), read them (Tesseract)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence

from rag.ingestion.parsed import LoadError, LoadOptions

INSTALL = "sudo apt-get install tesseract-ocr tesseract-ocr-eng (macOS: brew install tesseract)"
MIN_CHARS = 20  # a page whose text layer holds fewer characters (a page number, a stamp) is read by OCR


def tesseract_missing() -> str | None:
    """Return why Tesseract cannot run, with the command that installs it; None when it can run."""
    import pytesseract

    cmd = pytesseract.pytesseract.tesseract_cmd
    # shutil.which, not pytesseract.get_tesseract_version: that one caches its first answer for good.
    if shutil.which(cmd) is None:
        return f"Tesseract OCR is not installed (no '{cmd}' program): install it with {INSTALL}"
    return None


def _has_image(page: object) -> bool:
    """Return True when a pdfium page draws at least one image (a scan, a photo of text)."""
    import pypdfium2.raw as pdfium_c

    objects = page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])  # type: ignore[attr-defined]
    return any(True for _ in objects)


def scanned_pages(data: bytes, texts: Sequence[str]) -> list[int]:
    """Return the indices of pages with (almost) no text layer that show an image: those need OCR.

    A page with neither text nor an image is blank and is left alone.
    """
    bare = [i for i, text in enumerate(texts) if len("".join(text.split())) < MIN_CHARS]
    if not bare:
        return []
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return bare  # pdfium cannot look inside: try OCR on every bare page (it reports what fails)
    try:
        return [i for i in bare if i < len(pdf) and _has_image(pdf[i])]
    finally:
        pdf.close()


def read_pages(data: bytes, indices: Sequence[int], options: LoadOptions) -> dict[int, str]:
    """Render each page at ``ocr.dpi`` and read it with Tesseract, with a progress bar per page.

    Args:
        data: The PDF's bytes.
        indices: The pages to read (0-based).
        options: The OCR settings, the progress bar switch and callback, the file's name.

    Returns:
        Each page's text, by index.

    Raises:
        LoadError: Tesseract is missing, lacks the language asked for, or cannot read a page.

    """
    import pypdfium2 as pdfium
    import pytesseract
    from tqdm import tqdm

    missing = tesseract_missing()
    if missing:
        raise LoadError(missing)
    lang, scale = options.ocr.language, options.ocr.dpi / 72
    texts: dict[int, str] = {}
    pdf = pdfium.PdfDocument(data)
    try:
        with tqdm(
            total=len(indices), unit="page", desc=f"OCR {options.name}", disable=not options.show_bar
        ) as bar:
            for n, i in enumerate(indices, 1):
                image = pdf[i].render(scale=scale, grayscale=True).to_pil()
                try:
                    texts[i] = pytesseract.image_to_string(image, lang=lang)
                except pytesseract.TesseractError as exc:
                    raise LoadError(_tesseract_failed(exc, lang, i + 1)) from None
                bar.update(1)
                if options.progress:
                    options.progress(n, len(indices), f"OCR {options.name} page {i + 1}")
    finally:
        pdf.close()
    return texts


def _tesseract_failed(exc: Exception, lang: str, page: int) -> str:
    """Explain a Tesseract failure: a language whose data is not installed, or the error itself."""
    message = " ".join(str(exc).split())
    if "Failed loading language" in message or "Error opening data file" in message:
        packages = " ".join(f"tesseract-ocr-{c.lower().replace('_', '-')}" for c in lang.split("+"))
        return f"Tesseract has no data for the language '{lang}': install it: sudo apt-get install {packages}"
    return f"OCR of page {page} failed ({message}); check the file opens in a PDF viewer"
