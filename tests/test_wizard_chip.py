"""The chip path of the wizard with the simulated chip: a whole registration in the test client."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from kiosk.chip.simulated import (
    SAMPLE_PERSON,
    SimulatedChip,
    make_card_files,
    make_test_pki,
)
from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent
from kiosk.services import chip_reading
from tests.app_factory import kiosk_client, make_app
from tests.kiosk_driver import KioskDriver

P = SAMPLE_PERSON
FROM_CHIP = {"full_name": P.full_name, "date_of_birth": P.birth_date_text, "gender": P.sex_text,
             "address": P.residence, "issue_date": P.issue_date_text}


@pytest.fixture(scope="module")
def card_files():
    return make_card_files(P, make_test_pki())


@pytest.fixture
def chip_kiosk_with(tmp_path, card_files):
    """A kiosk with a reader whose card has ``tampered`` data groups (none: a genuine card)."""
    apps = []

    def make(*tampered: str) -> KioskDriver:
        def card():
            chip = SimulatedChip(card_files, P)
            for group in tampered:
                chip.tamper(group)
            return chip

        app = make_app(tmp_path / f"kiosk{len(apps)}", CHIP_READER=True)
        chip_reading.set_transport_factory(app, card)
        apps.append(app)
        return KioskDriver(kiosk_client(app))

    yield make
    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def chip_kiosk(chip_kiosk_with):
    return chip_kiosk_with()


def _audit(kiosk, event):
    reg = kiosk.registration()
    with kiosk.client.application.app_context():
        return [e.details for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.registration_id == reg.id, AuditEvent.event == event))]


def read_chip(kiosk, id_number=P.id_number, consent="y"):
    return kiosk.post(f"/r/{kiosk.token}/step/1/chip", {"id_number": id_number, "consent": consent})


def _typed_to_step6(k, chip_at_step1=False):
    """Steps 1–5 typed by hand (after a chip read at step 1 if asked), then the three photos."""
    k.start()
    if chip_at_step1:
        read_chip(k)
    k.account(id_number=P.id_number)
    k.package()
    k.personal(**FROM_CHIP)
    k.provision()
    k.activate()
    k.password()
    k.capture_all()


def test_whole_registration_with_the_chip(chip_kiosk, card_files):
    k = chip_kiosk
    k.start()
    assert "Đặt thẻ lên đầu đọc" in k.get(k.url(1)).get_data(as_text=True)
    screen = k.get(f"/r/{k.token}/step/1/chip", htmx=True).get_data(as_text=True)
    assert "Đầu đọc sẵn sàng, đã có thẻ." in screen
    html = read_chip(k).get_data(as_text=True)
    assert f"Đã đọc thẻ CCCD của <strong class=\"nowrap\">{P.full_name}</strong>" in html
    assert P.id_number in html
    k.account(id_number=P.id_number)
    k.package()
    step3 = k.get(k.url(3)).get_data(as_text=True)
    assert P.full_name in step3 and P.residence in step3 and "12/04/1995" in step3
    k.personal(**FROM_CHIP)
    k.provision()
    k.activate()
    k.password()
    k.capture_all()
    (match,) = _audit(k, "face_match")[-1:]
    assert match["reference"] == "chip_portrait"
    assert not {"no_card_in_photo", "card_qr_unread", "card_number_differs",
                "card_birth_date_differs"} & set(match["problems"])
    panel = k.get(k.url(6)).get_data(as_text=True)
    assert "có chữ ký của cơ quan cấp" in panel and "Xác thực chủ động: đạt" in panel
    portrait = k.get(f"/r/{k.token}/chip/portrait")
    assert portrait.status_code == 200 and portrait.data == card_files.jpeg
    k.staff_confirm()
    k.sign(7)
    k.pin()
    k.sign(9)
    reg = k.registration()
    assert reg.finished
    (chip_read,) = _audit(k, "chip_read")
    assert chip_read["pa_level"] == "signature" and chip_read["id_matches_declared"] is True
    assert {e.kind for e in reg.evidence} >= {"chip_portrait", "chip_data", "card_front", "face"}
    assert not _audit(k, "scan_corrected")  # the chip's values were taken as they were


def test_the_console_review_shows_what_the_chip_established(chip_kiosk, card_files):
    """The clerk deciding from the console sees the chip's portrait the face was compared with,
    the passive-authentication level and the clone check, as the kiosk's own panel does."""
    from tests.staff_console import Clerk

    k = chip_kiosk
    _typed_to_step6(k, chip_at_step1=True)
    reg = k.registration()
    clerk = Clerk(k.client.application)
    case = clerk.html(f"/staff/review/{reg.number}")
    assert "Chip của thẻ" in case and "có chữ ký của cơ quan cấp" in case
    assert "Xác thực chủ động: đạt" in case and "Số định danh trong chip khớp số khách khai" in case
    assert f"/staff/r/{reg.number}/chip/portrait" in case and "máy đã so khuôn mặt với ảnh này" in case
    assert "máy không tìm thấy thẻ trong ảnh" not in case
    portrait = clerk.get(f"/staff/r/{reg.number}/chip/portrait")
    assert portrait.status_code == 200 and portrait.data == card_files.jpeg
    assert portrait.headers["Cache-Control"] == "no-store"


