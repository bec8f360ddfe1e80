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
from kiosk.core.models import Evidence, Registration, utcnow
from kiosk.domain import step6
from kiosk.domain.face_decision import FaceThresholds
from kiosk.domain.kyc import CUSTOMER_CARD_MESSAGES, Decision, identity_problems
from kiosk.domain.step6 import CardOutcome
from kiosk.services import evidence as evidence_service
from kiosk.services import photo_findings, registrations, vision_pool
from kiosk.services.vision_pool import VisionBusy
from kiosk.vision import jobs
from kiosk.vision.card_track import HINT_MAX_TEXT

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


def _today():
    from kiosk.domain.local_time import local_time

    return local_time(utcnow()).date()


CARD_KINDS = ("card_front", "card_back")
# Photos taken by the kiosk's camera: one side of a card held up (step 1's scan, step 6's shots).
# An upload may be a scan or a photocopy showing both sides.
HELD_CARD_SOURCES = ("camera", "scan")
SIDE_KINDS = {"front": "card_front", "data_page": "card_front", "back": "card_back"}


def add_card_photo(reg: Registration, kind: str, data: bytes, source: str,
                   retake: bool = False, track: str | None = None
                   ) -> tuple[CardOutcome, list[str], dict[str, Evidence]]:
    """One card photo through step 6's state machine (``kiosk.domain.step6``): stored under the
    side it actually shows (the customer may show either side first) unless that side is
    already stored in this attempt (the wrong side held up, or the same frame shot again); the
    card checked (both sides when both are there) and the face re-decided when it is stored.

    Returns (the outcome: state, side, what to say; what the customer must be told besides:
    expired document, the zone and the QR code or the declared data disagreeing; the latest
    photos by kind now). Raises ImageError for an unusable image. The card check and the face
    comparison (slow) run before anything is written (see «transaction shape» below). One
    audit row per decision: the same refusal again (the camera still on the same side) is not
    recorded again.

    The photo's analysis (the card read, its frame hash, the portrait cut out, a preview) is
    one job of the vision pool, stored with the photo (services/photo_findings). VisionBusy
    (nothing written) when the pool cannot take it now: the kiosk sends the photo again.
    ``track``: where the camera's last preview frame found the card (static/js/guidance.js);
    the read looks there first. Only a camera shot has one: an upload's is ignored."""
    mime = engine().check_image(data)
    latest = _latest_rows(reg)
    # the new photo first (its side is sides[0]), then the card photos already taken
    taken = [latest[k] for k in CARD_KINDS if k in latest]
    # a camera shot is one side of the card held up; an upload may be a page showing both
    # (read_card.read_side)
    found = vision_pool.run("card_photo", jobs.card_photo, data, [row.content for row in taken],
                            kind == "card_front", False, source in HELD_CARD_SOURCES,
                            photo_findings.carried(taken), camera_track(source, track),
                            registration=reg)
    card = found["card"]
    if card is None:  # vision must never take the kiosk down: keep the photo as labelled
        current_app.logger.error("card check failed for %s (%s)", reg.number,
                                 found.get("card_error"))
        card = {}
    else:
        from kiosk.services.preview_qr import with_recent_qr

        try:
            card = with_recent_qr(reg, card)
        except Exception:  # the read stands without the preview's QR code
            current_app.logger.exception("card check failed for %s", reg.number)
    side = (card.get("sides") or [None])[0]
    seen = SIDE_KINDS.get(side, kind)
    new_hash = int(found["frame_hash"], 16) if found.get("frame_hash") else None
    outcome = step6.decide(step6.CardShot(
        requested=kind, seen=seen, stored=frozenset(k for k in CARD_KINDS if k in latest),
        near_identical=_near_identical(new_hash, latest.get(seen)), retake=retake))
    if not outcome.store:
        if not step6.repeats(outcome, audit.latest(reg, "card_checked")):
            audit.record("card_checked", reg, actor="system", state=outcome.state,
                         kind=outcome.kind, requested=kind, side=side)
        return outcome, [], latest
    stored = outcome.kind
    analysis = photo_findings.from_card_job(found, card)
    if stored != "card_front":
        analysis = analysis._replace(portrait=None)  # cut from what showed no front
    latest = add_capture(reg, stored, data, source, mime, latest=latest, analysis=analysis)
    problems = [p for p in identity_problems({"reference": "card_portrait", "card": card},
                                             reg.data, _today())
                if p in CUSTOMER_CARD_MESSAGES and card]
    if card:
        audit.record("card_checked", reg, actor="system", state=outcome.state, kind=stored,
                     requested=kind, side=side,
                     card_kind=card.get("card_kind"), sides=card.get("sides"),
                     mrz_found=bool((card.get("mrz") or {}).get("found")),
                     mrz_valid=bool((card.get("mrz") or {}).get("valid")),
                     expiry_date=card.get("expiry_date"), problems=problems)
    messages = [CUSTOMER_CARD_MESSAGES[p] for p in problems]
    if "document_expired" in problems and card.get("expiry_date"):
        from datetime import date

        from kiosk.domain.identity import expiry_verdict

        verdict = expiry_verdict(date.fromisoformat(card["expiry_date"]), _today(),
                                 card.get("card_kind"))
        messages = [verdict.message if p == "document_expired" else CUSTOMER_CARD_MESSAGES[p]
                    for p in problems]
    return outcome, messages, latest


