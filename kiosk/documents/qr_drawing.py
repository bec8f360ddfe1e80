"""QR codes for the app-download links: PNG for the web screen, vector flowable for PDFs.

Vector modules stay sharp on a 203 dpi thermal printer, where a scaled bitmap would blur
module edges and make phone cameras struggle.
"""

from __future__ import annotations

import io
from functools import lru_cache

import segno
from reportlab.lib import colors
from reportlab.lib.rl_accel import fp_str
from reportlab.platypus import Flowable

QUIET_ZONE = 4  # modules of white border the QR standard asks for; some may be trimmed in PDFs


def _make(url: str) -> segno.QRCode:
    # Level M survives a smudged receipt and keeps store URLs at a small version.
    return segno.make(url, error="m", micro=False, boost_error=False)


def qr_png(url: str, scale: int = 6, border: int = QUIET_ZONE) -> bytes:
    """PNG bytes of a black-on-white QR code for `url`."""
    buffer = io.BytesIO()
    _make(url).save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()


@lru_cache(maxsize=16)
def _dark_runs(url: str, border: int) -> tuple[int, tuple[tuple[int, int, int], ...]]:
    """(modules per side, (row, first column, length) of each horizontal run of dark modules).

    Cached per process: the office's two store links never change between receipts, and
    building the matrix and its runs was most of the receipt's cost (docs/performance.md).
    """
    rows = [list(row) for row in _make(url).matrix_iter(scale=1, border=border)]
    runs = []
    for y, row in enumerate(rows):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            runs.append((y, start, x - start))
    return len(rows), tuple(runs)


class QrFlowable(Flowable):
    """A vector QR code `size` points square, drawn as one filled path of merged row runs.

    One PDF path (a few kB of operators) instead of hundreds of ReportLab shapes: the same
    sharp modules for the 203 dpi printer at a fraction of the CPU.
    """

    def __init__(self, url: str, size: float, border: int = 2):
        super().__init__()
        self.url, self.size, self.border = url, size, border
        self.width = self.height = size

    def wrap(self, avail_width, avail_height):
        return self.size, self.size

    def draw(self):
        canvas = self.canv
        canvas.saveState()
        canvas.setFillColor(colors.white)
        canvas.rect(0, 0, self.size, self.size, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        # The modules' path, written once per process (the same for every receipt).
        canvas.addLiteral(_modules_path(self.url, self.border, self.size))
        canvas.restoreState()


@lru_cache(maxsize=16)
def _modules_path(url: str, border: int, size: float) -> str:
    """The dark modules as one filled path in PDF operators: a rectangle per run of a row."""
    count, runs = _dark_runs(url, border)
    module = size / count
    # PDF y grows upwards; the matrix's first row is the top of the symbol.
    return "\n".join([
        *(f"{fp_str(x * module, size - (y + 1) * module, length * module, module)} re"
          for y, x, length in runs),
        "f",
    ])
