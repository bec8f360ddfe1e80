"""What fills the customer's box in a signed document: the pieces signing.py writes with pyHanko.

The box holds the pad drawing (an RGB image in the pad's ink, the drawing as its soft mask)
and «Ký lúc …» in the row under it. The time line's font is a subset ReportLab embeds in a
one-line PDF made once per process from every character a time line holds
(:func:`_font_kit`); signing copies that font into the document with pyHanko's object import,
so a signing only compresses the picture and writes a three-line content stream.
"""
from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from functools import lru_cache

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from kiosk.documents.content import Signature, format_datetime_vn, nfc
from kiosk.documents.fonts import register_fonts
from kiosk.documents.signature_image import SLOT_GEOMETRY, signature_picture

NOTE_GREY = (0x55 / 255,) * 3
# Every character «Ký lúc HH:MM ngày DD/MM/YYYY» can hold; a line with any other character
# gets a kit of its own (the cache is keyed by the characters), so a new wording still works.
TIME_LINE_CHARACTERS = nfc("Ký lúc ngày 0123456789:/")
# The resource names inside the box's form (its own namespace: nothing else uses them).
PICTURE_NAME = "Signature"
FONT_NAME = "TimeLine"


class SlotError(ValueError):
    """The time line cannot be written with the kit's font."""


@dataclass(frozen=True)
class FontKit:
    """A one-page PDF whose only font is the time line's subset, and each character's code in
    that subset. signing.py imports the font from it (pyHanko parses it; nothing here does)."""

    pdf: bytes
    codes: dict[str, bytes]


@dataclass(frozen=True)
class SlotDrawing:
    """The box's form content (in the page space the layout reserved: the time line's row at
    the bottom), uncompressed; the picture's planes (FlateDecode-compressed) and the kit."""

    content: bytes
    picture_size: tuple[int, int]
    ink: bytes  # RGB, FlateDecode
    alpha: bytes  # DeviceGray soft mask, FlateDecode
    kit: FontKit


@lru_cache(maxsize=8)
def _font_kit(characters: str) -> FontKit:
    """The regular font subset holding ``characters``, as ReportLab embeds it (TrueType,
    /FontFile2, /ToUnicode so the line can be searched and copied)."""
    fonts = register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(100, 20), invariant=True, pageCompression=1,
                    initialFontName=fonts.regular)
    canvas.setFont(fonts.regular, SLOT_GEOMETRY.note_size)
    canvas.drawString(0, 5, characters)
    font = pdfmetrics.getFont(fonts.regular)
    codes = {}
    for character in characters:
        (subset, code), = font.splitString(character, canvas._doc)
        if subset != 0:  # a time line is far under a subset's 256 characters
            raise SlotError("time line characters span two font subsets")
        codes[character] = code
    canvas.showPage()
    canvas.save()
    return FontKit(pdf=buffer.getvalue(), codes=codes)


def _number(value: float) -> bytes:
    """A PDF real, four decimals at most, no trailing zeros (``12.5``, ``-3``)."""
    return (b"%.4f" % value).rstrip(b"0").rstrip(b".")


def _literal_string(codes: bytes) -> bytes:
    """A PDF literal string ``( … )`` of these bytes: delimiters escaped, the rest octal."""
    out = bytearray(b"(")
    for byte in codes:
        if byte in b"()\\":
            out += b"\\" + bytes([byte])
        elif 32 <= byte < 127:
            out.append(byte)
        else:
            out += b"\\%03o" % byte
    return bytes(out + b")")


def slot_drawing(signature: Signature) -> SlotDrawing:
    """The drawing, fitted and centred in the box, and its time centred under it.
    Raises ValueError for a drawing that is not a readable, non-empty image."""
    g = SLOT_GEOMETRY
    picture, width, height = signature_picture(signature, g.width, g.height)
    note = nfc(f"Ký lúc {format_datetime_vn(signature.signed_at)}")
    kit = _font_kit(TIME_LINE_CHARACTERS if set(note) <= set(TIME_LINE_CHARACTERS)
                    else "".join(dict.fromkeys(TIME_LINE_CHARACTERS + note)))
    # Fast levels: the ink plane is one colour (any level makes it ~2 KB); the mask is a few
    # kilobytes more than at level 6, for a third of the time (bench/bench_documents.py).
    ink = zlib.compress(picture.convert("RGB").tobytes(), 1)
    alpha = zlib.compress(picture.getchannel("A").tobytes(), 3)
    regular = register_fonts().regular
    note_x = (g.width - pdfmetrics.stringWidth(note, regular, g.note_size)) / 2
    grey = b" ".join(_number(v) for v in NOTE_GREY)
    code = b"".join(kit.codes[c] for c in note)
    content = b"\n".join([
        b"q %s 0 0 %s %s %s cm /%s Do Q" % (
            _number(width), _number(height), _number((g.width - width) / 2),
            _number(g.below + (g.height - height) / 2), PICTURE_NAME.encode()),
        b"%s rg" % grey,
        b"BT 1 0 0 1 %s %s Tm /%s %s Tf %s Tj ET" % (
            _number(note_x), _number(g.note_baseline), FONT_NAME.encode(),
            _number(g.note_size), _literal_string(code)),
    ])
    return SlotDrawing(content=content, picture_size=picture.size, ink=ink, alpha=alpha, kit=kit)
