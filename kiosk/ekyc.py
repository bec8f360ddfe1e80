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


def reference_face(card_image) -> tuple[object | None, str, dict]:
    """What the live face is compared with, and what the card says.

    A frame where a card is found → its portrait ("card_portrait"; None when the portrait
    area is empty). No card in the frame → the image is taken as a portrait photo ("photo"):
    the kiosk then never decides alone, because a frame of a hand-held card can also show the
    holder's own face.
    """
    from .vision.read_card import read_card_and_portrait

    # One pass: the portrait is cut with the corners read_card found (QR settles which way up).
    info, portrait = read_card_and_portrait(card_image)
    if info["card_found"]:
        return portrait, "card_portrait", info
    return card_image, "photo", info


def compare_faces(card_bytes: bytes, face_bytes: bytes) -> dict:
    """Card portrait (or portrait photo) against the live face, plus the card's QR identity."""
    from .vision import faces

    max_pixels = current_app.config["MAX_IMAGE_PIXELS"]
    try:
        card, _ = decode_image(card_bytes, max_pixels)
        face, _ = decode_image(face_bytes, max_pixels)
    except ImageError:
        return {"decision": "no_face", "distance": None, "reference": None, "card": {}}
    reference, kind, info = reference_face(card)
    if reference is None:
        result = {"decision": "no_face", "distance": None}
    else:
        result = faces.verify(reference, face, thresholds())
    return {**result, "reference": kind,
            "card": {"id_number": info.get("id_number"), "date_of_birth": info.get("date_of_birth")}}


def identity_problems(compared: dict, declared: dict) -> list[str]:
    """Why the card photo cannot vouch for the declared identity on its own (codes)."""
    problems = []
    if compared.get("reference") != "card_portrait":
        problems.append("no_card_in_photo")
    card = compared.get("card") or {}
    if not card.get("id_number"):
        problems.append("card_qr_unread")
    elif card["id_number"] != declared.get("id_number"):
        problems.append("card_number_differs")
    if card.get("date_of_birth") and card["date_of_birth"] != declared.get("date_of_birth"):
        problems.append("card_birth_date_differs")
    return problems