def test_step6_reads_the_chip_and_judges_the_same_photos_again(chip_kiosk, card_files):
    """A customer who typed their data can still lay the card on the reader at step 6: the
    chip's signed portrait becomes the reference, without using up one of their tries."""
    k = chip_kiosk
    _typed_to_step6(k)
    before = k.registration()
    assert before.face_attempts == 1
    assert _audit(k, "face_match")[-1]["reference"] != "chip_portrait"
    page = k.get(k.url(6)).get_data(as_text=True)
    assert "Đặt thẻ lên đầu đọc" in page and f"/r/{k.token}/step/6/chip" in page
    screen = k.get(f"/r/{k.token}/step/6/chip", htmx=True).get_data(as_text=True)
    assert "Đầu đọc sẵn sàng, đã có thẻ." in screen and "6 chữ số cuối" in screen
    html = k.post(f"/r/{k.token}/step/6/chip", {}).get_data(as_text=True)
    assert "Đã đọc chip của thẻ" in html and "Đặt thẻ lên đầu đọc" not in html
    (chip_read,) = _audit(k, "chip_read")
    assert chip_read["pa_level"] == "signature" and chip_read["id_matches_declared"] is True
    match = _audit(k, "face_match")[-1]
    assert match["reference"] == "chip_portrait" and match["attempt"] == 1
    assert k.registration().face_attempts == 1


def test_step6_chip_match_takes_the_customer_out_of_the_clerks_queue(chip_kiosk, monkeypatch):
    """The printed portrait left the machine unsure and a clerk was called; the chip's portrait
    matches the face of a passed challenge: no clerk is needed any more."""
    from kiosk.core.models import utcnow
    from kiosk.services import ekyc

    k = chip_kiosk
    _typed_to_step6(k)
    k.get(k.url(6))  # the unsure machine queues the registration for a clerk
    assert k.registration().help_requested_at is not None
    with k.client.application.app_context():
        reg = k.row()
        reg.liveness_passed_at = utcnow()
        db.session.commit()
    # the read's portrait is compared before the read is recorded: it comes as ``chip``
    monkeypatch.setattr(ekyc, "compare_faces", lambda reg, cards, face, chip=None: {
        "decision": "match", "distance": 0.3, "reference": "chip_portrait",
        "card": (chip or chip_reading.reference_for(reg)).identity})
    k.post(f"/r/{k.token}/step/6/chip", {})
    reg = k.registration()
    assert reg.kyc_decision == "match" and reg.help_requested_at is None
    assert _audit(k, "help_handled")[-1]["outcome"] == "chip_read"


def test_step6_chip_portrait_is_compared_before_the_read_is_written(chip_kiosk, monkeypatch):
    """The face comparison is slow: it runs with nothing of the read written yet (no chip row,
    no chip portrait), so no write lock is held across it; the read and the decision are
    written afterwards, together."""
    from kiosk.core import audit
    from kiosk.services import ekyc

    k = chip_kiosk
    _typed_to_step6(k)
    seen = {}

    def compare(reg, cards, face, chip=None):
        seen["chip"] = chip is not None
        seen["written"] = (chip_reading.reference_for(reg) is not None
                           or bool(audit.latest(reg, "chip_read")))
        return {"decision": "match", "distance": 0.3, "reference": "chip_portrait",
                "card": chip.identity if chip else {}}

    monkeypatch.setattr(ekyc, "compare_faces", compare)
    k.post(f"/r/{k.token}/step/6/chip", {})
    assert seen == {"chip": True, "written": False}
    assert _audit(k, "chip_read") and _audit(k, "face_match")[-1]["reference"] == "chip_portrait"
    with k.client.application.app_context():
        assert chip_reading.reference_for(k.row()) is not None


