"""The review queue: an unsure step 6 waits for a clerk; approve or reject in the console moves
the waiting kiosk on by itself (the kiosk polls /r/<token>/help)."""
from __future__ import annotations

from sqlalchemy import select

from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent

from .staff_console import Clerk


def _waiting_at_step6(kiosk):
    kiosk.walk_to(6)
    kiosk.capture_all()  # noise pictures: no face found → a clerk decides
    return kiosk.registration()


def _poll(kiosk):
    return kiosk.client.get(f"/r/{kiosk.token}/help", headers=kiosk.headers())


def _events(app, name):
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def test_an_unsure_machine_puts_the_registration_in_the_queue_and_the_kiosk_waits(app, kiosk):
    reg = _waiting_at_step6(kiosk)
    assert reg.kyc_decision == "no_face"
    assert reg.help_requested_at is not None and reg.help_reason == "no_face"
    html = kiosk.get(kiosk.url(6)).get_data(as_text=True)
    assert "Đang chờ nhân viên hỗ trợ" in html and f"/r/{kiosk.token}/help" in html
    assert html.count('id="waiting-for-clerk"') == 1  # one panel, the frame's
    assert "Nhân viên đang kiểm tra ảnh" in html
    assert "Đang chờ nhân viên" in _poll(kiosk).get_data(as_text=True)
    queued = _events(app, "help_requested")
    assert len(queued) == 1 and queued[0].actor == "system"  # re-rendering does not re-queue


def test_the_clerk_sees_the_case_in_the_queue_and_on_the_board(app, kiosk):
    reg = _waiting_at_step6(kiosk)
    clerk = Clerk(app)
    assert reg.number in clerk.html("/staff/queue")
    badge = clerk.html("/staff/queue/badge", headers={"HX-Request": "true"})
    assert 'data-queue-count="1"' in badge
    board = clerk.html("/staff/board/live", headers={"HX-Request": "true"})
    assert reg.number in board and "is-waiting" in board and "Xem xét" in board
    assert "038******345" in board and "038085012345" not in board  # masked in lists
    case = clerk.html(f"/staff/review/{reg.number}")
    assert "Khoảng cách khuôn mặt" in case and "Kiểm tra cử động" in case
    assert "Mã QR / MRZ trên thẻ" in case and "038085012345" in case  # declared, beside the card
    assert "05/09/1985" in case and "Không thấy rõ khuôn mặt" in case
    assert f"/staff/r/{reg.number}/evidence/" in case
    assert "Chip của thẻ" not in case  # no chip read: nothing said about one
    assert clerk.get(f"/staff/r/{reg.number}/chip/portrait").status_code == 404


def test_approve_in_the_console_moves_the_waiting_kiosk_to_step_7(app, kiosk):
    reg = _waiting_at_step6(kiosk)
    clerk = Clerk(app)
    response = clerk.post(f"/staff/review/{reg.number}/approve")
    assert response.status_code == 303
    assert "Đã xác nhận" in clerk.html(response.headers["Location"])
    after = kiosk.registration()
    assert after.furthest_step == 7 and after.kyc_decision == "staff_confirmed"
    assert after.help_requested_at is None and after.kyc_decided_by is not None
    moved = _poll(kiosk)
    assert moved.headers["HX-Redirect"].endswith(f"/r/{kiosk.token}/step/7")
    assert _events(app, "review_approved")[0].actor == "staff:nv.hoa"
    # A second approval (another clerk, a double click) changes nothing.
    again = clerk.post(f"/staff/review/{reg.number}/approve").get_data(as_text=True)
    assert "không còn chờ" in again and len(_events(app, "kyc_confirmed")) == 1


