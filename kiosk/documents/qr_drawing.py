"""QR codes for the app-download links: PNG for the web screen, vector drawing for PDFs.

Vector modules stay sharp on a 203 dpi thermal printer, where a scaled bitmap would blur
module edges and make phone cameras struggle.
"""

from __future__ import annotations

import io

import segno
from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib import colors

from kiosk.documents.fonts import register_fonts

QUIET_ZONE = 4  # modules of white border the QR standard asks for; some may be trimmed in PDFs


def _make(url: str) -> segno.QRCode:
    # Level M survives a smudged receipt and keeps store URLs at a small version.
    return segno.make(url, error="m", micro=False, boost_error=False)


def qr_png(url: str, scale: int = 6, border: int = QUIET_ZONE) -> bytes:
    """PNG bytes of a black-on-white QR code for `url`."""
    buffer = io.BytesIO()
    _make(url).save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()


def qr_drawing(url: str, size: float, border: int = 2) -> Drawing:
    """A ReportLab Drawing `size` points square; dark modules merged into row runs."""
    rows = [list(row) for row in _make(url).matrix_iter(scale=1, border=border)]
    count = len(rows)
    module = size / count
    drawing = Drawing(size, size)
    # renderPDF otherwise selects its default Helvetica (unembedded) even with no text drawn.
    drawing.initialFontName = register_fonts().regular
    drawing.add(Rect(0, 0, size, size, fillColor=colors.white, strokeColor=None))
    for y, row in enumerate(rows):
        x = 0
        while x < count:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < count and row[x]:
                x += 1
            # PDF y grows upwards; the matrix's first row is the top of the symbol.
            drawing.add(
                Rect(
                    start * module,
                    size - (y + 1) * module,
                    (x - start) * module,
                    module,
                    fillColor=colors.black,
                    strokeColor=None,
                )
            )
    return drawing
