"""Step 6 cannot loop (kiosk.domain.step6 through the wizard): the side already taken held up
again is not stored, says «turn over» with a drawing, and is audited once; the same side twice
is stored once. A clerk's rejection ends the face tries; «Cho khách thử lại một lượt» opens
exactly one more."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Evidence

from .kiosk_driver import jpeg_bytes
from .staff_console import Clerk

FRONT = jpeg_bytes(seed=11)
BACK = jpeg_bytes(seed=12)


def _stored(app, kind):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Evidence)
                                 .where(Evidence.kind == kind))


def _events(app, name):
    with app.app_context():
        return [e.details for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == name).order_by(AuditEvent.id))]


def _front_taken(kiosk, fake_ekyc):
    kiosk.walk_to(6)
    fake_ekyc.script(card={"card_found": True, "sides": ["front"]})
    html = kiosk.capture("card_front", FRONT).get_data(as_text=True)
    assert "lật giấy tờ lại" in html and "turn-card.svg" in html  # told to turn over, drawn
    return html


def test_the_front_held_during_the_back_capture_is_not_stored_again(app, kiosk, fake_ekyc):
    _front_taken(kiosk, fake_ekyc)
    for seed in (13, 14, 15, 16):  # the camera keeps shooting the front it still sees
        html = kiosk.capture("card_back", jpeg_bytes(seed=seed)).get_data(as_text=True)
        assert 'data-error="wrong_side"' in html and "turn-card.svg" in html
        assert "lật giấy tờ lại" in html and "mặt sau" in html
        assert 'data-capture-hold="wrong_side"' in html  # the page's shutter waits
        assert "Đang chụp: Mặt sau giấy tờ" in html  # still asking for the back
    assert _stored(app, "card_front") == 1 and _stored(app, "card_back") == 0
    checked = _events(app, "card_checked")
    assert [c["state"] for c in checked] == ["stored", "wrong_side"]  # one event per decision
    # the back shown at last is stored, and the page does not hold
    fake_ekyc.script(card={"card_found": True, "sides": ["back"]})
    html = kiosk.capture("card_back", BACK).get_data(as_text=True)
    assert _stored(app, "card_back") == 1 and "data-capture-hold" not in html


def test_the_same_back_twice_is_stored_once(app, kiosk, fake_ekyc):
    _front_taken(kiosk, fake_ekyc)
    fake_ekyc.script(card={"card_found": True, "sides": ["back"]})
    kiosk.capture("card_back", BACK)
    # a second shot in flight, and a retake of the very same frame: neither is stored
    kiosk.capture("card_back", BACK)
    assert _stored(app, "card_back") == 1
    assert [c["state"] for c in _events(app, "card_checked")][-1] == "already_have"
    retake = kiosk.post(f"/r/{kiosk.token}/step/6/capture/card_back",
                        {"image_data": "data:image/jpeg;base64," + __import__("base64")
                         .b64encode(BACK).decode(), "retake": "card_back"})
    assert 'data-error="already_have"' in retake.get_data(as_text=True)
    assert 'data-capture-hold="already_have"' in retake.get_data(as_text=True)
    assert _stored(app, "card_back") == 1
    # a retake with a new picture is stored
    kiosk.post(f"/r/{kiosk.token}/step/6/capture/card_back",
               {"image_data": "data:image/jpeg;base64," + __import__("base64")
                .b64encode(jpeg_bytes(seed=40)).decode(), "retake": "card_back"})
    assert _stored(app, "card_back") == 2


def _rejected(app, kiosk, fake_ekyc):
    kiosk.walk_to(6)
    fake_ekyc.script(decision="review", card={})
    kiosk.capture_all()
    reg = kiosk.registration()
    clerk = Clerk(app)
    response = clerk.post(f"/staff/review/{reg.number}/reject", {"reason": "not_same_person"})
    assert response.status_code == 303
    return reg, clerk


def test_a_rejection_ends_the_tries(app, kiosk, fake_ekyc):
    reg, clerk = _rejected(app, kiosk, fake_ekyc)
    attempts = kiosk.registration().face_attempts
    html = kiosk.get(kiosk.url(6)).get_data(as_text=True)
    assert "không thể tiếp tục tại máy" in html and "gặp nhân viên" in html
    assert 'data-result="staff_rejected"' in html and "kyc_rejected" in html  # «Gọi nhân viên»
    assert "data-liveness-form" not in html and "lần 1/" not in html  # no new try offered
    assert "/retake/" not in html
    fake_ekyc.script(decision="match", liveness="passed")
    kiosk.capture("face")
    files = [(io.BytesIO(jpeg_bytes(seed=i)), f"f{i}.jpg") for i in range(3)]
    kiosk.post(f"/r/{kiosk.token}/step/6/liveness", {"frames": files, "timestamps": "0,125,250"},
               content_type="multipart/form-data")
    after = kiosk.registration()
    assert after.kyc_decision == "staff_rejected" and after.face_attempts == attempts
    assert _stored(app, "face") == 1
    assert "Cho khách thử lại một lượt" in clerk.html(f"/staff/review/{reg.number}")


def test_allow_one_more_opens_exactly_one_round(app, kiosk, fake_ekyc):
    reg, clerk = _rejected(app, kiosk, fake_ekyc)
    kiosk.post(f"/r/{kiosk.token}/help", {"reason": "kyc_rejected"})
    response = clerk.post(f"/staff/review/{reg.number}/allow-retry")
    assert response.status_code == 303
    assert "thử lại một lượt" in clerk.html(response.headers["Location"])
    assert _events(app, "review_retry_allowed")[0]["attempts_left"] == 1
    poll = kiosk.client.get(f"/r/{kiosk.token}/help", headers=kiosk.headers())
    assert poll.headers["HX-Redirect"].endswith("/step/6")  # the waiting kiosk goes back
    html = kiosk.get(kiosk.url(6)).get_data(as_text=True)
    assert "data-liveness-form" in html and "không thể tiếp tục" not in html
    # one try: it does not match → straight to the clerk, not «lần 1/3» again
    fake_ekyc.script(decision="no_match")
    kiosk.capture("face", jpeg_bytes(seed=77))
    after = kiosk.registration()
    assert after.kyc_decision == "no_match"
    assert after.face_attempts == app.config["FACE_MAX_ATTEMPTS"]
    assert after.help_reason == "no_match"
    # a second allow is refused while it is not rejected
    refused = clerk.post(f"/staff/review/{reg.number}/allow-retry").get_data(as_text=True)
    assert "không ở trạng thái bị từ chối" in refused
