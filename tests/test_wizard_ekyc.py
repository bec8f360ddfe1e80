"""Step 6 with automatic eKYC: face match decisions, retries, liveness, clerk review."""
from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from kiosk.core.config import DEFAULTS
from kiosk.core.models import AuditEvent
from tests.app_factory import kiosk_client

from .faces_data import face_data_dir, load, require_face_models
from .kiosk_driver import STAFF

SAME = ("megawati_sukarnoputri/4.jpg", "megawati_sukarnoputri/5.jpg")  # calibration, ≈ 0.25
DIFFERENT = ("joe_biden/1.jpg", "zhang_ziyi/1.jpg")


# Every test here asserts what the real vision reads off a card or a face: the real engine.
pytestmark = pytest.mark.real_vision


@pytest.fixture(autouse=True)
def _needs_faces():
    face_data_dir()
    require_face_models()


def jpeg(image) -> bytes:
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    ok, buf = cv2.imencode(".jpg", image)
    assert ok
    return buf.tobytes()


def selfie(image) -> bytes:
    """The photo placed in a grey 640×480 webcam-like frame."""
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    canvas = np.full((480, 640, 3), 128, np.uint8)
    scale = min(440 / image.shape[0], 600 / image.shape[1])
    small = cv2.resize(image[:, :, :3], None, fx=scale, fy=scale)
    y, x = (480 - small.shape[0]) // 2, (640 - small.shape[1]) // 2
    canvas[y:y + small.shape[0], x:x + small.shape[1]] = small
    return jpeg(canvas)


def card_frame(portrait_file, seed=3, **overrides) -> bytes:
    """A camera frame of a synthetic chip CCCD of the test customer, with this portrait."""
    from tests.support.synthetic import place_in_scene

    card = customer_card(portrait_file, seed, **overrides)
    frame, _ = place_in_scene(card, (1280, 720), seed, rotation_deg=3.0, perspective=(4.0, 3.0),
                              blur=0.4, noise=1.5, light=0.1, brightness=0.95, occluder=False,
                              jpeg_quality=92)
    return jpeg(frame)


def customer_card(portrait_file, seed=3, **overrides) -> np.ndarray:
    """The test customer's synthetic chip CCCD front, flat (856×540), with this portrait.

    Issued 2023-10-02, within two years before the holder turns 40: valid until 60, so the
    card is not expired on any date the tests run (a 2021 card of a 1985-born would have
    expired on the 40th birthday, 2025-09-05)."""
    from datetime import date

    from tests.support.synthetic import render_card_front

    fields = {
        "id_number": "038085012345", "old_id_number": None, "full_name": "Nguyễn Văn An",
        "date_of_birth": date(1985, 9, 5), "gender": "Nam", "nationality": "Việt Nam",
        "place_of_origin": "Thanh Hóa", "address": "Số 12 Lê Lai, Phường Điện Biên, TP Thanh Hóa",
        "issue_date": date(2023, 10, 2), "expiry_date": None, **overrides,
    }
    return render_card_front(fields, load(portrait_file), seed=seed)


def _photos_to_step6(kiosk, card_file, face_file=None, card=None):
    kiosk.walk_to(6)
    kiosk.capture("card_front", card if card is not None else jpeg(load(card_file)))
    kiosk.capture("card_back")
    if face_file:
        return kiosk.capture("face", selfie(load(face_file)))
    return None


def _events(kiosk, name):
    from kiosk.core.extensions import db

    with kiosk.client.application.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def test_matching_plain_photo_still_goes_to_clerk_review(kiosk):
    html = _photos_to_step6(kiosk, *SAME).get_data(as_text=True)
    assert "Nhân viên sẽ kiểm tra" in html
    reg = kiosk.registration()
    accept, reject = (DEFAULTS[k]["sface"] for k in ("FACE_ACCEPT_DISTANCE", "FACE_REJECT_DISTANCE"))
    assert reg.kyc_decision == "review" and reg.face_distance < accept
    event = _events(kiosk, "face_match")[-1]
    assert event.details["raw_decision"] == "match" and event.details["liveness"] is False
    assert event.details["accept_threshold"] == accept and event.details["reject_threshold"] == reject
    assert event.details["model"] == "sface" and event.details["shadow"] is None


def test_shadow_model_is_recorded_in_the_audit_but_never_decides(tmp_path):
    from .app_factory import make_app
    from .kiosk_driver import KioskDriver

    kiosk = KioskDriver(kiosk_client(make_app(tmp_path, FACE_SHADOW_MODEL="dlib")))
    _photos_to_step6(kiosk, *DIFFERENT)
    event = _events(kiosk, "face_match")[-1]
    assert event.details["model"] == "sface" and event.details["raw_decision"] == "no_match"
    shadow = event.details["shadow"]
    assert shadow["model"] == "dlib" and shadow["decision"] == "no_match"
    assert shadow["distance"] != event.details["distance"]  # another model, another scale
    assert kiosk.registration().face_distance == event.details["distance"]  # SFace's


