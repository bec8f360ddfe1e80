"""What fills the customer's box in a signed document, written as PDF objects directly.

The box holds the pad drawing (an RGB image in the pad's ink, the drawing as its soft mask)
and «Ký lúc …» in the row under it. Signing used to draw both on a one-page ReportLab PDF and
carry its objects over: ~15 ms, most of it ReportLab making, formatting and compressing a new
subset of the font for a line of twenty characters, the same subset every time. Here the
subset is made once per process from every character a time line holds (:func:`_font_kit`);
a signing only compresses the picture and writes a five-line content stream.
"""
from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass
from functools import lru_cache

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from kiosk.documents import pdf_update
from kiosk.documents.content import Signature, format_datetime_vn, nfc
from kiosk.documents.fonts import register_fonts
from kiosk.documents.pdf_update import number as pdf_number
from kiosk.documents.signature_image import SLOT_GEOMETRY, signature_picture

NOTE_GREY = (0x55 / 255,) * 3
# Every character «Ký lúc HH:MM ngày DD/MM/YYYY» can hold; a line with any other character
# gets a kit of its own (the cache is keyed by the characters), so a new wording still works.
TIME_LINE_CHARACTERS = nfc("Ký lúc ngày 0123456789:/")
_FONT_ENTRY = re.compile(rb"(/\S+) (\d+) 0 R")


@dataclass(frozen=True)
class SlotDrawing:
    """The box's form content (in the page space the layout reserved: the time line's row at
    the bottom), its resources, and the new objects those reference, numbered from ``first``."""

    content: bytes  # FlateDecode-compressed
    resources: bytes  # "<< ... >>"
    objects: list[bytes]  # bodies of objects first, first + 1, ...


@dataclass(frozen=True)
class _FontKit:
    name: bytes  # the font's resource name, e.g. b"/F1+0"
    font: int  # the font dictionary's number in ``objects``
    objects: dict[int, pdf_update.PdfObject]
    order: list[int]  # the font and every object it reaches
    codes: dict[str, bytes]  # character -> its code in the subset


@lru_cache(maxsize=8)
def _font_kit(characters: str) -> _FontKit:
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
            raise pdf_update.PdfUpdateError("time line characters span two font subsets")
        codes[character] = code
    canvas.showPage()
    canvas.save()
    objects = pdf_update.read_objects(buffer.getvalue())
    page = next(o.dictionary for o in objects.values() if re.search(rb"/Type /Page\b(?!s)",
                                                                     o.dictionary))
    fonts_ref = re.search(rb"/Font (\d+) 0 R", pdf_update.sub_dictionary(page, b"/Resources"))
    entries = (_FONT_ENTRY.findall(objects[int(fonts_ref.group(1))].dictionary)
               if fonts_ref is not None else [])
    if len(entries) != 1:
        raise pdf_update.PdfUpdateError("the time line's page should use exactly one font")
    name, number = entries[0][0], int(entries[0][1])
    return _FontKit(name=name, font=number, objects=objects,
                    order=pdf_update.closure(objects, [number]), codes=codes)


def slot_drawing(signature: Signature, first: int) -> SlotDrawing:
    """The drawing, fitted and centred in the box, and its time centred under it.
    Raises ValueError for a drawing that is not a readable, non-empty image."""
    g = SLOT_GEOMETRY
    picture, width, height = signature_picture(signature, g.width, g.height)
    note = nfc(f"Ký lúc {format_datetime_vn(signature.signed_at)}")
    kit = _font_kit(TIME_LINE_CHARACTERS if set(note) <= set(TIME_LINE_CHARACTERS)
                    else "".join(dict.fromkeys(TIME_LINE_CHARACTERS + note)))
    image, mask = first, first + 1
    numbers = {old: first + 2 + i for i, old in enumerate(kit.order)}
    size = b"/Width %d /Height %d /BitsPerComponent 8 /Filter /FlateDecode" % picture.size
    # Fast levels: the ink plane is one colour (any level makes it ~2 KB); the mask is a few
    # kilobytes more than at level 6, for a third of the time (bench/bench_documents.py).
    ink = zlib.compress(picture.convert("RGB").tobytes(), 1)
    alpha = zlib.compress(picture.getchannel("A").tobytes(), 3)
    objects = [
        b"<< /Type /XObject /Subtype /Image /ColorSpace /DeviceRGB %s /SMask %d 0 R "
        b"/Length %d >>\nstream\n%s\nendstream" % (size, mask, len(ink), ink),
        b"<< /Type /XObject /Subtype /Image /ColorSpace /DeviceGray %s /Length %d >>\n"
        b"stream\n%s\nendstream" % (size, len(alpha), alpha),
    ] + [pdf_update.PdfObject(pdf_update.renumber(kit.objects[old].dictionary, numbers),
                              kit.objects[old].stream).body() for old in kit.order]
    regular = register_fonts().regular
    note_x = (g.width - pdfmetrics.stringWidth(note, regular, g.note_size)) / 2
    grey = b" ".join(pdf_number(v) for v in NOTE_GREY)
    code = b"".join(kit.codes[c] for c in note)
    content = b"\n".join([
        b"q %s 0 0 %s %s %s cm /Signature Do Q" % (
            pdf_number(width), pdf_number(height), pdf_number((g.width - width) / 2),
            pdf_number(g.below + (g.height - height) / 2)),
        b"%s rg" % grey,
        b"BT 1 0 0 1 %s %s Tm %s %s Tf %s Tj ET" % (
            pdf_number(note_x), pdf_number(g.note_baseline), kit.name,
            pdf_number(g.note_size), pdf_update.literal_string(code)),
    ])
    resources = (b"<< /ProcSet [ /PDF /Text /ImageC ] /Font << %s %d 0 R >> "
                 b"/XObject << /Signature %d 0 R >> >>" % (kit.name, numbers[kit.font], image))
    return SlotDrawing(content=zlib.compress(content), resources=resources, objects=objects)
