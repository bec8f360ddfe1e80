"""The customer's box in the A4 documents, and the pad drawing prepared to fill it."""
from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image as PILImage
from PIL import ImageStat, UnidentifiedImageError
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from kiosk.documents.content import Signature


@dataclass(frozen=True)
class SlotGeometry:
    """In points. The box sits in the customer's half of the signature table (A4 with 20 mm
    margins, 8 mm kept clear each side); the time line is drawn in the row under it."""

    width: float = (A4[0] - 40 * mm) / 2 - 16 * mm
    height: float = 24 * mm
    gap: float = 1 * mm  # the box's row is 2 mm taller than the box, which sits in the middle
    note_size: float = 8.5
    note_leading: float = 11
    padding: float = 1  # the table's top and bottom cell padding

    @property
    def below(self) -> float:
        """From the box's bottom edge down to the bottom of the time line's row."""
        return self.gap + self.note_leading + 2 * self.padding

    @property
    def note_baseline(self) -> float:
        """The time line's baseline, above the bottom of its row (as a Paragraph sets it)."""
        return self.padding + self.note_leading - self.note_size


SLOT_GEOMETRY = SlotGeometry()

# The customer's box is ~70 × 24 mm. A pad exports its whole 900 × 360 canvas, ~330 dpi once
# fitted in the box: 200 dpi keeps a finger's stroke smooth on paper and on screen, and every
# pixel more is compressed and hashed again in each signed PDF (bench/bench_documents.py).
SIGNATURE_DPI = 200


def signature_picture(signature: Signature, max_width: float,
                      max_height: float) -> tuple[PILImage.Image, float, float]:
    """The pad drawing cropped to the ink, at most :data:`SIGNATURE_DPI`, in the pad's ink with
    the drawing as alpha; and its size in points, fitted in ``max_width`` × ``max_height``.

    Raises ValueError for bytes that are not an image and for a drawing with no ink."""
    picture = signature.picture
    if picture is None:
        try:
            picture = PILImage.open(io.BytesIO(signature.png_bytes))
            picture.load()
        except (UnidentifiedImageError, OSError) as exc:
            raise ValueError("signature is not a readable image") from exc
    if picture.mode != "RGBA":  # a pad's export already is (converting copies it: ~1 ms)
        picture = picture.convert("RGBA")
    # Pads export the whole canvas; crop to the strokes so the signature fills its box.
    ink = picture.getchannel("A").getbbox()
    if ink is None:
        raise ValueError("signature image is empty (fully transparent)")
    picture = picture.crop(ink)
    width, height = picture.size
    scale = min(max_width / width, max_height / height)  # points per pixel
    target_width = round(width * scale / 72 * SIGNATURE_DPI)
    if width > target_width * 1.2:
        picture = picture.resize((target_width, max(1, round(height * target_width / width))),
                                 PILImage.Resampling.BOX)
    # The alpha channel is the drawing; the pad paints in one ink. Colour planes filled with
    # that ink look the same and compress to almost nothing (the pixels outside the strokes
    # hold whatever the canvas left there).
    alpha = picture.getchannel("A")
    densest = alpha.getextrema()[1]  # > 0: the crop above found ink
    strokes = alpha.point(lambda a: 255 if 2 * a >= densest else 0)
    colour = tuple(round(v) for v in ImageStat.Stat(picture.convert("RGB"), mask=strokes).mean)
    picture = PILImage.new("RGB", picture.size, colour)
    picture.putalpha(alpha)
    return picture, width * scale, height * scale