def _near_identical(new_hash: int | None, stored: Evidence | None) -> bool:
    """Nearly the same picture as the stored photo (a card held still, shot again): the hashes
    computed when each was taken (an older photo's, once, through the pool)."""
    if stored is None or new_hash is None:
        return False
    old_hash = photo_findings.frame_hash(stored)
    return old_hash is not None and step6.nearly_same(new_hash, old_hash)


def card_portrait(row) -> bytes | None:
    """The portrait cut from a stored card-front photo (JPEG) when it was taken, for a clerk's
    side-by-side check; None for another kind of photo, or when no portrait is found."""
    return photo_findings.portrait(row)


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
    """The liveness challenge of this try (a new random order after each recording).

    Not committed here: the screen that shows the challenge is the response of this request,
    and the request commits before the response leaves, so the recording the browser posts
    afterwards always finds the challenge it followed."""
    if not reg.liveness_challenge:
        reg.liveness_challenge = engine().new_challenge(random.SystemRandom())
    return reg.liveness_challenge


def challenge_prompts(reg: Registration) -> list[tuple[str, str]]:
    """The challenge of this try with what the screen says for each action."""
    prompts = engine().prompts()
    return [(action, prompts[action]) for action in ensure_challenge(reg)]


LIVENESS_LOOKBACK = 20  # recordings looked at when counting failures in a row


def liveness_failures(reg: Registration) -> int:
    """Failed liveness recordings since the last one that passed (newest first, at most
    :data:`LIVENESS_LOOKBACK`)."""
    from sqlalchemy import select

    from kiosk.core.models import AuditEvent

    rows = db.session.scalars(
        select(AuditEvent.details)
        .where(AuditEvent.registration_id == reg.id, AuditEvent.event == "liveness_checked")
        .order_by(AuditEvent.id.desc()).limit(LIVENESS_LOOKBACK))
    failures = 0
    for details in rows:
        if (details or {}).get("state") == "passed":
            break
        failures += 1
    return failures


# ---- transaction shape -----------------------------------------------------------------------
# SQLite has one write lock for the whole database, taken at the first flushed write and held
# until the commit. A request that writes a row and then spends a second in OpenCV keeps every
# other kiosk (and the clerk's console) waiting, and past the busy timeout they fail with
# "database is locked". So every action below runs in two phases: first read what it needs and
# compute (vision) with nothing written, then write all rows; the request commits them once,
# after the view (services/unit_of_work). The step views call these actions before anything of
# theirs writes (the screen's own writes, e.g. the challenge, come after, while rendering). On
# PostgreSQL the same shape keeps row locks short.

