"""Register a Vietnamese-capable TrueType font with ReportLab, once per process.

ReportLab's 14 built-in PDF fonts (Helvetica …) have no glyphs for Vietnamese letters such as
"ệ" or "ồ", so every document uses an embedded TTF instead: Be Vietnam Pro (OFL) from the PyPI
package `fontpkg-be-vietnam-pro`, or DejaVu Sans from Debian's fonts-dejavu-core when that
package is missing. ReportLab subsets and embeds TTFs (/FontFile2), so printers and PDF
viewers need no fonts installed.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

# Stable names the renderers use, whichever font file is behind them.
REGULAR = "KioskSans"
BOLD = "KioskSans-Bold"

_PACKAGE = "fontpkg_be_vietnam_pro"
_PACKAGE_FILES = ("BeVietnamPro-Regular.ttf", "BeVietnamPro-Bold.ttf")
_DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
_DEJAVU_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")


@dataclass(frozen=True)
class FontSet:
    regular: str
    bold: str
    source: str  # "Be Vietnam Pro" or "DejaVu Sans", for diagnostics


_lock = threading.Lock()
_registered: FontSet | None = None


def _package_font_bytes() -> tuple[bytes, bytes] | None:
    """The TTFs shipped inside fontpkg-be-vietnam-pro (under its `files/` folder)."""
    try:
        root = resources.files(_PACKAGE) / "files"
    except ModuleNotFoundError:  # package not installed: fall back to DejaVu
        return None
    try:
        # read_bytes works for wheels installed as folders and for zipped installs alike.
        regular, bold = ((root / name).read_bytes() for name in _PACKAGE_FILES)
    except OSError:
        return None
    return regular, bold


def _dejavu_font_bytes() -> tuple[bytes, bytes] | None:
    try:
        regular, bold = ((_DEJAVU_DIR / name).read_bytes() for name in _DEJAVU_FILES)
    except OSError:
        return None
    return regular, bold


def load_font_data() -> tuple[str, bytes, bytes]:
    """(source name, regular TTF, bold TTF): Be Vietnam Pro if installed, else DejaVu Sans."""
    data = _package_font_bytes()
    if data is not None:
        return ("Be Vietnam Pro", *data)
    data = _dejavu_font_bytes()
    if data is not None:
        return ("DejaVu Sans", *data)
    raise RuntimeError(
        "No Vietnamese font: install the PyPI package fontpkg-be-vietnam-pro "
        "(or Debian's fonts-dejavu-core)."
    )


def register_fonts() -> FontSet:
    """Register REGULAR and BOLD (idempotent, thread-safe) and return their names."""
    global _registered
    with _lock:
        if _registered is not None:
            return _registered
        source, regular, bold = load_font_data()
        pdfmetrics.registerFont(TTFont(REGULAR, io.BytesIO(regular)))
        pdfmetrics.registerFont(TTFont(BOLD, io.BytesIO(bold)))
        # Map the family so Paragraph markup <b> picks the bold file, not a fake bold.
        for is_bold, is_italic, name in (
            (0, 0, REGULAR),
            (1, 0, BOLD),
            (0, 1, REGULAR),
            (1, 1, BOLD),
        ):
            addMapping(REGULAR, is_bold, is_italic, name)
        _registered = FontSet(REGULAR, BOLD, source)
        return _registered