def test_different_person_is_no_match_and_asks_to_retry(kiosk):
    html = _photos_to_step6(kiosk, *DIFFERENT).get_data(as_text=True)
    assert "chưa khớp" in html and "lần 1/3" in html
    assert kiosk.registration().kyc_decision == "no_match"
    # a clerk is not asked yet: the customer retries first
    html = kiosk.staff_confirm().get_data(as_text=True)
    assert "chụp lại khuôn mặt" in html
    assert kiosk.registration().furthest_step == 6


def test_after_three_no_matches_a_clerk_decides(kiosk):
    _photos_to_step6(kiosk, *DIFFERENT)
    for _ in range(2):
        kiosk.capture("face", selfie(load(DIFFERENT[1])))
    html = kiosk.get(kiosk.url(6)).get_data(as_text=True)
    assert "sau 3 lần" in html and "Nhân viên xác nhận" in html
    kiosk.staff_confirm()
    reg = kiosk.registration()
    assert reg.furthest_step == 7 and reg.kyc_decision == "staff_confirmed"
    event = _events(kiosk, "kyc_confirmed")[-1]
    assert event.actor == f"staff:{STAFF[0]}" and event.details["automatic_decision"] == "no_match"


def test_automatic_continue_is_refused_without_a_live_match(kiosk):
    _photos_to_step6(kiosk, *SAME)
    kiosk.post_step(6, {"verdict": "auto"})
    assert kiosk.registration().furthest_step == 6


def _post_frames(kiosk, frames, stamps):
    files = [(io.BytesIO(jpeg(f)), f"f{i}.jpg") for i, f in enumerate(frames)]
    return kiosk.post(f"/r/{kiosk.token}/step/6/liveness",
                      {"frames": files, "timestamps": ",".join(str(s) for s in stamps)},
                      content_type="multipart/form-data")


def test_still_photo_held_to_the_camera_fails_liveness(kiosk):
    _photos_to_step6(kiosk, SAME[0])
    frame = cv2.imdecode(np.frombuffer(selfie(load(SAME[1])), np.uint8), cv2.IMREAD_COLOR)
    frames = [frame] * 24
    stamps = [i * 900 for i in range(24)]  # 21 s of the same picture
    html = _post_frames(kiosk, frames, stamps).get_data(as_text=True)
    assert "thử lại" in html
    reg = kiosk.registration()
    assert reg.liveness_passed_at is None
    assert "face" not in {e.kind for e in kiosk.registration().evidence}
    event = _events(kiosk, "liveness_checked")[-1]
    assert event.details["state"] == "failed" and event.details["still"] is True


def test_liveness_with_mismatched_timestamps_is_refused_clearly(kiosk):
    _photos_to_step6(kiosk, SAME[0])
    frame = np.full((360, 480, 3), 120, np.uint8)
    html = _post_frames(kiosk, [frame, frame], [0]).get_data(as_text=True)
    assert "Không nhận được hình" in html


def _pass_liveness(kiosk, monkeypatch, face_file):
    from kiosk.services.ekyc import EXTENSION_KEY
    from tests.support.fake_ekyc import FakeEkycEngine

    extensions = kiosk.client.application.extensions
    monkeypatch.setitem(extensions, EXTENSION_KEY, FakeEkycEngine.around(
        extensions[EXTENSION_KEY], scripted={"judge_liveness"}).script(liveness="passed"))
    frame = cv2.imdecode(np.frombuffer(selfie(load(face_file)), np.uint8), cv2.IMREAD_COLOR)
    return _post_frames(kiosk, [frame] * 3, [0, 125, 250]).get_data(as_text=True)


def test_live_face_matching_the_declared_persons_card_continues_automatically(kiosk, monkeypatch):
    _photos_to_step6(kiosk, None, card=card_frame(SAME[0]))
    html = _pass_liveness(kiosk, monkeypatch, SAME[1])
    assert "Khuôn mặt khớp" in html
    reg = kiosk.registration()
    assert reg.kyc_decision == "match" and reg.liveness_passed_at is not None
    kiosk.post_step(6, {"verdict": "auto"})
    reg = kiosk.registration()
    assert reg.furthest_step == 7
    event = _events(kiosk, "kyc_confirmed")[-1]
    assert event.actor == "system" and event.details["decision"] == "match"
    assert [e.source for e in reg.evidence if e.kind == "face"] == ["liveness"]


def test_someone_elses_card_goes_to_the_clerk_even_when_the_face_matches(kiosk, monkeypatch):
    # The face matches the card portrait, but the card's QR carries another ID number.
    _photos_to_step6(kiosk, None, card=card_frame(SAME[0], id_number="038085099999"))
    html = _pass_liveness(kiosk, monkeypatch, SAME[1])
    assert "Nhân viên xác nhận" in html and "KHÁC số giấy tờ" in html
    assert kiosk.registration().kyc_decision == "review"
    event = _events(kiosk, "face_match")[-1]
    assert event.details["raw_decision"] == "match"
    assert "card_number_differs" in event.details["problems"]