def compare_faces(reg: Registration, cards: list[bytes], face_bytes: bytes,
                  chip=None, held_card: bool = False, carried: list[bytes] = ()) -> dict:
    """The engine's comparison (slow, no writes); a vision failure becomes NO_FACE.

    The reference is the chip's signed portrait when a chip read was verified (a photo of a
    printed card can be forged), else the card photos: both sides, since the QR code may be on
    the back (2024 căn cước) and the machine-readable zone is on the back. ``chip``: the
    reference of a read not recorded yet (step 6's chip check); else the recorded one, if any.
    ``held_card``: the card photos are all camera shots, one side each (:func:`_held_card`).
    ``carried``: the card reads stored with the photos (vision/carried_reads).
    """
    from kiosk.services import chip_reading

    try:
        chip = chip if chip is not None else chip_reading.reference_for(reg)
        if chip is not None:
            return {**vision_pool.run("compare", jobs.compare, chip.portrait, face_bytes),
                    "reference": "chip_portrait", "card": chip.identity}
        return vision_pool.run("compare", jobs.compare, cards, face_bytes, held_card,
                               list(carried), registration=reg)
    except VisionBusy:  # not a verdict on the face: nothing is decided, the kiosk retries
        raise
    except Exception as exc:  # vision must never take the kiosk down: the clerk decides
        current_app.logger.exception("face comparison failed")
        return {"decision": Decision.NO_FACE.value, "distance": None, "reference": None,
                "card": {}, "error": type(exc).__name__}


def face_match_details(reg: Registration, result: dict, live: bool) -> dict:
    """What the face_match audit row says about a comparison (decision after identity checks).

    Kept as a plain dict so more facts (e.g. a shadow engine's opinion) can be added to the
    same row before it is written.
    """
    problems = identity_problems(result, reg.data, _today())
    if not live:
        problems.append("no_liveness")
    decision = result["decision"]
    if decision == Decision.MATCH and problems:
        decision = Decision.REVIEW.value  # the face matches, but a clerk must look
    th = thresholds()
    return {"decision": decision, "raw_decision": result["decision"],
            "distance": result["distance"], "accept_threshold": th.accept,
            "reject_threshold": th.reject, "reference": result.get("reference"),
            "liveness": live, "problems": problems, "model": result.get("model"),
            "shadow": result.get("shadow")}


def record_decision(reg: Registration, details: dict, new_attempt: bool = True) -> None:
    """Write a computed decision (not committed: the caller commits with its other rows).
    ``new_attempt``: False when the same photos are judged again (a new reference portrait),
    which must not use up one of the customer's tries."""
    if new_attempt:
        reg.face_attempts += 1
    reg.kyc_decision = details["decision"]
    reg.face_distance = details["distance"]
    audit.record("face_match", reg, actor="system", attempt=reg.face_attempts, **details)


def _decision_for(reg: Registration, contents: dict[str, bytes], live: bool,
                  chip=None, *, sources: dict[str, str],
                  carried: list[bytes] = ()) -> dict | None:
    """Compute (never write) the decision for these photos; None while the front or the face
    is missing. ``contents``: kind → bytes of the latest photos (with any new one in place);
    ``sources``: kind → how each was taken (camera, upload …); ``carried``: the card reads
    stored with them."""
    if contents.get("card_front") is None or contents.get("face") is None:
        return None
    cards = [contents[k] for k in CARD_KINDS if contents.get(k) is not None]
    # with a chip read, its signed portrait is the reference: the card photos are not read
    compared = compare_faces(reg, cards, contents["face"], chip) if chip is not None \
        else compare_faces(reg, cards, contents["face"], held_card=_held_card(sources),
                           carried=carried)
    return face_match_details(reg, compared, live)


def camera_track(source: str, track: str | None) -> str | None:
    """The preview's ``track`` to hand to a card photo's read: a camera shot's only (the
    kiosk's camera, at step 6 or step 1's scan), and only as much text as a track can be (the
    vision checks the rest: kiosk.vision.card_track)."""
    if source not in HELD_CARD_SOURCES or not track or len(track) > HINT_MAX_TEXT:
        return None
    return track


