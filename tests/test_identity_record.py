"""The identity evidence record: how the identity was read, the photos' SHA-256, the face
comparison, the decision and who made it, the clerk's attestation (one by one, in bulk from
the board, or with a review approval), on the registration page and as a PDF."""
from __future__ import annotations

import hashlib
import io
import unicodedata
from datetime import timedelta

from pypdf import PdfReader
from sqlalchemy import select

from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Evidence, IdentityAttestation, StaffUser, utcnow
from kiosk.domain.kyc import Decision
from kiosk.services import ekyc, identity_record, retention
from tests.app_factory import STAFF, kiosk_client

from .kiosk_driver import CUSTOMER, KioskDriver, data_url, jpeg_bytes
from .staff_console import Clerk


def _automatic_match(app, kiosk):
    """A registration whose photos the machine accepted alone (as step 6 does after a passed
    liveness check with a matching face)."""
    kiosk.walk_to(6)
    kiosk.capture_all()
    with app.app_context():
        reg = kiosk.row()
        reg.kyc_decision, reg.face_distance = Decision.MATCH.value, 0.312
        reg.liveness_passed_at = utcnow()
        reg.help_requested_at = reg.help_reason = None
        nxt, problem = ekyc.continue_after_match(reg)
        assert problem is None and nxt == 7
        db.session.commit()
    return kiosk.registration()


def _record(app, kiosk):
    with app.app_context():
        return identity_record.record(kiosk.row())


def test_a_typed_number_and_an_automatic_decision(app, kiosk):
    reg = _automatic_match(app, kiosk)
    rec = _record(app, kiosk)
    assert rec.read_method == "typed" and rec.read_label == "Khách tự gõ số"
    assert rec.chip_level is None and rec.number_source is None
    assert rec.decided_by == "Máy (tự động)" and rec.automatic and rec.attestation is None
    assert rec.face_distance == 0.312 and rec.accept_threshold is not None
    assert rec.liveness == "Đạt"
    with app.app_context():
        rows = db.session.scalars(select(Evidence).where(Evidence.registration_id == reg.id))
        digests = {e.kind: hashlib.sha256(e.content).hexdigest() for e in rows}
    assert {p.kind: p.sha256 for p in rec.photos} == {
        k: digests[k] for k in ("card_front", "card_back", "face")}


def test_a_number_read_from_the_qr_code(app, kiosk, fake_ekyc):
    fake_ekyc.script(card={
        "card_found": True, "card_kind": "cccd_chip_2021", "id_number": CUSTOMER["id_number"],
        "full_name": CUSTOMER["full_name"], "field_sources": {"id_number": "qr"},
        "expiry_date": "2045-09-05", "expiry_known": True})
    kiosk.start()
    scan = f"/r/{kiosk.token}/step/1/scan"
    kiosk.post(scan + "/consent", {"consent": "y"})
    kiosk.post(scan, {"image_data": data_url("image/jpeg", jpeg_bytes(seed=3))})
    assert kiosk.registration().data["scan"]["number_source"] == "qr"
    kiosk.account()
    rec = _record(app, kiosk)
    assert rec.read_method == "qr" and rec.read_label == "Mã QR trên thẻ"
    # The customer typed another number than the one read: the record says it was typed.
    kiosk.account(id_number="038085012346")
    assert _record(app, kiosk).read_method == "typed"


def test_the_registration_page_shows_the_record_and_one_clerk_attests(app, kiosk):
    reg = _automatic_match(app, kiosk)
    clerk = Clerk(app)
    page = clerk.html(f"/staff/r/{reg.number}")
    assert f"/staff/r/{reg.number}/identity" in page
    html = clerk.html(f"/staff/r/{reg.number}/identity", headers={"HX-Request": "true"})
    assert "Khách tự gõ số" in html and "Máy (tự động)" in html
    assert "Chưa có nhân viên xác nhận đã xem bản gốc" in html
    html = clerk.post(f"/staff/r/{reg.number}/identity/attest").get_data(as_text=True)
    assert "Đã ghi nhận" in html and "Đã xem bản gốc giấy tờ:" in html
    clerk.post(f"/staff/r/{reg.number}/identity/attest")  # the first attestation stands
    with app.app_context():
        assert db.session.scalar(select(db.func.count(IdentityAttestation.id))) == 1


