"""Automatic eKYC at step 6: the engine seam, and the actions that record its decisions.

``init_app`` builds the :class:`kiosk.vision.engine.EkycEngine` from the settings
(FACE_ACCEPT_DISTANCE / FACE_REJECT_DISTANCE, calibrated in docs/vision-faces.md; MAX_IMAGE_PIXELS;
LIVENESS_MIRRORED) and keeps it in ``app.extensions["kiosk_ekyc"]``. Tests put a fake there.

The machine accepts alone only when the face matches the card portrait, the liveness challenge
passed, and the card says the declared ID number and birth date — through its QR code, on
whichever side it is (front of the 2021 chip CCCD, back of the 2024 căn cước), or through the
machine-readable zone of a passport — the zone (when read) agrees with the QR code and the
declared number, birth date and sex, and the document is not expired; otherwise a clerk
decides, and the customer is told what disagrees.
"""
from __future__ import annotations

import random

from flask import Flask, current_app

from kiosk import providers
from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import Registration, utcnow
from kiosk.domain.face_decision import FaceThresholds
from kiosk.domain.kyc import CUSTOMER_CARD_MESSAGES, Decision
from kiosk.services import evidence as evidence_service

EXTENSION_KEY = "kiosk_ekyc"


def build_engine(config):
    from kiosk.vision.engine import EkycEngine

    # FACE_MODEL, its own thresholds, FACE_SHADOW_MODEL, FACE_MODELS_DIR: wrong settings stop
    # the start-up with a ValueError naming the setting.
    return EkycEngine.from_config(config)


def init_app(app: Flask) -> None:
    # Building the engine loads no model: they load on first use, once per process.
    built = app.extensions.setdefault(EXTENSION_KEY, build_engine(app.config))
    problem = getattr(built, "model_problem", lambda: None)()
    if problem:  # each face check will fail with the same message and go to a clerk
        app.logger.error(problem)


def engine():
    return current_app.extensions[EXTENSION_KEY]


def thresholds() -> FaceThresholds:
    return engine().thresholds


def identity_problems(compared: dict, declared: dict, today=None) -> list[str]:
    """Why the card photos cannot vouch for the declared identity on their own (codes, see
    kiosk.domain.kyc.REVIEW_REASONS). ``compared["card"]`` is the read-card object of the card
    photos (both sides when both were taken)."""
    from datetime import date

    problems = []
    if compared.get("reference") not in ("card_portrait", "chip_portrait"):
        problems.append("no_card_in_photo")
    card = compared.get("card") or {}
    mrz = card.get("mrz") or {}
    declared_id = declared.get("id_number")
    passport = declared.get("id_type") == "passport" or card.get("card_kind") == "passport"
    if passport:
        # a passport has no QR code: its zone (check digits valid) vouches for the number
        if not mrz.get("valid"):
            problems.append("card_qr_unread")
        elif mrz.get("document_number") != declared_id:
            problems.append("card_number_differs")
    elif not card.get("id_number"):
        problems.append("card_qr_unread")
    elif card["id_number"] != declared_id:
        problems.append("card_number_differs")
    birth = card.get("date_of_birth") or (mrz.get("date_of_birth") if mrz.get("valid") else None)
    if birth and birth != declared.get("date_of_birth"):
        problems.append("card_birth_date_differs")
    if mrz.get("valid"):
        # the zone against what was typed (the QR code's own number is checked above)
        number = mrz.get("personal_number") if not passport else mrz.get("document_number")
        if not passport and number and declared_id and number != declared_id:
            problems.append("mrz_number_differs")
        if mrz.get("sex") and declared.get("gender") and mrz["sex"] != declared["gender"]:
            problems.append("mrz_sex_differs")
    if card.get("mismatches"):
        problems.append("mrz_qr_differ")
    expiry = card.get("expiry_date")
    if expiry and date.fromisoformat(expiry) < (today or _today()):
        problems.append("document_expired")
    return problems


def _today():
    from kiosk.domain.local_time import local_time

    return local_time(utcnow()).date()


def card_photos(reg: Registration) -> list[bytes]:
    """The card photos to read together: front first, then the back when there is one."""
    captures = evidence_service.latest_captures(reg)
    return [captures[k].content for k in ("card_front", "card_back") if k in captures]


SIDE_KINDS = {"front": "card_front", "data_page": "card_front", "back": "card_back"}


def add_card_photo(reg: Registration, kind: str, data: bytes, source: str) -> tuple[str, list[str]]:
    """Store a card photo under the side it actually shows (the customer may show either side
    first), check the card (both sides when both are there) and re-decide.

    Returns (the kind stored, what the customer must be told: expired document, the zone and
    the QR code or the declared data disagreeing). Raises ImageError for an unusable image."""
    engine().check_image(data)
    captures = evidence_service.latest_captures(reg)
    # the new photo first (its side is sides[0]), then the card photos already taken
    photos = [data] + [captures[k].content for k in ("card_front", "card_back") if k in captures]
    try:
        card = engine().read_card(photos)
    except Exception:  # vision must never take the kiosk down: keep the photo as labelled
        current_app.logger.exception("card check failed for %s", reg.number)
        card = {}
    side = (card.get("sides") or [None])[0]
    stored = SIDE_KINDS.get(side, kind)
    add_capture(reg, stored, data, source)
    problems = [p for p in identity_problems({"reference": "card_portrait", "card": card},
                                             reg.data)
                if p in CUSTOMER_CARD_MESSAGES and card]
    if card:
        audit.record("card_checked", reg, actor="system", kind=stored, side=side,
                     card_kind=card.get("card_kind"), sides=card.get("sides"),
                     mrz_found=bool((card.get("mrz") or {}).get("found")),
                     mrz_valid=bool((card.get("mrz") or {}).get("valid")),
                     expiry_date=card.get("expiry_date"), problems=problems)
        db.session.commit()
    messages = [CUSTOMER_CARD_MESSAGES[p] for p in problems]
    if "document_expired" in problems and card.get("expiry_date"):
        from datetime import date

        from kiosk.domain.identity import expiry_verdict

        verdict = expiry_verdict(date.fromisoformat(card["expiry_date"]), _today(),
                                 card.get("card_kind"))
        messages = [verdict.message if p == "document_expired" else CUSTOMER_CARD_MESSAGES[p]
                    for p in problems]
    return stored, messages