def test_step6_chip_that_fails_changes_nothing(chip_kiosk_with):
    k = chip_kiosk_with("DG2")
    _typed_to_step6(k)
    decided = _audit(k, "face_match")
    html = k.post(f"/r/{k.token}/step/6/chip", {}).get_data(as_text=True)
    assert "Không xác thực được dữ liệu chip" in html and "tiếp tục chụp ảnh bằng camera" in html
    assert _audit(k, "face_match") == decided
    assert "Đặt thẻ lên đầu đọc" in k.get(k.url(6)).get_data(as_text=True)


def test_step6_chip_is_not_offered_to_a_passport_holder(chip_kiosk):
    k = chip_kiosk
    k.start()
    k.account(id_type="passport", id_number="C1234567")
    k.package()
    k.personal()
    k.provision()
    k.activate()
    k.password()
    assert "Đặt thẻ lên đầu đọc" not in k.get(k.url(6)).get_data(as_text=True)
    assert k.get(f"/r/{k.token}/step/6/chip").status_code == 404


def test_step6_chip_only_at_step6(chip_kiosk):
    k = chip_kiosk
    k.start()
    assert k.get(f"/r/{k.token}/step/6/chip").status_code == 409
    assert k.post(f"/r/{k.token}/step/6/chip", {}).status_code == 409
    assert _audit(k, "chip_read") == []


def test_wrong_id_number_keeps_the_camera_path(chip_kiosk):
    k = chip_kiosk
    k.start()
    response = read_chip(k, id_number="038195009999")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Thẻ từ chối mã CAN" in html and "camera" in html
    assert "Quét thẻ căn cước" in k.get(k.url(1)).get_data(as_text=True)
    assert k.registration().data.get("scanned") is None


def test_chip_read_needs_consent_first(chip_kiosk):
    k = chip_kiosk
    k.start()
    html = read_chip(k, consent="").get_data(as_text=True)
    assert "Cần có sự đồng ý" in html
    assert _audit(k, "chip_read") == [] and k.registration().consent_at is None


def test_garbage_id_number_is_a_message(chip_kiosk):
    k = chip_kiosk
    k.start()
    response = read_chip(k, id_number="<script>")
    assert response.status_code == 200
    assert "12 chữ số" in response.get_data(as_text=True)


def test_tampered_chip_is_not_used(chip_kiosk_with):
    k = chip_kiosk_with("DG13")
    k.start()
    html = read_chip(k).get_data(as_text=True)
    assert "Không xác thực được dữ liệu chip" in html
    assert k.registration().data.get("scanned") is None


def test_no_reader_off_by_default(kiosk):
    kiosk.start()
    assert "Đặt thẻ lên đầu đọc" not in kiosk.get(kiosk.url(1)).get_data(as_text=True)
    assert kiosk.get(f"/r/{kiosk.token}/step/1/chip").status_code == 404
    assert kiosk.get(f"/r/{kiosk.token}/step/6/chip").status_code == 404
    assert kiosk.get(f"/r/{kiosk.token}/chip/status").status_code == 404
    assert kiosk.get(f"/r/{kiosk.token}/chip/portrait").status_code == 404


def test_reader_missing_is_said_on_screen(tmp_path):
    from kiosk.chip.errors import ReaderUnavailable

    def absent():
        raise ReaderUnavailable()

    app = make_app(tmp_path, CHIP_READER=True)
    chip_reading.set_transport_factory(app, absent)
    k = KioskDriver(kiosk_client(app))
    k.start()
    screen = k.get(f"/r/{k.token}/chip/status", htmx=True).get_data(as_text=True)
    assert "Không tìm thấy đầu đọc thẻ" in screen and "sẵn sàng" not in screen
    html = read_chip(k).get_data(as_text=True)
    assert "Không tìm thấy đầu đọc thẻ" in html
    with app.app_context():
        db.engine.dispose()


def test_a_chip_read_after_a_clerks_rejection_decides_nothing(chip_kiosk):
    """The clerk rejected the photos: a chip read at step 6 is kept but cannot undo the
    rejection (only the clerk's «Cho khách thử lại một lượt» opens another try)."""
    k = chip_kiosk
    _typed_to_step6(k)
    k.staff_confirm(verdict="reject")
    assert k.registration().kyc_decision == "staff_rejected"
    assert "Đặt thẻ lên đầu đọc" not in k.get(k.url(6)).get_data(as_text=True)
    decisions = len(_audit(k, "face_match"))
    k.post(f"/r/{k.token}/step/6/chip", {})
    assert k.registration().kyc_decision == "staff_rejected"
    assert len(_audit(k, "face_match")) == decisions and len(_audit(k, "chip_read")) == 1