def test_bulk_attestation_records_one_row_per_selected_registration_with_the_clerk(app, kiosk):
    first = _automatic_match(app, kiosk)
    second_kiosk = KioskDriver(kiosk_client(app))
    second = _automatic_match(app, second_kiosk)
    third_kiosk = KioskDriver(kiosk_client(app))
    third = _automatic_match(app, third_kiosk)
    by_clerk = KioskDriver(kiosk_client(app))
    by_clerk.walk_to(7)  # a clerk confirmed at the kiosk: not an automatic decision
    clerk = Clerk(app)
    page = clerk.html("/staff/attestations")
    for reg in (first, second, third):
        assert f'value="{reg.number}"' in page
    assert f'value="{by_clerk.registration().number}"' not in page
    html = clerk.post("/staff/attestations", {"number": [first.number, third.number]}
                      ).get_data(as_text=True)
    assert "Đã ghi nhận 2 hồ sơ" in html
    assert f'value="{second.number}"' in html and f'value="{first.number}"' not in html
    with app.app_context():
        clerk_id = db.session.scalar(select(StaffUser.id).where(StaffUser.username == STAFF[0]))
        rows = db.session.execute(select(IdentityAttestation.registration_id,
                                         IdentityAttestation.staff_user_id,
                                         IdentityAttestation.how)).all()
        assert sorted(rows) == sorted([(first.id, clerk_id, "board"), (third.id, clerk_id, "board")])
        audited = db.session.scalars(select(AuditEvent).where(
            AuditEvent.event == "original_document_seen")).all()
        assert len(audited) == 2 and {e.actor for e in audited} == {f"staff:{STAFF[0]}"}
    nothing = clerk.post("/staff/attestations", {}).get_data(as_text=True)
    assert "Vui lòng chọn ít nhất một hồ sơ." in nothing


def test_a_review_approval_can_carry_the_attestation(app, kiosk):
    kiosk.walk_to(6)
    kiosk.capture_all()  # noise pictures: a clerk decides
    reg = kiosk.registration()
    clerk = Clerk(app)
    clerk.post(f"/staff/review/{reg.number}/approve", {"original_seen": "y"})
    rec = _record(app, kiosk)
    assert rec.decision == "staff_confirmed" and not rec.automatic
    assert rec.attestation is not None and rec.attestation.how == "review"
    assert rec.decided_by == rec.attestation.clerk


def test_the_pdf_export_reads_back_with_the_fields(app, kiosk):
    reg = _automatic_match(app, kiosk)
    clerk = Clerk(app)
    clerk.post("/staff/attestations", {"number": [reg.number]})
    response = clerk.get(f"/staff/r/{reg.number}/identity.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = unicodedata.normalize("NFC", "\n".join(p.extract_text() for p in reader.pages))
    rec = _record(app, kiosk)
    for expected in ("HỒ SƠ BẰNG CHỨNG ĐỊNH DANH", reg.number, CUSTOMER["full_name"],
                     CUSTOMER["id_number"], "Khách tự gõ số", "Máy (tự động)", "0,312",
                     "Đã xem bản gốc giấy tờ", rec.attestation.clerk):
        assert expected in text, expected
    flat = text.replace("\n", "")
    assert all(p.sha256 in flat for p in rec.photos)
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.actor).where(
            AuditEvent.event == "identity_record_exported")) == f"staff:{STAFF[0]}"


def test_the_record_outlives_the_purge_of_the_images(app, kiosk):
    """Retention deletes the images; the record keeps their hashes and the attestation."""
    _automatic_match(app, kiosk)
    before = _record(app, kiosk)
    with app.app_context():
        retention.purge(0, now=utcnow() + timedelta(days=1))
        db.session.commit()
    after = _record(app, kiosk)
    assert [(p.kind, p.sha256) for p in after.photos] == [(p.kind, p.sha256) for p in before.photos]
    assert all(p.purged for p in after.photos)
    assert after.decided_by == "Máy (tự động)"
