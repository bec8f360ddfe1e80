"""The signed copy of a document: the unsigned PDF, unchanged, plus the customer's drawing.

The unsigned document (layout.py) reserves the customer's box as an empty form XObject named
:data:`SLOT_FORM`. Signing gives that form new content, the signature and its time
(slot_drawing.py), and appends it as an incremental update (pdf_update.py). Readers show the
update; the bytes before it are exactly the document the customer read on the screen, and its
SHA-256 still checks.
"""
from __future__ import annotations

from kiosk.documents import pdf_update
from kiosk.documents.content import Signature, pdf_date
from kiosk.documents.pdf_update import PdfUpdateError
from kiosk.documents.pdf_update import number as pdf_number
from kiosk.documents.signature_image import SLOT_GEOMETRY
from kiosk.documents.slot_drawing import slot_drawing

SLOT_FORM = "signature"
_SLOT_REFERENCE = b"/FormXob." + SLOT_FORM.encode() + b" "


def sign_pdf(unsigned: bytes, signature: Signature) -> bytes:
    """``unsigned`` followed by an update that fills the customer's box. Raises ValueError for
    a drawing that is not a readable, non-empty image (as rendering did)."""
    at = unsigned.find(_SLOT_REFERENCE)
    if at < 0:
        raise PdfUpdateError("the document has no signature box")
    slot_number = int(unsigned[at + len(_SLOT_REFERENCE):].split(b" ", 1)[0])
    trailer = pdf_update.read_trailer(unsigned)
    drawing = slot_drawing(signature, first=trailer.size)
    g = SLOT_GEOMETRY
    # The drawing's space has the time line at the bottom; the form's origin is the box's corner.
    form = (b"<< /Type /XObject /Subtype /Form /FormType 1 /BBox [ 0 0 %s %s ] "
            b"/Matrix [ 1 0 0 1 0 %s ] /Resources %s /Filter /FlateDecode /Length %d >>\n"
            b"stream\n" % (pdf_number(g.width), pdf_number(g.height + g.below),
                           pdf_number(-g.below), drawing.resources, len(drawing.content))
            ) + drawing.content + b"\nendstream"
    return pdf_update.append_update(unsigned, {slot_number: form}, drawing.objects,
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

