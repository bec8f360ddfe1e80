"""Read the front of a chip CCCD from one camera frame: the pipeline behind
``flask --app kiosk vision read-card IMAGE`` (docs/cli.md).

    find the card (card.find_card, via guidance.analyse_frame, which also judges the frame)
    → decode the QR code (qr.decode_card_qr: card region first, then the whole frame)
    → parse it (identity.qr_payload.parse_cccd_qr)
    → check that the portrait area holds a face (card.portrait_crop + card.portrait_has_face)

Nothing heavy happens at import time: dlib's HOG face detector (built into dlib, no weights
file) is loaded on the first portrait check, through ``kiosk.vision.dlib_models``.
"""
from __future__ import annotations

from datetime import date

import cv2
import numpy as np

from kiosk.domain.identity.qr_payload import QrPayloadError, parse_cccd_qr
from kiosk.vision import card as cardmod
from kiosk.vision import guidance
from kiosk.vision import qr_decode as qr

FIELDS = ("id_number", "old_id_number", "full_name", "date_of_birth", "gender", "address",
          "issue_date")


def _empty_fields() -> dict:
    return dict.fromkeys(FIELDS)


def _upside_down(corners: np.ndarray, qr_points: np.ndarray) -> bool:
    """Whether the QR code (found anywhere in the frame) sits where the top-right corner of
    the card would be if the card were upside down under this corner ordering."""
    centre = qr_points.reshape(-1, 2).mean(axis=0).astype(np.float32)
    on_card = cv2.perspectiveTransform(centre[None, None], cardmod.card_homography(corners))[0, 0]
    w, h = cardmod.CARD_SIZE
    return bool(on_card[0] < w / 2 and on_card[1] > h / 2)


def _upside_down_in_frame(corners: np.ndarray) -> bool:
    """The card's top edge (as it reads) runs right-to-left in the frame."""
    dx, dy = corners[1] - corners[0]
    return bool(abs(np.degrees(np.arctan2(dy, dx))) > 90)


def _plausible(corners: np.ndarray, shape: tuple[int, ...]) -> bool:
    """Corners extrapolated from the QR code: keep them only if the card mostly lies in the frame."""
    h, w = shape[:2]
    inside = ((corners[:, 0] > -0.15 * w) & (corners[:, 0] < 1.15 * w)
              & (corners[:, 1] > -0.15 * h) & (corners[:, 1] < 1.15 * h))
    return bool(inside.all())


def read_card(image: np.ndarray, today: date | None = None) -> dict:
    """The read-card JSON object (without ``elapsed_ms``); see :func:`read_card_and_portrait`."""
    return read_card_and_portrait(image, today)[0]


def read_card_and_portrait(image: np.ndarray, today: date | None = None
                           ) -> tuple[dict, np.ndarray | None]:
    """The read-card JSON object (without ``elapsed_ms``, which the CLI adds), and the card's
    portrait crop (None without a card) — so a face check needs no second card search.

    ``image``: a camera frame or photo of the card front (BGR, BGRA or grey uint8 array).
    Keys: card_found, id_number, old_id_number, full_name, date_of_birth ("YYYY-MM-DD"),
    gender ("Nam"/"Nữ"), address, issue_date, portrait_found, quality. With no card every
    field is None and portrait_found False. ``quality`` holds the guidance verdict (ok, issues,
    messages) and metrics, plus what happened to the QR code (qr_found, qr_decoder, qr_valid,
    qr_error) and how the card was located (card_located_by: "outline" | "qr" | None).
    """
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError("read_card needs a uint8 image array (grey, BGR or BGRA)")
    frame = cardmod.to_bgr(image)
    verdict = guidance.analyse_frame(frame)
    corners = verdict.corners
    located_by = "outline" if corners is not None else None

    result = qr.decode_card_qr(frame, corners)
    if result is not None:
        if result.where == "card_rotated":
            corners = cardmod.rotate_corners(corners, 2)
        elif result.where == "frame" and result.points is not None:
            if corners is None:
                guess = cardmod.corners_from_qr(result.points)
                if _plausible(guess, frame.shape):
                    corners, located_by = guess, "qr"
            elif _upside_down(corners, result.points):
                corners = cardmod.rotate_corners(corners, 2)

    fields = _empty_fields()
    qr_error = None
    if result is not None:
        try:
            data = parse_cccd_qr(result.text, today=today)
        except QrPayloadError as err:
            qr_error = err.message
        else:
            fields.update(
                id_number=data.id_number,
                old_id_number=data.old_id_number,
                full_name=data.full_name,
                date_of_birth=data.date_of_birth.isoformat(),
                gender=data.gender,
                address=data.address,
                issue_date=data.issue_date.isoformat(),
            )

    card_found = corners is not None
    portrait_found = False
    crop = None
    if card_found:
        crop = cardmod.portrait_crop(frame, corners)  # corners already turned the QR's way up
        portrait_found = bool(cardmod.portrait_has_face(crop))
    else:
        fields = _empty_fields()  # no card: nothing to report, even from a stray QR code

    quality = {
        "ok": verdict.ok,
        "issues": list(verdict.issues),
        "messages": list(verdict.messages),
        **verdict.metrics,
        "card_located_by": located_by,
        "upside_down": card_found and _upside_down_in_frame(corners),
        "qr_found": result is not None,
        "qr_decoder": result.decoder if result else None,
        "qr_valid": result is not None and qr_error is None,
        "qr_error": qr_error,
    }
    return {"card_found": card_found, **fields, "portrait_found": portrait_found,
            "quality": quality}, crop


def portrait_from_frame(image: np.ndarray) -> np.ndarray | None:
    """The portrait of the card in a camera frame, or None when no card is found.

    Like :func:`card.portrait_crop`, but the QR code settles which way up the card is (when the
    texture check of :func:`card.find_card` could not, e.g. in a blurred frame), and when the card
    outline is not found (a hand over two corners, a busy background) the card's place is
    extrapolated from the QR code. For a plain portrait photo it returns None."""
    corners = cardmod.find_card(image)
    if corners is not None:
        found = qr.decode_card_qr(image, corners, search_frame=False)
        if found is not None and found.where == "card_rotated":
            corners = cardmod.rotate_corners(corners, 2)
        return cardmod.portrait_crop(image, corners)
    if cardmod._looks_like_bare_card(image):
        return cardmod.portrait_crop(image)
    found = qr.decode_card_qr(image, None)
    if found is None or found.points is None:
        return None
    corners = cardmod.corners_from_qr(found.points)
    h, w = image.shape[:2]
    if not cardmod._inside(corners, w, h, margin=0.15):
        return None
    return cardmod.portrait_crop(image, corners)