def test_card_portrait_not_the_holders_face_behind_it_is_compared(kiosk, monkeypatch):
    # A card with B's portrait: the live face is A's. Must not match.
    _photos_to_step6(kiosk, None, card=card_frame(DIFFERENT[1]))
    _pass_liveness(kiosk, monkeypatch, DIFFERENT[0])
    assert kiosk.registration().kyc_decision == "no_match"


@pytest.mark.parametrize("stamps", ["300,200,100", "0,1e400,2", "0,nan,2", "a,b,c"])
def test_liveness_with_bad_timestamps_asks_to_retry(kiosk, stamps):
    _photos_to_step6(kiosk, SAME[0])
    frame = np.full((360, 480, 3), 120, np.uint8)
    files = [(io.BytesIO(jpeg(frame)), f"f{i}.jpg") for i in range(3)]
    response = kiosk.post(f"/r/{kiosk.token}/step/6/liveness",
                          {"frames": files, "timestamps": stamps}, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "Không nhận được hình" in response.get_data(as_text=True)


def test_clerk_sees_the_card_portrait_beside_the_face(kiosk, monkeypatch):
    _photos_to_step6(kiosk, None, card=card_frame(SAME[0], id_number="038085099999"))
    html = _pass_liveness(kiosk, monkeypatch, SAME[1])
    reg = kiosk.registration()
    front = next(e for e in reg.evidence if e.kind == "card_front")
    url = f"/r/{kiosk.token}/evidence/{front.id}/portrait"
    assert url in html
    response = kiosk.get(url)
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    portrait = cv2.imdecode(np.frombuffer(response.data, np.uint8), cv2.IMREAD_COLOR)
    assert portrait.shape[0] > portrait.shape[1]  # a portrait, not the whole card


def test_portrait_of_a_photo_without_a_card_is_the_whole_photo(kiosk):
    # No portrait to cut: the clerk gets the photo itself, never a broken picture.
    _photos_to_step6(kiosk, *DIFFERENT)
    reg = kiosk.registration()
    front = next(e for e in reg.evidence if e.kind == "card_front")
    face = next(e for e in reg.evidence if e.kind == "face")
    response = kiosk.get(f"/r/{kiosk.token}/evidence/{front.id}/portrait")
    assert response.status_code == 200 and response.data == front.content
    # only a card front has a portrait; another photo's id, or none, is not found
    assert kiosk.get(f"/r/{kiosk.token}/evidence/{face.id}/portrait").status_code == 404
    assert kiosk.get(f"/r/{kiosk.token}/evidence/{front.id + 999}/portrait").status_code == 404


def test_a_card_without_a_face_is_shown_whole_beside_the_face(kiosk):
    # The card is found but its photo box shows a silhouette: the face check had no portrait
    # to compare, so the clerk gets the whole front, not a cut-out that may not exist.
    from tests.support.synthetic import place_in_scene, render_card_front

    card = render_card_front(None, None, seed=5)
    frame, _ = place_in_scene(card, (1280, 720), 5, rotation_deg=3.0, perspective=(4.0, 3.0),
                              blur=0.4, noise=1.5, light=0.1, brightness=0.95, occluder=False,
                              jpeg_quality=92)
    html = _photos_to_step6(kiosk, None, SAME[1], card=jpeg(frame)).get_data(as_text=True)
    event = _events(kiosk, "face_match")[-1]
    assert event.details["reference"] == "card_portrait"
    assert event.details["raw_decision"] == "no_face"
    front = next(e for e in kiosk.registration().evidence if e.kind == "card_front")
    assert "Nhân viên xác nhận" in html
    assert f'/r/{kiosk.token}/evidence/{front.id}"' in html  # the whole photo
    assert f"/evidence/{front.id}/portrait" not in html


@pytest.mark.parametrize("face_file", [SAME[1], "zhang_ziyi/1.jpg"], ids=["same", "different"])
def test_kiosk_and_vision_verify_give_the_same_decision_on_the_same_pictures(kiosk, tmp_path,
                                                                               face_file):
    """Issue 10: a customer must never be told «no face» where `vision verify` says «no match»:
    the step-6 decision and the CLI contract go through the same engine."""
    import json as _json

    card, face = card_frame(SAME[0]), selfie(load(face_file))
    _photos_to_step6(kiosk, None, card=card)
    kiosk.capture("face", face)
    event = _events(kiosk, "face_match")[-1]
    (tmp_path / "card.jpg").write_bytes(card)
    (tmp_path / "face.jpg").write_bytes(face)
    runner = kiosk.client.application.test_cli_runner()
    result = runner.invoke(args=["vision", "verify", str(tmp_path / "card.jpg"),
                                 str(tmp_path / "face.jpg")])
    out = _json.loads(result.output)
    assert result.exit_code == 0, out
    assert event.details["raw_decision"] == out["decision"]
    assert event.details["distance"] == pytest.approx(out["distance"], abs=1e-3)
    assert out["decision"] == ("match" if face_file == SAME[1] else "no_match")
