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

import struct
import threading
import zlib

import numpy as np
import pypdfium2 as pdfium

# PDFium is not thread-safe; the kiosk's WSGI server is threaded.
_LOCK = threading.Lock()

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
    return grey4_png(grey)


def grey4_png(grey: np.ndarray) -> bytes:
    """An 8-bit grey image as a 4-bit grey PNG.

    16 grey levels are indistinguishable from 256 for anti-aliased black text and make the
    file about half the size (bench/bench_pages.py). Written directly (rows packed by numpy, no PNG filter, zlib level 1)
    because a page is ~3.6 million pixels: ~14 ms where Pillow's encoder takes ~27 ms in
    4 bits and ~80 ms in 8 bits at its default level (docs/performance.md)."""
    height, width = grey.shape
    levels = np.right_shift(grey, 4).astype(np.uint8)
    if width % 2:
        levels = np.pad(levels, ((0, 0), (0, 1)), constant_values=15)
    rows = np.zeros((height, levels.shape[1] // 2 + 1), np.uint8)  # column 0: filter "none"
    rows[:, 1:] = (levels[:, 0::2] << 4) | levels[:, 1::2]
    header = struct.pack(">IIBBBBB", width, height, 4, 0, 0, 0, 0)  # 4-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)) + _chunk(b"IEND", b""))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
