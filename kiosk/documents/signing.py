"""The signed copy of a document: the unsigned PDF, unchanged, plus the customer's drawing.

The unsigned document (layout.py) reserves the customer's box as an empty form XObject named
:data:`SLOT_FORM`. Signing draws the signature and its time on a small page of the box's size,
turns that page into the form's new content and appends it as an incremental update
(pdf_update.py). Readers show the update; the bytes before it are exactly the document the
customer read on the screen, and its SHA-256 still checks.
"""
from __future__ import annotations

import io
import re

from reportlab.lib import colors
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from kiosk.documents import pdf_update
from kiosk.documents.content import Signature, format_datetime_vn, nfc, pdf_date
from kiosk.documents.fonts import register_fonts
from kiosk.documents.pdf_update import PdfUpdateError
from kiosk.documents.signature_image import SLOT_GEOMETRY, signature_picture

SLOT_FORM = "signature"
_SLOT_REFERENCE = b"/FormXob." + SLOT_FORM.encode() + b" "
_PAGE = re.compile(rb"/Type /Page\b(?!s)")
NOTE_GREY = colors.HexColor("#555555")


def _slot_drawing(signature: Signature) -> bytes:
    """A one-page PDF the size of the box and its time line: the drawing, fitted and centred,
    and «Ký lúc …» under it, as the box's form will show them."""
    g = SLOT_GEOMETRY
    picture, width, height = signature_picture(signature, g.width, g.height)
    fonts = register_fonts()
    buffer = io.BytesIO()
    # initialFontName: no unembedded Helvetica in the resources (every font is embedded).
    canvas = Canvas(buffer, pagesize=(g.width, g.height + g.below), invariant=True,
                    pageCompression=1, initialFontName=fonts.regular,
                    initialFontSize=g.note_size)
    canvas.drawImage(ImageReader(picture), (g.width - width) / 2,
                     g.below + (g.height - height) / 2, width, height, mask="auto")
    canvas.setFillColor(NOTE_GREY)
    canvas.setFont(fonts.regular, g.note_size)
    canvas.drawCentredString(g.width / 2, g.note_baseline,
                             nfc(f"Ký lúc {format_datetime_vn(signature.signed_at)}"))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def sign_pdf(unsigned: bytes, signature: Signature) -> bytes:
    """``unsigned`` followed by an update that fills the customer's box. Raises ValueError for
    a drawing that is not a readable, non-empty image (as rendering did)."""
    at = unsigned.find(_SLOT_REFERENCE)
    if at < 0:
        raise PdfUpdateError("the document has no signature box")
    slot_number = int(unsigned[at + len(_SLOT_REFERENCE):].split(b" ", 1)[0])
    drawing = pdf_update.read_objects(_slot_drawing(signature))
    page = next(o.dictionary for o in drawing.values() if _PAGE.search(o.dictionary))
    contents = pdf_update.references(page[page.find(b"/Contents"):])[0]
    resources = pdf_update.sub_dictionary(page, b"/Resources")
    # Everything the drawing's resources reach comes along, numbered after the file's objects.
    carried = pdf_update.closure(drawing, pdf_update.references(resources))
    trailer = pdf_update.read_trailer(unsigned)
    first_new = trailer.size
    numbers = {old: first_new + i for i, old in enumerate(carried)}
    added = [pdf_update.PdfObject(pdf_update.renumber(drawing[old].dictionary, numbers),
                                  drawing[old].stream).body() for old in carried]
    stream = drawing[contents]
    at = stream.dictionary.find(b"/Filter [")
    filters = stream.dictionary[at:].split(b"]", 1)[0] + b"]" if at >= 0 else b""
    g = SLOT_GEOMETRY
    # The page's space has the time line at the bottom; the form's origin is the box's corner.
    form = (b"<< /Type /XObject /Subtype /Form /FormType 1 /BBox [ 0 0 %s %s ] "
            b"/Matrix [ 1 0 0 1 0 %s ] /Resources %s %s /Length %d >>\nstream\n"
            % (_num(g.width), _num(g.height + g.below), _num(-g.below),
               pdf_update.renumber(resources, numbers), filters, len(stream.stream))
            ) + stream.stream + b"\nendstream"
    return pdf_update.append_update(unsigned, {slot_number: form}, added,
                                    info=_signed_info(unsigned, trailer.info, signature))


def _signed_info(unsigned: bytes, number: int, signature: Signature) -> bytes:
    """The document's information dictionary (object ``number``), dated when it was signed."""
    info = pdf_update.read_object(unsigned, number).dictionary
    stamp = b"(" + pdf_date(signature.signed_at).encode() + b")"
    for key in (b"/CreationDate", b"/ModDate"):
        info = _replace_value(info, key, stamp)
    return info


def _replace_value(dictionary: bytes, key: bytes, value: bytes) -> bytes:
    at = dictionary.find(key + b" (")
    if at < 0:
        return dictionary
    end = dictionary.find(b")", at)
    return dictionary[:at + len(key) + 1] + value + dictionary[end + 1:]


def _num(value: float) -> bytes:
    return (b"%.4f" % value).rstrip(b"0").rstrip(b".")