def test_reject_with_a_reason_ends_the_tries_at_the_kiosk(app, kiosk):
    reg = _waiting_at_step6(kiosk)
    clerk = Clerk(app)
    missing = clerk.post(f"/staff/review/{reg.number}/reject", {"reason": ""})
    assert "Vui lòng chọn lý do" in missing.get_data(as_text=True)
    other = clerk.post(f"/staff/review/{reg.number}/reject", {"reason": "other", "note": " "})
    assert "ghi rõ lý do" in other.get_data(as_text=True)
    assert kiosk.registration().help_requested_at is not None  # still waiting

    response = clerk.post(f"/staff/review/{reg.number}/reject",
                          {"reason": "face_unclear", "note": "đeo khẩu trang"})
    assert "Đã từ chối" in clerk.html(response.headers["Location"])
    after = kiosk.registration()
    assert after.kyc_decision == "staff_rejected" and after.help_requested_at is None
    assert after.furthest_step == 6
    moved = _poll(kiosk)
    assert moved.headers["HX-Redirect"].endswith(f"/r/{kiosk.token}/step/6")
    step6 = kiosk.get(kiosk.url(6)).get_data(as_text=True)
    assert "Ảnh khuôn mặt chưa rõ" in step6 and "Đang chờ nhân viên hỗ trợ" not in step6
    assert "không thể tiếp tục tại máy" in step6  # the reason, then: see the clerk
    assert "data-liveness-form" not in step6  # no new try without the clerk
    assert _events(app, "review_rejected")[0].details["reason"] == "face_unclear"


def test_the_clerk_at_the_kiosk_can_still_confirm_and_the_queue_is_cleared(app, kiosk):
    _waiting_at_step6(kiosk)
    kiosk.staff_confirm()
    after = kiosk.registration()
    assert after.furthest_step == 7 and after.help_requested_at is None
    assert _events(app, "review_approved")[0].details["where"] == "kiosk"


def test_the_clerk_at_the_kiosk_can_reject(app, kiosk):
    _waiting_at_step6(kiosk)
    html = kiosk.staff_confirm(verdict="reject").get_data(as_text=True)
    assert "Nhân viên chưa xác nhận" in html
    assert kiosk.registration().kyc_decision == "staff_rejected"


def test_a_registration_not_waiting_cannot_be_approved(app, kiosk):
    kiosk.walk_to(5)
    clerk = Clerk(app)
    number = kiosk.registration().number
    html = clerk.post(f"/staff/review/{number}/approve").get_data(as_text=True)
    assert "không còn chờ" in html and kiosk.registration().furthest_step == 5
    assert clerk.post("/staff/review/KHONGCO/approve").status_code == 404


def _script(app, decision, distance):
    """The face comparison says what the test wants (the app's eKYC fake)."""
    from kiosk.services import ekyc

    app.extensions[ekyc.EXTENSION_KEY].script(
        decision=decision, distance=distance,
        card={"id_number": "038085012345", "date_of_birth": "1985-09-05"})


def test_a_grey_zone_distance_is_queued_as_a_face_review(app, kiosk):
    _script(app, "review", 0.5)
    reg = _waiting_at_step6(kiosk)
    assert reg.kyc_decision == "review" and reg.help_reason == "face_review"
    assert "0.500" in Clerk(app).html(f"/staff/review/{reg.number}")


def test_no_match_is_queued_only_after_the_allowed_retries(app, kiosk):
    _script(app, "no_match", 0.8)
    reg = _waiting_at_step6(kiosk)
    assert reg.kyc_decision == "no_match" and reg.help_requested_at is None
    html = kiosk.get(kiosk.url(6)).get_data(as_text=True)
    assert "Đang chờ nhân viên hỗ trợ" not in html and "lần 1/3" in html
    for _ in range(app.config["FACE_MAX_ATTEMPTS"] - 1):
        kiosk.capture("face")
    reg = kiosk.registration()
    assert reg.face_attempts == 3 and reg.help_reason == "no_match"
    assert "Đang chờ nhân viên hỗ trợ" in kiosk.get(kiosk.url(6)).get_data(as_text=True)


def test_two_clerks_deciding_at_once_cannot_both_decide(app, kiosk):
    """The second clerk's page was loaded before the first clerk decided: its stale row must
    not decide again (the queue entry is claimed atomically)."""
    from sqlalchemy import update

    from kiosk.core.models import Registration, StaffUser
    from kiosk.services import registrations, review

    _waiting_at_step6(kiosk)
    with app.app_context():
        stale = registrations.by_token(kiosk.token)
        clerk = db.session.scalar(select(StaffUser))
        with db.engine.begin() as other:  # the first clerk's decision, committed elsewhere
            other.execute(update(Registration).where(Registration.id == stale.id)
                          .values(help_requested_at=None))
        try:
            review.approve(stale, clerk)
        except review.ReviewError as err:
            assert "nhân viên khác" in str(err)
        else:
            raise AssertionError("a stale approval went through")
    assert not _events(app, "kyc_confirmed") and kiosk.registration().furthest_step == 6
