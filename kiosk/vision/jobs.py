"""The jobs the vision pool runs (``kiosk.vision.pool``): module-level functions
``job(engine, *args)`` with plain, picklable answers, so that they run the same in a worker
process and inline (VISION_WORKERS = 0).

A photo's analysis is ONE job: everything the kiosk and the console will want from it (the card
read, the frame hash, the portrait cut out, a small preview) is computed while the photo is
decoded once, and stored with it (Evidence.findings / portrait / preview). Nothing reads the
photo again later. Pure: no Flask.
"""
from __future__ import annotations

import cv2

from kiosk.vision import carried_reads
from kiosk.vision.images import decode_image, decoding_once

# The console shows photos at most this big; the full photo stays the evidence.
PREVIEW_MAX_SIDE = 960
PREVIEW_JPEG_QUALITY = 85
# A preview shrunk to this or less is averaged (INTER_AREA): bilinear loses 1–3.4 dB more from
# 0.5 to 0.7 (a 1366–1900 px photo), 0.8 dB at a webcam's 0.75.
AREA_AT_SCALE = 0.74
FRONT_SIDES = ("front", "data_page")


def preview_jpeg(data: bytes, max_pixels: int) -> bytes | None:
    """A downscaled JPEG (long side ≤ PREVIEW_MAX_SIDE) of a photo, or None if it is unusable."""
    try:
        image, _ = decode_image(data, max_pixels, max_side=PREVIEW_MAX_SIDE)
    except Exception:  # an unusable picture has no preview: the console shows the photo
        return None
    side = max(image.shape[:2])
    if side > PREVIEW_MAX_SIDE:
        scale = PREVIEW_MAX_SIDE / side
        # A webcam's 1280 px to 960 is a reduction of a quarter: bilinear differs from the area
        # average by far less than the JPEG below loses (46–48 dB against 39.5 dB PSNR on drawn
        # cards with sharp print), at a sixth of its CPU. Anything reduced more is averaged.
        method = cv2.INTER_LINEAR if scale > AREA_AT_SCALE else cv2.INTER_AREA
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=method)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, PREVIEW_JPEG_QUALITY])
    return buf.tobytes() if ok else None


def _frame_hash(engine, data: bytes) -> str | None:
    try:
        return f"{engine.frame_hash(data):016x}"
    except Exception:  # no hash: the photo is never taken for a near-identical one
        return None


def _portrait(engine, data: bytes) -> bytes | None:
    """The card portrait cut out, or None. What the extras of a photo's analysis find must never
    cost the customer the photo (a vision bug included): the clerk then sees the whole card."""
    try:
        return engine.card_portrait_jpeg(data)
    except Exception:
        return None


@decoding_once()  # the read, the portrait cut and the preview decode the photo once
def card_photo(engine, data: bytes, others: list[bytes], requested_front: bool,
               read_print: bool = False, held_card: bool = False,
               carried: list[bytes] = (), hint: str | None = None) -> dict:
    """A card photo (step 6, and step 1's scan): the card read (this photo first, then the
    card photos already taken: the QR code may be on the other side), its frame hash, and —
    when it shows a front (or is taken as one) — the portrait cut out; a preview for the
    console.

    {"card": read-card dict or None (the read failed), "card_error": str | None,
     "frame_hash": hex | None, "portrait": JPEG | None, "preview": JPEG | None,
     "reads": this photo's reads packed (carried_reads), None when the read failed}

    ``read_print``: read the print by OCR when the QR code is not readable (step 1's scan,
    where the number fills the form; 0.3–1 s more). ``held_card``: the photos are camera shots
    of one side each (engine.read_card). ``carried``: the reads stored with ``others``
    (carried_reads: whichever worker this job lands on, they are not read again). ``hint``:
    where the camera's preview frames found the card just before this shot (engine.read_card)."""
    carried_reads.restore(carried, others, engine.max_pixels)
    card, error = None, None
    try:
        # step 6 reads no print: a number read off the print could not vouch for the identity
        # there anyway (a clerk compares it), and each photo would cost 0.3–1 s more
        card = engine.read_card([data, *others], read_print=read_print, held_card=held_card,
                                hint=hint)
    except Exception as exc:  # vision must never take the kiosk down: kept as labelled
        error = type(exc).__name__
    side = ((card or {}).get("sides") or [None])[0]
    portrait = None
    if side in FRONT_SIDES or (side is None and requested_front):
        portrait = _portrait(engine, data)
    return {"card": card, "card_error": error, "frame_hash": _frame_hash(engine, data),
            "portrait": portrait, "preview": preview_jpeg(data, engine.max_pixels),
            "reads": _packed_reads(engine, data)}


def _packed_reads(engine, data: bytes) -> bytes | None:
    try:
        return carried_reads.pack(carried_reads.photo_key(data, engine.max_pixels))
    except Exception:  # not carried: another process reads the photo again, as it always did
        return None


def face_photo(engine, data: bytes) -> dict:
    """A face photo's findings: its frame hash and a preview for the console."""
    return {"frame_hash": _frame_hash(engine, data),
            "preview": preview_jpeg(data, engine.max_pixels)}


@decoding_once()
def stored_photo(engine, kind: str, data: bytes) -> dict:
    """An older photo stored without findings (taken before they existed): what the console
    needs, computed once. The card read is of this photo alone, with the print read as the
    console always did."""
    found = {"frame_hash": _frame_hash(engine, data),
             "preview": preview_jpeg(data, engine.max_pixels), "card": None, "portrait": None}
    if kind in ("card_front", "card_back"):
        try:
            found["card"] = engine.read_card(data)
        except Exception:  # a picture the reader cannot use: the clerk still sees it
            found["card"] = None
    if kind == "card_front":
        found["portrait"] = _portrait(engine, data)
    return found


def compare(engine, cards, face: bytes, held_card: bool = False,
            carried: list[bytes] = ()) -> dict:
    """The face against the card photos (``carried``: their stored reads, card_photo)."""
    if not isinstance(cards, bytes | bytearray):
        carried_reads.restore(carried, cards, engine.max_pixels)
    return engine.compare(cards, face, held_card=held_card)


def judge_liveness(engine, stamps: list[float], blobs: list[bytes], challenge: list[str]):
    return engine.judge_liveness(stamps, blobs, challenge)


def read_card(engine, images, read_print: bool = True) -> dict:
    return engine.read_card(images, read_print=read_print)


def card_portrait(engine, data: bytes) -> bytes | None:
    return engine.card_portrait_jpeg(data)


def preview(engine, data: bytes, qr: bool = True, hint: str | None = None):
    return engine.preview(data, qr=qr, hint=hint)
