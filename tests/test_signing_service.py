"""services/signing.py called directly (no HTTP): what each outcome stores, and what it does not.

The kiosk walks to the step over HTTP; the service is then called in an app context with the
registration row, and the test commits what the request would have committed."""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from kiosk.core.extensions import db
from kiosk.core.models import ActionClaim, AuditEvent, Document, Evidence
from kiosk.providers import ProviderError
from kiosk.providers.smartca_sandbox import SandboxRegistrationBackend
from kiosk.services import claims, signing
from tests.kiosk_driver import PIN, data_url, signature_png

DRAWING = data_url("image/png", signature_png())


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _documents(reg, kind) -> int:
    return _count(Document, Document.registration_id == reg.id, Document.kind == kind)


def _events(reg, event) -> int:
    return _count(AuditEvent, AuditEvent.registration_id == reg.id, AuditEvent.event == event)


def _claims(reg) -> list[str]:
    """The claims of steps 7–9 (step 4's provisioning claim is not this module's)."""
    return sorted(db.session.scalars(select(ActionClaim.action).where(
        ActionClaim.registration_id == reg.id, ActionClaim.action != claims.PROVISION)))


def _down(*_args, **_kwargs):
    raise ProviderError("backend down", "Hệ thống SmartCA đang bận. Vui lòng thử lại sau.", "down")


@pytest.mark.parametrize("drawing, message", [
    ("", "Quý khách chưa ký. Vui lòng ký tên vào khung."),
    (data_url("image/png", signature_png(ink=False)),
     "Quý khách chưa ký, hoặc chữ ký quá ngắn. Vui lòng ký tên vào khung."),
    ("data:image/png;base64,@@@", "Ảnh gửi lên bị hỏng. Vui lòng chụp lại."),
])
def test_a_blank_or_broken_drawing_is_refused_and_nothing_is_stored(app, kiosk, drawing, message):
    kiosk.walk_to(7)
    with app.app_context():
        reg = kiosk.row()
        outcome = signing.sign(reg, "contract", drawing)
        db.session.commit()
        assert outcome == signing.Invalid(message)
        assert _documents(reg, "contract") == 0
        assert _count(Evidence, Evidence.registration_id == reg.id,
                      Evidence.kind == "signature_contract") == 0
        assert _claims(reg) == []  # refused before the claim: nothing to release
        assert _events(reg, "document_signed") == 0
    assert kiosk.registration().furthest_step == 7


def test_a_signed_documents_stored_sha256_matches_its_bytes(app, kiosk):
    kiosk.walk_to(7)
    with app.app_context():
        reg = kiosk.row()
        assert signing.sign(reg, "contract", DRAWING) == signing.Signed(8)
        db.session.commit()
        doc = db.session.scalar(select(Document).where(Document.registration_id == reg.id,
                                                       Document.kind == "contract"))
        assert doc.sha256 == hashlib.sha256(doc.content).hexdigest()
        assert doc.signed_at is not None
        drawing = db.session.scalar(select(Evidence).where(Evidence.kind == "signature_contract"))
        assert drawing.content == signature_png()
        assert drawing.sha256 == hashlib.sha256(drawing.content).hexdigest()
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "document_signed"))
        assert event.details["sha256"] == doc.sha256
        assert claims.is_done(reg, claims.SIGN_CONTRACT)
        assert signing.document_bytes(reg, "contract") == doc.content  # the screen shows the signed copy
    assert kiosk.registration().furthest_step == 8


def test_a_provider_error_releases_the_claim_and_keeps_nothing(app, kiosk, monkeypatch):
    kiosk.walk_to(7)
    kiosk.get(f"/r/{kiosk.token}/document/contract.pdf")  # the text to sign is kept
    monkeypatch.setattr(SandboxRegistrationBackend, "register_document", _down)
    with app.app_context():
        reg = kiosk.row()
        outcome = signing.sign(reg, "contract", DRAWING)
        db.session.commit()
        assert outcome == signing.ProviderFailed("Hệ thống SmartCA đang bận. Vui lòng thử lại sau.")
        assert _claims(reg) == []
        assert _documents(reg, "contract") == 0
        assert _documents(reg, "contract_text") == 1  # not deleted: nothing was signed
        assert _count(Evidence, Evidence.kind == "signature_contract") == 0
        assert _events(reg, "document_signed") == 0
    monkeypatch.undo()
    with app.app_context():  # the customer may sign again
        assert signing.sign(kiosk.row(), "contract", DRAWING) == signing.Signed(8)
        db.session.commit()


def test_a_backend_refusing_to_complete_keeps_neither_signature_nor_receipt(app, kiosk, monkeypatch):
    kiosk.walk_to(9)
    kiosk.confirm_certificate()
    monkeypatch.setattr(SandboxRegistrationBackend, "complete", _down)
    with app.app_context():
        reg = kiosk.row()
        outcome = signing.sign(reg, "acceptance", DRAWING)
        db.session.commit()
        assert isinstance(outcome, signing.ProviderFailed)
        assert _claims(reg) == ["set_pin", "sign_contract"]  # step 9's claim released
        assert _documents(reg, "acceptance") == _documents(reg, "receipt") == 0
        assert _events(reg, "receipt_printed") == 0
    row = kiosk.registration()
    assert not row.finished and row.furthest_step == 9


