"""Automatic eKYC at step 6: runs the pure vision functions on stored evidence.

The decision values are kyc.Decision; thresholds come from the app config
(FACE_ACCEPT_DISTANCE / FACE_REJECT_DISTANCE, calibrated in docs/vision-faces.md).
"""
from __future__ import annotations

from flask import current_app

from .vision.decision import Thresholds
from .vision.images import ImageError, decode_image


def thresholds() -> Thresholds:
    cfg = current_app.config
    return Thresholds(accept=cfg["FACE_ACCEPT_DISTANCE"], reject=cfg["FACE_REJECT_DISTANCE"])


def card_portrait(image):
    """The portrait cut from a card frame, or None when no card is found in the frame."""
    try:
        from .vision.card import portrait_from_frame
    except ImportError:  # card reading not installed: treat the image as a portrait photo
        return None
    return portrait_from_frame(image)


def compare_faces(card_bytes: bytes, face_bytes: bytes) -> dict:
    """Card portrait (or, where no card is found, the photo itself) against the live face."""
    from .vision import faces

    max_pixels = current_app.config["MAX_IMAGE_PIXELS"]
    try:
        card, _ = decode_image(card_bytes, max_pixels)
        face, _ = decode_image(face_bytes, max_pixels)
    except ImageError:
        return {"decision": "no_face", "distance": None, "reference": None}
    portrait = card_portrait(card)
    reference = "card_portrait" if portrait is not None else "photo"
    result = faces.verify(portrait if portrait is not None else card, face, thresholds())
    return {**result, "reference": reference}
