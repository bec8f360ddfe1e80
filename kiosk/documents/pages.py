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

import atexit
import hashlib
import struct
import threading
import zlib
from collections import OrderedDict

import numpy as np
import pypdfium2 as pdfium

# PDFium is not thread-safe; the kiosk's WSGI server is threaded.
_LOCK = threading.Lock()

PAGE_WIDTH_PX = 1600  # crisp at 2× zoom in a ~900 px wide viewer
MAX_PAGE_WIDTH_PX = 2400

# A document's first page costs twice its second: PDFium parses the embedded fonts and
# rasterises their glyphs once per open document. The screen counts the pages, then the viewer
# asks for each page in turn, so a few documents stay open (per process, least recently used
# closed first; a handful of kiosks' unsigned documents, ~50 kB each).
_OPEN_DOCUMENTS = 8
_open: OrderedDict[bytes, pdfium.PdfDocument] = OrderedDict()


class PageError(ValueError):
    """Not a PDF, or no such page."""


def _document(pdf: bytes) -> pdfium.PdfDocument:
    """The open document for these bytes; the caller holds _LOCK."""
    key = hashlib.sha256(pdf).digest()
    doc = _open.get(key)
    if doc is not None:
        _open.move_to_end(key)
        return doc
    try:
        doc = pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError as err:
        raise PageError("not a PDF") from err
    _open[key] = doc
    while len(_open) > _OPEN_DOCUMENTS:
        _open.popitem(last=False)[1].close()
    return doc


@atexit.register
def _close_open_documents() -> None:
    # Closed before pypdfium2's own exit hook, which would warn about each one still open.
    with _LOCK:
        while _open:
            _open.popitem()[1].close()


def page_count(pdf: bytes) -> int:
    with _LOCK:
        return len(_document(pdf))


def page_png(pdf: bytes, index: int, width_px: int = PAGE_WIDTH_PX) -> bytes:
    """Page ``index`` (0-based) rendered ``width_px`` wide on white, as PNG bytes."""
    width_px = max(200, min(int(width_px), MAX_PAGE_WIDTH_PX))
    with _LOCK:
        doc = _document(pdf)
        if not 0 <= index < len(doc):
            raise PageError(f"no page {index}")
        page = doc[index]
        try:
            width_pt, _ = page.get_size()
            # Documents are black on white: PDFium renders straight to 8-bit grey (a third of
            # the pixels to encode, and half the time of an RGB render and a conversion).
            bitmap = page.render(scale=width_px / width_pt, fill_color=(255, 255, 255, 255),
                                 grayscale=True)
            grey = bitmap.to_numpy().reshape(bitmap.height, bitmap.width)
        finally:
            page.close()
    return grey4_png(grey)


def grey4_png(grey: np.ndarray) -> bytes:
    """An 8-bit grey image as a 4-bit grey PNG.

    16 grey levels are indistinguishable from 256 for anti-aliased black text and make the
    file about half the size (bench/bench_pages.py). Written directly (rows packed by numpy, no
    PNG filter, zlib level 1) because a page is ~3.6 million pixels: ~16 ms where Pillow's
    encoder takes ~27 ms in 4 bits and ~80 ms in 8 bits at its default level
    (docs/performance.md)."""
    height, width = grey.shape
    if width % 2:  # a row is whole bytes: pad with white, the header keeps the true width
        grey = np.pad(grey, ((0, 0), (0, 1)), constant_values=255)
    # Two neighbouring pixels read as one little-endian 16-bit word: the left pixel's top four
    # bits and the right pixel's top four make the packed byte, in three contiguous passes
    # (strided slices of the two columns took three times as long).
    pairs = np.ascontiguousarray(grey).view("<u2")
    rows = np.empty((height, grey.shape[1] // 2 + 1), np.uint8)
    rows[:, 0] = 0  # filter "none"
    np.copyto(rows[:, 1:], np.bitwise_or(np.bitwise_and(pairs, 0xF0), np.right_shift(pairs, 12)),
              casting="unsafe")
    header = struct.pack(">IIBBBBB", width, height, 4, 0, 0, 0, 0)  # 4-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows.data, 1)) + _chunk(b"IEND", b""))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
