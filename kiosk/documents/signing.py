"""The signed copy of a document: the unsigned PDF, unchanged, plus one incremental update that
draws the customer's signature and, with an office seal, carries the office's digital signature.

The unsigned document (layout.py) reserves the customer's box as an empty form XObject named
:data:`SLOT_FORM`. Signing gives that form new content, the drawing and its time
(slot_drawing.py), through pyHanko's incremental writer (ISO 32000-1 §7.5.6: every byte of the
original stays where it was). With a :class:`~kiosk.documents.seal.OfficeSeal` the same update
is then signed PAdES by the office (seal.py): the office's signature covers the whole file,
the customer's drawing included, so any later change shows. The bytes before the update are
exactly the document the customer read on the screen, and its SHA-256 still checks.
"""
from __future__ import annotations

import io
import threading
from typing import TYPE_CHECKING

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader

from kiosk.documents.content import Signature
from kiosk.documents.signature_image import SLOT_GEOMETRY
from kiosk.documents.slot_drawing import FONT_NAME, PICTURE_NAME, SlotDrawing, slot_drawing

if TYPE_CHECKING:
    from kiosk.documents.seal import OfficeSeal

SLOT_FORM = "signature"
# ReportLab names a form XObject's resource "FormXob." + its name.
_SLOT_RESOURCE = "/FormXob." + SLOT_FORM


class SigningError(ValueError):
    """The bytes are not a document with the customer's box (or not a PDF at all)."""


def sign_pdf(unsigned: bytes, signature: Signature, seal: OfficeSeal | None = None) -> bytes:
    """``unsigned`` followed by an update that fills the customer's box, sealed by the office
    when ``seal`` is given. Raises ValueError for a drawing that is not a readable, non-empty
    image, and :class:`SigningError` for a PDF without the customer's box."""
    drawing = slot_drawing(signature)  # the drawing is checked before the PDF is read
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(unsigned), strict=False)
        slot = _slot_reference(writer.prev)
    except (PdfError, KeyError, TypeError, ValueError) as exc:
        raise SigningError(f"not a document with the customer's box: {exc}") from exc
    # The box's form gets a new body under its old number (what pyHanko's mark_update does for
    # an object changed in place): every page that draws the form now draws the signature.
    writer.objects[(slot.generation, slot.idnum)] = _slot_form(writer, drawing)
    # The document is dated by its signing (the text was rendered when it was first shown).
    writer.document_meta.created = signature.signed_at
    if seal is not None:
        return seal.sign(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _slot_reference(reader: PdfFileReader) -> generic.Reference:
    """The customer's box: the form XObject a page's resources name ``FormXob.signature``.
    The last page is looked at first: the signatures close the document."""
    for number in reversed(range(reader.root["/Pages"]["/Count"])):
        _page, resources = reader.find_page_for_modification(number)
        xobjects = resources.get_object().get("/XObject", generic.DictionaryObject())
        xobjects = xobjects.get_object()
        if _SLOT_RESOURCE in xobjects:
            found = xobjects.raw_get(_SLOT_RESOURCE)
            if isinstance(found, generic.IndirectObject):
                return found.reference
    raise SigningError("the document has no signature box")


_kits = threading.local()


def _kit_font(kit_pdf: bytes) -> generic.PdfObject:
    """The kit's one font (a reference into the kit), from a reader kept per thread: parsing the
    kit and resolving its font's objects again for every signing was a fifth of its CPU. Per
    thread because a pyHanko reader seeks one stream as it reads; the last kit only (a time
    line with an unusual character has a kit of its own, rarely)."""
    last = getattr(_kits, "last", None)
    if last is not None and last[0] is kit_pdf:
        return last[1]
    kit = PdfFileReader(io.BytesIO(kit_pdf))
    kit_fonts = kit.find_page_for_modification(0)[1]["/Font"]
    (font,) = [kit_fonts.raw_get(name) for name in kit_fonts]  # the kit has one font
    _kits.last = (kit_pdf, font)
    return font


def _slot_form(writer: IncrementalPdfFileWriter, drawing: SlotDrawing) -> generic.StreamObject:
    """The box's new form: the drawing and the time line, with the time line's font imported
    from the kit PDF (its descriptor, TrueType file and /ToUnicode come along)."""
    g = SLOT_GEOMETRY
    width, height = drawing.picture_size
    image_keys = {
        "/Type": pdf_name("/XObject"), "/Subtype": pdf_name("/Image"),
        "/Width": generic.NumberObject(width), "/Height": generic.NumberObject(height),
        "/BitsPerComponent": generic.NumberObject(8), "/Filter": pdf_name("/FlateDecode"),
    }
    mask = writer.add_object(generic.StreamObject(
        generic.DictionaryObject({**image_keys, "/ColorSpace": pdf_name("/DeviceGray")}),
        encoded_data=drawing.alpha))
    picture = writer.add_object(generic.StreamObject(
        generic.DictionaryObject({**image_keys, "/ColorSpace": pdf_name("/DeviceRGB"),
                                  "/SMask": mask}),
        encoded_data=drawing.ink))
    font = writer.import_object(_kit_font(drawing.kit.pdf))
    resources = generic.DictionaryObject({
        "/ProcSet": generic.ArrayObject([pdf_name("/PDF"), pdf_name("/Text"),
                                         pdf_name("/ImageC")]),
        "/Font": generic.DictionaryObject({pdf_name("/" + FONT_NAME): font}),
        "/XObject": generic.DictionaryObject({pdf_name("/" + PICTURE_NAME): picture}),
    })
    real = generic.FloatObject
    form = generic.StreamObject(generic.DictionaryObject({
        "/Type": pdf_name("/XObject"), "/Subtype": pdf_name("/Form"),
        "/FormType": generic.NumberObject(1),
        "/BBox": generic.ArrayObject([generic.NumberObject(0), generic.NumberObject(0),
                                      real(round(g.width, 4)),
                                      real(round(g.height + g.below, 4))]),
        # The drawing's space has the time line at the bottom; the form's origin is the box's
        # corner.
        "/Matrix": generic.ArrayObject([generic.NumberObject(1), generic.NumberObject(0),
                                        generic.NumberObject(0), generic.NumberObject(1),
                                        generic.NumberObject(0), real(round(-g.below, 4))]),
        "/Resources": resources,
    }), stream_data=drawing.content)
    form.compress()
    return form
