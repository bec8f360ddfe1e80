"""Steps 7–9: sign a document, create the signing PIN, finish the registration.

Each function takes plain values (the drawing as the pad's data URL, the PIN as typed) and
returns a small outcome the step renders; none of them reads the request, so a test, the console
or a command can call the same functions.

Order inside each one-time action (docs/architecture.md, «Transactions never span slow work»):

1. check the input (nothing written: a refused drawing or PIN leaves no trace but an audit row);
2. take the action's claim (:mod:`kiosk.services.claims`, committed at once: the one guard that
   lets a single request of many parallel submits through);
3. the slow work — render the PDF, call the SmartCA backend, print — with nothing of ours
   flushed: SQLite's single write lock is not held while a provider or the printer answers (the
   sandbox backend, which keeps its records in this database, flushes its own row), and a
   provider error rolls back to nothing kept (the claim is released so the customer may retry);
4. add the rows and mark the claim done; the request commits them once, together.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from flask import current_app

from kiosk import providers
from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import Evidence, Registration, utcnow
from kiosk.documents.seal import SealError
from kiosk.domain.credentials import pin_problems
from kiosk.providers import ProviderError
from kiosk.services import certificate_confirmation, claims, paperwork, registrations
from kiosk.vision.images import ImageError, bytes_from_data_url, check_signature

# Which step signs which document, and the claim that makes its signing happen once.
STEP_OF = {"contract": 7, "acceptance": 9}
CLAIMS = {"contract": claims.SIGN_CONTRACT, "acceptance": claims.SIGN_ACCEPTANCE}
PIN_STEP = 8

NOT_SIGNED = "Quý khách chưa ký. Vui lòng ký tên vào khung."
PIN_MISMATCH = "Hai lần nhập mã PIN không giống nhau. Vui lòng nhập lại."
SEAL_FAILED = ("Chưa đóng dấu được văn bản, chữ ký của Quý khách chưa được lưu. "
               "Vui lòng ký lại hoặc bấm «Gọi nhân viên».")
NOT_READY = "Quý khách chưa ký biên bản nghiệm thu. Vui lòng ký trước khi hoàn tất."


# ---- Outcomes ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Signed:
    """The document is signed and stored; the customer goes on to ``next_step``."""

    next_step: int


@dataclass(frozen=True)
class PinSet:
    """The backend holds the PIN; the customer goes on to ``next_step``."""

    next_step: int


@dataclass(frozen=True)
class Finished:
    """The registration is finished; ``print_error`` is the printer's message (None: printed).
    ``already``: it was finished before this call, and nothing was stored again."""

    receipt_sha256: str
    print_error: str | None = None
    already: bool = False


@dataclass(frozen=True)
class Invalid:
    """The drawing (or the state of the registration) is refused; nothing was stored."""

    message: str


@dataclass(frozen=True)
class PinRefused:
    """The PIN breaks a rule (``pin``) or the two entries differ (``confirm``)."""

    pin: tuple[str, ...] = ()
    confirm: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProviderFailed:
    """The SmartCA backend refused or did not answer; the claim is released, nothing kept."""

    message: str


@dataclass(frozen=True)
class Busy:
    """A parallel request holds ``action`` (of step ``step``): this one did nothing."""

    action: str
    step: int


# ---- Documents --------------------------------------------------------------------------------

def document_bytes(reg: Registration, kind: str) -> bytes | None:
    """The PDF the customer sees at step 7 or 9: the signed copy if there is one, else the text
    to sign. None for an unknown kind or a step the customer has not reached."""
    if kind not in STEP_OF or reg.furthest_step < STEP_OF[kind]:
        return None
    doc = paperwork.latest_document(reg, kind)
    return doc.content if doc is not None else paperwork.text_to_sign(reg, kind)


def signed_document(reg: Registration, kind: str):
    """The stored signed copy of ``kind`` (the step's screen shows «Đã ký»), or None."""
    return paperwork.latest_document(reg, kind)


def _drawing(drawing_data_url: str):
    """The pad's PNG and its decoded picture, or the Vietnamese reason it is refused."""
    if not (drawing_data_url or "").strip():
        return None, NOT_SIGNED
    try:
        png = bytes_from_data_url(drawing_data_url)
        return (png, check_signature(png)), None
    except ImageError as err:
        return None, err.message


def sign(reg: Registration, kind: str, drawing_data_url: str):
    """Sign the contract (step 7) or the acceptance record (step 9) with the pad's drawing.

    Stores the signed PDF with its SHA-256, the drawing as ``signature_<kind>`` evidence, the
    audit row, and completes the step. Signing the acceptance record is the last act: it also
    finishes the registration (:func:`finish`) under the same claim, so parallel submits make one
    signed document, one receipt and one print job.

    Returns :class:`Signed`, :class:`Invalid`, :class:`ProviderFailed` or :class:`Busy`."""
    if kind not in STEP_OF:
        raise ValueError(f"no document {kind!r} is signed at the kiosk")
    if kind == "acceptance" and not certificate_confirmation.is_confirmed(reg):
        # The acceptance record is what publishes the certificate: only over information the
        # customer has confirmed (Decree 23/2025/NĐ-CP).
        return Invalid(certificate_confirmation.NOT_CONFIRMED)
    drawn, refusal = _drawing(drawing_data_url)
    if refusal is not None:
        return Invalid(refusal)
    png, picture = drawn
    action = CLAIMS[kind]
    if not claims.claim(reg, action):
        return Busy(action, STEP_OF[kind])
    signed_at = utcnow()
    # Rows added below are not flushed until the claim is marked done: the backend call and, at
    # step 9, the receipt and the printer work with no write lock taken.
    with db.session.no_autoflush:
        try:
            pdf, text_sha256 = paperwork.signed_copy(reg, kind, png, signed_at, picture)
        except SealError as err:  # the office's seal (its timestamp server, its token) failed
            current_app.logger.warning("sealing %s of %s failed: %s", kind, reg.number, err)
            claims.release(reg, action)
            return ProviderFailed(SEAL_FAILED)
        sha256 = hashlib.sha256(pdf).hexdigest()
        try:
            providers.registration_backend().register_document(reg.subscriber_ref, kind, sha256,
                                                               signed_at)
        except ProviderError as err:
            claims.release(reg, action)  # rolls back the text rows marked for deletion too
            return ProviderFailed(err.message)
        db.session.add(Evidence(registration_id=reg.id, kind=f"signature_{kind}",
                                mime_type="image/png", content=png,
                                sha256=hashlib.sha256(png).hexdigest(), source="pad"))
        doc = paperwork.store_document(reg, kind, pdf, signed_at)
        audit.record("document_signed", reg, kind=kind, sha256=doc.sha256, text_sha256=text_sha256)
        nxt = registrations.complete_step(reg, STEP_OF[kind])
        if kind == "acceptance":
            ended = finish(reg)
            if not isinstance(ended, Finished):
                claims.release(reg, action)  # the signature goes too: signed again on retry
                return ended
    claims.mark_done(reg, action)
    return Signed(nxt)


# ---- Step 8 -----------------------------------------------------------------------------------

def set_pin(reg: Registration, pin: str, confirm: str):
    """Step 8: check the PIN against the rules and its repetition, then hand it to the SmartCA
    backend. The PIN is never stored or logged here: the backend owns it; the registration keeps
    only when it was set.

    Returns :class:`PinSet`, :class:`PinRefused`, :class:`ProviderFailed` or :class:`Busy`."""
    pin, confirm = (pin or "").strip(), (confirm or "").strip()
    data = reg.data
    dob = date.fromisoformat(data["date_of_birth"]) if data.get("date_of_birth") else None
    problems = pin_problems(pin, dob, data.get("id_number"))
    if problems or pin != confirm:
        audit.record("pin_refused", reg)
        return PinRefused(pin=tuple(problems)) if problems else PinRefused(confirm=(PIN_MISMATCH,))
    # One PIN reaches the backend, whatever the number of parallel submits.
    if not claims.claim(reg, claims.SET_PIN):
        return Busy(claims.SET_PIN, PIN_STEP)
    try:
        providers.registration_backend().set_pin(reg.subscriber_ref, pin)
    except ProviderError as err:
        claims.release(reg, claims.SET_PIN)
        return ProviderFailed(err.message)
    reg.pin_set_at = utcnow()
    audit.record("pin_created", reg)
    nxt = registrations.complete_step(reg, PIN_STEP)
    claims.mark_done(reg, claims.SET_PIN)
    return PinSet(nxt)


# ---- Step 9's end -----------------------------------------------------------------------------

def finish(reg: Registration):
    """End a registration whose acceptance record is signed (step 9 completed): tell the backend,
    render and store the receipt, finish the registration, print the receipt.

    :func:`sign` calls it inside the acceptance claim. Called again on a finished registration it
    stores nothing and answers ``Finished(already=True)``. Nothing is flushed here (the caller's
    signature rows stay pending too): the backend call, the rendering and the printer run
    without the write lock; the caller's unit of work commits. The receipt is printed before
    that commit — a printer error is not a failure (the done screen offers to print again);
    a backend error is :class:`ProviderFailed` with nothing stored.

    Returns :class:`Finished`, :class:`Invalid` or :class:`ProviderFailed`."""
    with db.session.no_autoflush:
        if reg.finished:
            receipt = paperwork.latest_document(reg, "receipt")
            return Finished(receipt.sha256 if receipt is not None else "", already=True)
        if reg.furthest_step <= STEP_OF["acceptance"]:
            return Invalid(NOT_READY)
        try:
            providers.registration_backend().complete(reg.subscriber_ref)
        except ProviderError as err:
            return ProviderFailed(err.message)
        finished_at = utcnow()
        pdf = paperwork.render_receipt_for(reg, finished_at)
        reg.status = "finished"
        reg.finished_at = finished_at
        receipt = paperwork.store_document(reg, "receipt", pdf)
        audit.record("registration_finished", reg, receipt_sha256=receipt.sha256)
        print_error = paperwork.print_receipt(reg, pdf)
    return Finished(receipt.sha256, print_error)