def _held_card(sources: dict[str, str]) -> bool:
    """Whether every card photo is a shot of the kiosk's camera (one side of the card held up,
    read as such: read_card.read_side); an upload may be a page showing both sides."""
    return all(sources.get(kind) in HELD_CARD_SOURCES for kind in CARD_KINDS if kind in sources)


def _latest_rows(reg: Registration) -> dict[str, Evidence]:
    with db.session.no_autoflush:
        return evidence_service.latest_captures(reg, with_content=True)


def _latest_contents(reg: Registration) -> tuple[dict[str, bytes], dict[str, str], list[bytes]]:
    """The latest photos' bytes and how each was taken, by kind; the card reads stored with
    them."""
    rows = _latest_rows(reg)
    return ({kind: row.content for kind, row in rows.items()},
            {kind: row.source for kind, row in rows.items()},
            photo_findings.carried(rows.values()))


def decision_against(reg: Registration, chip, live: bool) -> dict | None:
    """The decision for the latest photos against a chip reference not recorded yet (or, with
    ``chip`` None, the usual reference): computed, never written — :func:`record_decision`
    writes it. None while the front or the face is missing."""
    contents, sources, carried = _latest_contents(reg)
    return _decision_for(reg, contents, live, chip, sources=sources, carried=carried)


def add_capture(reg: Registration, kind: str, data: bytes, source: str,
                mime: str | None = None,
                latest: dict[str, Evidence] | None = None,
                analysis: tuple | None = None) -> dict[str, Evidence]:
    """Store a photo (ImageError when it is not a usable image) and re-decide; returns the
    latest photos by kind, this one included (the screen lists them: not read again).

    Vision first (check the image, compare with the other photo), then the writes (flushed;
    the request commits: the photo is kept even when the comparison failed, which it reports
    as NO_FACE rather than raising).
    ``mime``: the caller has already checked the image (and got its type): not decoded again.
    ``latest``: the latest photos by kind, when the caller has just read them (not read again).
    ``analysis``: what the caller's vision job found in the photo (photo_findings.
    PhotoAnalysis); without it the photo is analysed here (one pool job).
    """
    mime = mime or engine().check_image(data)
    if analysis is None:
        analysis = _analyse(reg, kind, data)
    details = None
    latest = dict(latest) if latest is not None else _latest_rows(reg)
    if kind in ("face", "card_front", "card_back"):
        contents = {k: row.content for k, row in latest.items()}
        contents[kind] = data
        sources = {k: row.source for k, row in latest.items()}
        sources[kind] = source
        # the reads of the photos kept, and of the new one (its own job's)
        carried = photo_findings.carried(row for k, row in latest.items() if k != kind)
        if analysis.reads:
            carried.append(analysis.reads)
        # A face photo taken here was not taken during the challenge.
        live = kind != "face" and reg.liveness_passed_at is not None
        details = _decision_for(reg, contents, live, sources=sources, carried=carried)
    latest[kind] = evidence_service.store(reg, kind, data, mime, source, **analysis.stored())
    if kind == "face":
        reg.liveness_passed_at = None  # this photo was not taken during the challenge
    if kind in ("face", "card_front", "card_back"):
        reg.kyc_decision = None
        if details is not None:
            record_decision(reg, details)
    return latest


def _analyse(reg: Registration, kind: str, data: bytes) -> photo_findings.PhotoAnalysis:
    """What a photo stored without the step-6 card path (an uploaded scan, a face photo)
    shows: one pool job."""
    if kind in CARD_KINDS:
        found = vision_pool.run("card_photo", jobs.card_photo, data, [], kind == "card_front",
                                registration=reg)
        analysis = photo_findings.from_card_job(found, found["card"])
        return analysis if kind == "card_front" else analysis._replace(portrait=None)
    return photo_findings.from_face_job(vision_pool.run("face_photo", jobs.face_photo, data))


