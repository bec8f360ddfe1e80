"""Automatic eKYC at step 6: the engine seam, and the actions that record its decisions.

``init_app`` builds the :class:`kiosk.vision.engine.EkycEngine` from the settings
(FACE_ACCEPT_DISTANCE / FACE_REJECT_DISTANCE, calibrated in docs/vision-faces.md; MAX_IMAGE_PIXELS;
LIVENESS_MIRRORED) and keeps it in ``app.extensions["kiosk_ekyc"]``. Tests put a fake there.

The machine accepts alone only when the face matches the card portrait, the liveness challenge
passed, and the card's QR says the declared ID number and birth date; otherwise a clerk decides.
"""
from __future__ import annotations

import random

from flask import Flask, current_app

from kiosk import providers
from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import Registration, utcnow
from kiosk.domain.face_decision import FaceThresholds
from kiosk.domain.kyc import Decision
from kiosk.services import evidence as evidence_service

EXTENSION_KEY = "kiosk_ekyc"


def build_engine(config):
    from kiosk.vision.engine import EkycEngine

    return EkycEngine(
        thresholds=FaceThresholds(accept=config["FACE_ACCEPT_DISTANCE"],
                                  reject=config["FACE_REJECT_DISTANCE"]),
        max_pixels=config["MAX_IMAGE_PIXELS"],
        mirrored=config["LIVENESS_MIRRORED"],
    )


def init_app(app: Flask) -> None:
    # Building the engine loads no model: they load on first use, once per process.
    app.extensions.setdefault(EXTENSION_KEY, build_engine(app.config))


def engine():
    return current_app.extensions[EXTENSION_KEY]


def thresholds() -> FaceThresholds:
    return engine().thresholds


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


# ---- transaction shape -----------------------------------------------------------------------
# SQLite has one write lock for the whole database. A request that writes a row and then spends
# a second in OpenCV keeps every other kiosk (and the clerk's console) waiting, and past the
# busy timeout they fail with "database is locked". So every action below runs in two phases:
# first read what it needs and compute (vision) with no write pending, then write all rows and
# commit at once. On PostgreSQL the same shape keeps row locks short.

def _finish_pending_writes() -> None:
    """End whatever the caller left open, so the slow phase starts outside any transaction."""
    # Committed even when nothing is pending: the caller may already have flushed (the lock is
    # then held with nothing left in new/dirty). A read-only commit costs one reload of `reg`.
    if db.session().in_transaction():
        db.session.commit()


def compare_faces(card_bytes: bytes, face_bytes: bytes) -> dict:
    """The engine's comparison (slow, no database); a vision failure becomes NO_FACE."""
    try:
        return engine().compare(card_bytes, face_bytes)
    except Exception as exc:  # vision must never take the kiosk down: the clerk decides
        current_app.logger.exception("face comparison failed")
        return {"decision": Decision.NO_FACE.value, "distance": None, "reference": None,
                "card": {}, "error": type(exc).__name__}


def face_match_details(reg: Registration, result: dict, live: bool) -> dict:
    """What the face_match audit row says about a comparison (decision after identity checks).

    Kept as a plain dict so more facts (e.g. a shadow engine's opinion) can be added to the
    same row before it is written.
    """
    problems = identity_problems(result, reg.data)
    if not live:
        problems.append("no_liveness")
    decision = result["decision"]
    if decision == Decision.MATCH and problems:
        decision = Decision.REVIEW.value  # the face matches, but a clerk must look
    th = thresholds()
    return {"decision": decision, "raw_decision": result["decision"],
            "distance": result["distance"], "accept_threshold": th.accept,
            "reject_threshold": th.reject, "reference": result.get("reference"),
            "liveness": live, "problems": problems}


def record_decision(reg: Registration, details: dict) -> None:
    """Write a computed decision (not committed: the caller commits with its other rows)."""
    reg.face_attempts += 1
    reg.kyc_decision = details["decision"]
    reg.face_distance = details["distance"]
    audit.record("face_match", reg, actor="system", attempt=reg.face_attempts, **details)


def _decision_for(reg: Registration, card: bytes | None, face: bytes | None,
                  live: bool) -> dict | None:
    """Compute (never write) the decision for this pair of photos; None while one is missing."""
    if card is None or face is None:
        return None
    return face_match_details(reg, compare_faces(card, face), live)


def _latest_contents(reg: Registration) -> dict[str, bytes]:
    with db.session.no_autoflush:
        return {kind: row.content for kind, row in evidence_service.latest_captures(reg).items()}


def decide_automatically(reg: Registration, live: bool) -> None:
    """Compare the latest face with the latest card portrait, then record the decision.

    The comparison runs before anything is written; the caller commits.
    """
    _finish_pending_writes()
    contents = _latest_contents(reg)
    details = _decision_for(reg, contents.get("card_front"), contents.get("face"), live)
    if details is not None:
        record_decision(reg, details)


def add_capture(reg: Registration, kind: str, data: bytes, source: str) -> None:
    """Store a photo (ImageError when it is not a usable image) and re-decide.

    Vision first (check the image, compare with the other photo), then one short write.
    """
    _finish_pending_writes()
    mime = engine().check_image(data)
    details = None
    if kind in ("face", "card_front"):
        contents = _latest_contents(reg)
        contents[kind] = data
        # A face photo taken here was not taken during the challenge.
        live = kind != "face" and reg.liveness_passed_at is not None
        details = _decision_for(reg, contents.get("card_front"), contents.get("face"), live)
    evidence_service.store(reg, kind, data, mime, source)
    if kind == "face":
        reg.liveness_passed_at = None
    if kind in ("face", "card_front"):
        reg.kyc_decision = None
        if details is not None:
            record_decision(reg, details)
    db.session.commit()


def record_liveness(reg: Registration, stamps: list[float], blobs: list[bytes]):
    """Judge a recorded challenge; on success keep its best frame as the face photo and decide.

    Returns the engine's verdict. Raises ImageError when a frame is not a usable image (nothing
    is written then). Vision first (judge, compare), then one short write.
    """
    challenge = ensure_challenge(reg)
    _finish_pending_writes()
    verdict = engine().judge_liveness(stamps, blobs, challenge)
    details = None
    passed = verdict.state == "passed" and verdict.face_jpeg is not None
    if passed:
        card = _latest_contents(reg).get("card_front")
        details = _decision_for(reg, card, verdict.face_jpeg, live=True)
    audit.record("liveness_checked", reg, actor="system", state=verdict.state,
                 reason=verdict.reason, challenge=challenge, frames=len(blobs),
                 still=verdict.still)
    reg.liveness_challenge = None  # a new random order for any next try
    if passed:
        evidence_service.store(reg, "face", verdict.face_jpeg, "image/jpeg", "liveness")
        reg.liveness_passed_at = utcnow()
        if details is not None:
            record_decision(reg, details)
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