def staff_needed(reg: Registration) -> bool:
    decision = reg.kyc_decision
    if decision in (Decision.REVIEW, Decision.NO_FACE):
        return True
    return (decision == Decision.NO_MATCH
            and reg.face_attempts >= current_app.config["FACE_MAX_ATTEMPTS"])


def latest_face_match(reg: Registration) -> dict:
    """Details of the latest automatic decision (problems, reference, distance …), or {}."""
    return audit.latest(reg, "face_match")


def ensure_challenge(reg: Registration) -> list[str]:
    """The liveness challenge of this try (a new random order after each recording)."""
    if not reg.liveness_challenge:
        reg.liveness_challenge = engine().new_challenge(random.SystemRandom())
        db.session.commit()
    return reg.liveness_challenge


def decide_automatically(reg: Registration, live: bool) -> None:
    """Compare the face with the card portrait; record decision, distance and thresholds."""
    captures = evidence_service.latest_captures(reg)
    if "card_front" not in captures or "face" not in captures:
        return
    from kiosk.services import chip_reading

    chip = chip_reading.reference_for(reg)  # a signed chip portrait beats a photo of the card
    try:
        if chip is not None:
            result = {**engine().compare(chip.portrait, captures["face"].content),
                      "reference": "chip_portrait", "card": chip.identity}
        else:
            # both sides: the QR code may be on the back (2024 căn cước), the zone is on the back
            result = engine().compare(card_photos(reg), captures["face"].content)
    except Exception as exc:  # vision must never take the kiosk down: the clerk decides
        current_app.logger.exception("face comparison failed for %s", reg.number)
        result = {"decision": Decision.NO_FACE.value, "distance": None, "reference": None,
                  "card": {}, "error": type(exc).__name__}
    problems = identity_problems(result, reg.data)
    if not live:
        problems.append("no_liveness")
    decision = result["decision"]
    if decision == Decision.MATCH and problems:
        decision = Decision.REVIEW.value  # the face matches, but a clerk must look
    reg.face_attempts += 1
    reg.kyc_decision = decision
    reg.face_distance = result["distance"]
    th = thresholds()
    audit.record("face_match", reg, actor="system", decision=decision,
                 raw_decision=result["decision"], distance=result["distance"],
                 accept_threshold=th.accept, reject_threshold=th.reject,
                 reference=result.get("reference"), liveness=live, attempt=reg.face_attempts,
                 problems=problems, model=result.get("model"), shadow=result.get("shadow"))


def add_capture(reg: Registration, kind: str, data: bytes, source: str) -> None:
    """Store a photo (checked by the caller with ``engine().check_image``) and re-decide."""
    mime = engine().check_image(data)
    evidence_service.store(reg, kind, data, mime, source)
    if kind == "face":
        reg.liveness_passed_at = None  # this photo was not taken during the challenge
    if kind in ("face", "card_front", "card_back"):
        reg.kyc_decision = None
        decide_automatically(reg, live=reg.liveness_passed_at is not None)
    db.session.commit()


def record_liveness(reg: Registration, stamps: list[float], blobs: list[bytes]):
    """Judge a recorded challenge; on success keep its best frame as the face photo and decide.

    Returns the engine's verdict. Raises ImageError when a frame is not a usable image.
    """
    challenge = ensure_challenge(reg)
    verdict = engine().judge_liveness(stamps, blobs, challenge)
    audit.record("liveness_checked", reg, actor="system", state=verdict.state,
                 reason=verdict.reason, challenge=challenge, frames=len(blobs),
                 still=verdict.still)
    reg.liveness_challenge = None  # a new random order for any next try
    if verdict.state == "passed" and verdict.face_jpeg is not None:
        evidence_service.store(reg, "face", verdict.face_jpeg, "image/jpeg", "liveness")
        reg.liveness_passed_at = utcnow()
        decide_automatically(reg, live=True)
    db.session.commit()
    return verdict


def accept(reg: Registration, decision: Decision, actor: str) -> None:
    """The customer's photos are accepted (by the machine or a clerk): tell the backend, record.

    Raises ProviderError when the backend refuses or cannot be reached (nothing is recorded).
    """
    captures = evidence_service.latest_captures(reg)
    evidence = {kind: row.sha256 for kind, row in captures.items()}
    providers.registration_backend().submit_kyc(reg.subscriber_ref, decision.value, evidence)
    automatic = reg.kyc_decision
    reg.kyc_decision = decision.value
    reg.kyc_decided_at = utcnow()
    th = thresholds()
    audit.record("kyc_confirmed", reg, actor=actor, decision=decision.value,
                 automatic_decision=automatic, distance=reg.face_distance,
                 accept_threshold=th.accept, reject_threshold=th.reject, evidence=evidence)


def reject_by_staff(reg: Registration, actor: str) -> None:
    captures = evidence_service.latest_captures(reg)
    reg.kyc_decision = Decision.STAFF_REJECTED.value
    reg.face_attempts = 0
    audit.record("kyc_rejected", reg, actor=actor,
                 evidence={kind: row.sha256 for kind, row in captures.items()},
                 distance=reg.face_distance)
    db.session.commit()