def test_a_parallel_holder_of_the_claim_makes_sign_busy(app, kiosk):
    kiosk.walk_to(7)
    with app.app_context():
        reg = kiosk.row()
        assert claims.claim(reg, claims.SIGN_CONTRACT)  # another request is signing now
        assert signing.sign(reg, "contract", DRAWING) == signing.Busy(claims.SIGN_CONTRACT, 7)
        db.session.commit()
        assert _documents(reg, "contract") == 0


def test_signing_the_acceptance_record_finishes_with_exactly_one_receipt(app, kiosk):
    kiosk.walk_to(9)
    kiosk.confirm_certificate()
    with app.app_context():
        reg = kiosk.row()
        assert signing.sign(reg, "acceptance", DRAWING) == signing.Signed(10)
        db.session.commit()
        assert reg.finished and reg.finished_at is not None
        receipt = db.session.scalar(select(Document).where(Document.kind == "receipt"))
        assert receipt.sha256 == hashlib.sha256(receipt.content).hexdigest()
        again = signing.finish(reg)  # a second finish stores and prints nothing
        db.session.commit()
        assert again == signing.Finished(receipt.sha256, already=True)
        assert _documents(reg, "receipt") == 1
        assert _documents(reg, "acceptance") == 1
        assert _events(reg, "registration_finished") == 1
        assert _events(reg, "receipt_printed") == 1


def test_finish_refuses_a_registration_whose_acceptance_record_is_not_signed(app, kiosk):
    kiosk.walk_to(9)
    kiosk.confirm_certificate()
    with app.app_context():
        reg = kiosk.row()
        assert signing.finish(reg) == signing.Invalid(signing.NOT_READY)
        db.session.commit()
        assert _documents(reg, "receipt") == 0
    assert not kiosk.registration().finished


def test_a_printer_error_still_finishes_and_says_why(app, kiosk, jammed_printer):
    kiosk.walk_to(9)
    kiosk.confirm_certificate()
    with app.app_context():
        reg = kiosk.row()
        assert signing.sign(reg, "acceptance", DRAWING) == signing.Signed(10)
        db.session.commit()
        assert reg.finished
        assert _documents(reg, "receipt") == 1
        assert _events(reg, "receipt_print_failed") == 1 and _events(reg, "receipt_printed") == 0


def test_set_pin_refuses_two_different_entries_and_keeps_no_claim(app, kiosk):
    kiosk.walk_to(8)
    with app.app_context():
        reg = kiosk.row()
        outcome = signing.set_pin(reg, PIN, "573920")
        db.session.commit()
        assert outcome == signing.PinRefused(confirm=(signing.PIN_MISMATCH,))
        assert _claims(reg) == ["sign_contract"]
        assert _events(reg, "pin_refused") == 1
        assert reg.pin_set_at is None
        bad = signing.set_pin(reg, "12", "12")
        assert isinstance(bad, signing.PinRefused) and bad.pin and not bad.confirm


def test_set_pin_provider_error_releases_the_claim_then_a_retry_sets_it(app, kiosk, monkeypatch):
    kiosk.walk_to(8)
    monkeypatch.setattr(SandboxRegistrationBackend, "set_pin", _down)
    with app.app_context():
        reg = kiosk.row()
        assert isinstance(signing.set_pin(reg, PIN, PIN), signing.ProviderFailed)
        db.session.commit()
        assert _claims(reg) == ["sign_contract"] and reg.pin_set_at is None
    monkeypatch.undo()
    with app.app_context():
        reg = kiosk.row()
        assert signing.set_pin(reg, PIN, PIN) == signing.PinSet(9)
        db.session.commit()
        assert reg.pin_set_at is not None and claims.is_done(reg, claims.SET_PIN)
        # the PIN went to the backend only: no row of ours holds it
        dump = repr([(e.event, e.details) for e in db.session.scalars(select(AuditEvent))])
        assert PIN not in dump


def test_document_bytes_answers_none_before_the_step_or_for_an_unknown_kind(app, kiosk):
    kiosk.walk_to(7)
    with app.app_context():
        reg = kiosk.row()
        assert signing.document_bytes(reg, "acceptance") is None  # step 9 not reached
        assert signing.document_bytes(reg, "receipt") is None
        assert signing.document_bytes(reg, "contract").startswith(b"%PDF")


def test_print_again_sends_the_stored_receipt_and_only_once_finished(app, kiosk):
    from pathlib import Path

    from kiosk.services import paperwork

    kiosk.walk_to(9)
    kiosk.confirm_certificate()
    with app.app_context():
        reg = kiosk.row()
        assert paperwork.print_again(reg) is None  # nothing to print before the end
        assert signing.sign(reg, "acceptance", DRAWING) == signing.Signed(10)
        db.session.commit()
        again = paperwork.print_again(reg)
        db.session.commit()
        assert again == paperwork.PrintOutcome(None, "file")
        assert _events(reg, "receipt_printed") == 2
        assert _documents(reg, "receipt") == 1  # the same receipt, not a new one
    assert len(list((Path(app.instance_path) / "prints").glob("*.pdf"))) == 2
