"""PDF pages as PNG images, so the kiosk shows the contract, the acceptance record and the receipt
inside its own screen (zoomable, no browser PDF viewer, no new tab a kiosk-mode customer cannot
leave).

Why server-side pypdfium2 rather than a vendored PDF.js: the page the customer reads is drawn
by the same PDFium engine Chromium uses, from the very bytes that will be signed and stored; the
kiosk keeps its CSP (PDF.js needs a worker and, in most builds, eval or inline styles); and the
browser receives plain images it cannot save or print as a document. pypdfium2 ships PDFium as
a wheel (no compiler) and is already pulled in by pdfplumber.
"""
from __future__ import annotations

import io
import threading

import numpy as np
import pypdfium2 as pdfium
from PIL import Image

# PDFium is not thread-safe; the kiosk's WSGI server is threaded.
_LOCK = threading.Lock()

_GREY_16 = [level * 17 for level in range(16) for _ in range(3)]  # palette: 0, 17 … 255
PAGE_WIDTH_PX = 1600  # crisp at 2× zoom in a ~900 px wide viewer
MAX_PAGE_WIDTH_PX = 2400


class PageError(ValueError):
    """Not a PDF, or no such page."""


def page_count(pdf: bytes) -> int:
    with _LOCK:
        try:
            doc = pdfium.PdfDocument(pdf)
        except pdfium.PdfiumError as err:
            raise PageError("not a PDF") from err
        try:
            return len(doc)
        finally:
            doc.close()


def page_png(pdf: bytes, index: int, width_px: int = PAGE_WIDTH_PX) -> bytes:
    """Page ``index`` (0-based) rendered ``width_px`` wide on white, as PNG bytes."""
    width_px = max(200, min(int(width_px), MAX_PAGE_WIDTH_PX))
    with _LOCK:
        try:
            doc = pdfium.PdfDocument(pdf)
        except pdfium.PdfiumError as err:
            raise PageError("not a PDF") from err
        try:
            if not 0 <= index < len(doc):
                raise PageError(f"no page {index}")
            page = doc[index]
            try:
                width_pt, _ = page.get_size()
                # Documents are black on white: PDFium renders straight to 8-bit grey (a third
                # of the pixels to encode, and half the time of an RGB render and a conversion).
                bitmap = page.render(scale=width_px / width_pt, fill_color=(255, 255, 255, 255),
                                     grayscale=True)
                grey = bitmap.to_numpy().reshape(bitmap.height, bitmap.width)
            finally:
                page.close()
        finally:
            doc.close()
    # 16 grey levels (4 bits a pixel) are indistinguishable from 256 for anti-aliased black text
    # and make the PNG a third smaller and faster to encode; zlib level 1 instead of 6 halves
    # the encoding again for a few per cent more bytes on the office network. ~50 ms a page
    # instead of ~150 (docs/performance.md).
    image = Image.fromarray(np.right_shift(grey, 4).astype(np.uint8))
    image.putpalette(_GREY_16)
    out = io.BytesIO()
    image.save(out, format="PNG", bits=4, compress_level=1)
    return out.getvalue()