def record_liveness(reg: Registration, stamps: list[float], blobs: list[bytes]):
    """Judge a recorded challenge; on success keep its best frame as the face photo and decide.

    Returns the engine's verdict. Raises ImageError when a frame is not a usable image (nothing
    is written then). Vision first (judge, compare), then the writes (flushed; the request
    commits).
    """
    # The challenge the screen showed (committed with that screen). Without one the recording
    # followed none: it is judged against a fresh order, which it will fail, and nothing is
    # written before the judgement.
    challenge = reg.liveness_challenge or engine().new_challenge(random.SystemRandom())
    verdict = vision_pool.run("liveness", jobs.judge_liveness, stamps, blobs, challenge)
    details = None
    passed = verdict.state == "passed" and verdict.face_jpeg is not None
    if passed:
        contents, sources, carried = _latest_contents(reg)
        contents["face"] = verdict.face_jpeg
        details = _decision_for(reg, contents, live=True, sources=sources, carried=carried)
    audit.record("liveness_checked", reg, actor="system", state=verdict.state,
                 reason=verdict.reason, challenge=challenge, frames=len(blobs),
                 still=verdict.still)
    reg.liveness_challenge = None  # a new random order for any next try
    if passed:
        # the best frame of a 480-px recording: small already, shown as it is (no preview)
        evidence_service.store(reg, "face", verdict.face_jpeg, "image/jpeg", "liveness",
                               findings={"frame_hash": None, "source": "liveness"})
        reg.liveness_passed_at = utcnow()
        if details is not None:
            record_decision(reg, details)
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


NOT_MATCHED_YET = "Chưa xác thực tự động được. Vui lòng làm theo hướng dẫn."


def continue_after_match(reg: Registration) -> tuple[int | None, str | None]:
    """The customer goes on after the machine's own MATCH (liveness passed): the backend is
    told, step 6 is complete. Returns (the next step, None), or (None, what to tell the
    customer) when there is no such match yet or the backend refused (nothing recorded)."""
    if reg.kyc_decision != Decision.MATCH or reg.liveness_passed_at is None:
        return None, NOT_MATCHED_YET
    try:
        accept(reg, Decision.MATCH, "system")
    except providers.ProviderError as err:
        return None, err.message
    return registrations.complete_step(reg, 6), None


def reject_by_staff(reg: Registration, actor: str) -> None:
    """A clerk did not accept the photos: the face tries END here (the tries are not given
    back: the same stranger would otherwise go round tries → clerk → rejection for ever). The
    kiosk says the registration cannot continue there; only a clerk's :func:`allow_one_more`
    opens one more try."""
    captures = evidence_service.latest_captures(reg)
    reg.kyc_decision = Decision.STAFF_REJECTED.value
    reg.liveness_challenge = None
    audit.record("kyc_rejected", reg, actor=actor,
                 evidence={kind: row.sha256 for kind, row in captures.items()},
                 distance=reg.face_distance, attempts=reg.face_attempts)


def rejected_by_staff(reg: Registration) -> bool:
    """A clerk's rejection stands: no photo, no challenge, no automatic try until a clerk
    allows one more."""
    return reg.kyc_decision == Decision.STAFF_REJECTED.value


def allow_one_more(reg: Registration, actor: str) -> None:
    """After a rejection, a clerk lets the customer try ONE more time: one face try is left
    (a NO_MATCH then goes to a clerk again, a REVIEW or NO_FACE as always). Raises ValueError
    when the registration is not rejected."""
    if not rejected_by_staff(reg):
        raise ValueError("not rejected by a clerk")
    limit = current_app.config["FACE_MAX_ATTEMPTS"]
    reg.face_attempts = max(limit - 1, 0)
    reg.kyc_decision = None
    reg.liveness_passed_at = None
    reg.liveness_challenge = None
    audit.record("review_retry_allowed", reg, actor=actor, attempts_left=1)
