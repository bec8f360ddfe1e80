"""The camera's preview frames at step 6: once the card's QR code has been read off the photo of
the side that carries it (a 2021 chip card's front, a 2024 card's back), the other side's frames
are judged without looking for one; every other frame still is (services/card_preview). The
screen works that out when it shows the camera (``qr=0`` in the frames' address), so a frame
does not look up the photos itself."""
from __future__ import annotations

import html
import io
import re

import pytest

from .kiosk_driver import data_url, jpeg_bytes

CHIP_FRONT = {"card_found": True, "card_kind": "cccd_chip_2021", "sides": ["front"],
              "id_number": "038085012345", "field_sources": {"id_number": "qr"},
              "quality": {"qr_valid": True, "side": "front"}}


def _guidance_url(page: str) -> str:
    return html.unescape(re.search(r'data-guidance-url="([^"]+)"', page).group(1))


def _preview_asks_for_qr(kiosk, fake_ekyc, url: str) -> bool:
    fake_ekyc.calls.clear()
    response = kiosk.post(url, {"frame": (io.BytesIO(jpeg_bytes(seed=3)), "f.jpg")},
                          content_type="multipart/form-data")
    assert response.status_code == 200 and "ok" in response.get_json()
    [(method, kwargs)] = [c for c in fake_ekyc.calls if c[0] == "preview"]
    return kwargs["qr"]


def test_the_step_6_camera_says_which_photo_its_frames_are_for(kiosk, fake_ekyc):
    kiosk.walk_to(6)
    page = kiosk.get(kiosk.url(6), htmx=True).get_data(as_text=True)
    assert _guidance_url(page).endswith("/guidance?kind=card_front")
    fake_ekyc.card = CHIP_FRONT
    page = kiosk.capture("card_front").get_data(as_text=True)
    assert _guidance_url(page).endswith("/guidance?kind=card_back&qr=0")


def test_the_backs_frames_skip_the_qr_code_its_front_photo_gave(kiosk, fake_ekyc):
    kiosk.walk_to(6)
    fake_ekyc.card = CHIP_FRONT
    page = kiosk.capture("card_front").get_data(as_text=True)
    assert _preview_asks_for_qr(kiosk, fake_ekyc, _guidance_url(page)) is False
    # the same frame for the front (a retake), or with no photo named: looked for
    base = f"/r/{kiosk.token}/guidance"
    assert _preview_asks_for_qr(kiosk, fake_ekyc, base + "?kind=card_front") is True
    assert _preview_asks_for_qr(kiosk, fake_ekyc, base) is True


def test_a_2024_cards_front_frames_skip_the_qr_code_its_back_photo_gave(kiosk, fake_ekyc):
    kiosk.walk_to(6)
    fake_ekyc.card = {**CHIP_FRONT, "card_kind": "can_cuoc_2024", "sides": ["back"]}
    page = kiosk.capture("card_back").get_data(as_text=True)  # the back first: either order
    assert _guidance_url(page).endswith("/guidance?kind=card_front&qr=0")
    assert _preview_asks_for_qr(kiosk, fake_ekyc, _guidance_url(page)) is False
    base = f"/r/{kiosk.token}/guidance"
    assert _preview_asks_for_qr(kiosk, fake_ekyc, base + "?kind=card_back") is True


@pytest.mark.parametrize("front", [
    # the 2024 card carries its QR code on the back
    {**CHIP_FRONT, "card_kind": "can_cuoc_2024", "quality": {"qr_valid": False}},
    # a 2021 front whose photo missed its QR code (the fields came from elsewhere, or not)
    {**CHIP_FRONT, "quality": {"qr_valid": False}, "field_sources": {"id_number": "qr_preview"}},
    # nothing read at all
    {},
])
def test_the_backs_frames_still_look_for_a_qr_code_the_front_did_not_give(kiosk, fake_ekyc,
                                                                         front):
    kiosk.walk_to(6)
    fake_ekyc.card = front
    page = kiosk.capture("card_front").get_data(as_text=True)
    assert _preview_asks_for_qr(kiosk, fake_ekyc, _guidance_url(page))
    assert _guidance_url(page).endswith("/guidance?kind=card_back")  # no qr=0


def test_a_frame_does_not_look_up_the_photos(kiosk, fake_ekyc, app):
    """Three frames a second: the screen said whether a QR code is wanted, so a frame reads the
    registration and nothing of its photos (each row's findings are decrypted on reading)."""
    from sqlalchemy import event

    from kiosk.core.extensions import db

    kiosk.walk_to(6)
    fake_ekyc.card = CHIP_FRONT
    page = kiosk.capture("card_front").get_data(as_text=True)
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert _preview_asks_for_qr(kiosk, fake_ekyc, _guidance_url(page)) is False
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements  # the registration was read
    assert not [s for s in statements if "evidence" in s.lower()]


def test_a_frame_judged_without_its_qr_code_costs_no_decoder(monkeypatch):
    """The engine itself: ``qr=False`` gives the same advice and runs no QR decoder."""
    from kiosk.core.config import DEFAULTS
    from kiosk.vision import qr_decode
    from kiosk.vision.engine import EkycEngine
    from tests.test_wizard_ekyc import card_frame

    from .faces_data import face_data_dir

    face_data_dir()
    engine = EkycEngine.from_config(DEFAULTS)
    frame = card_frame("megawati_sukarnoputri/4.jpg")
    full = engine.preview(frame)
    assert full.qr_text  # the drawn front's QR code reads
    decoded = []
    monkeypatch.setattr(qr_decode, "decode_preview_qr",
                        lambda *a, **k: decoded.append(1) or None)
    advice_only = engine.preview(frame, qr=False)
    assert decoded == [] and advice_only.qr_text is None
    assert (advice_only.ok, advice_only.issues) == (full.ok, full.issues)


def test_a_frame_comes_with_where_the_last_answer_found_the_card(kiosk, fake_ekyc):
    """guidance.js sends back the last answer's ``track`` with its next frame; the engine gets
    it as the place to look first (kiosk/vision/card_track.py), and the answer gives the new one."""
    from tests.support.fake_ekyc import PreviewAdvice

    kiosk.walk_to(6)
    found = "120.0,80.0,900.0,95.5,880.0,600.0,130.0,580.0"
    fake_ekyc.script(advice=PreviewAdvice(ok=True, issues=(), messages=(), qr_text=None,
                                          track=found))
    url = f"/r/{kiosk.token}/guidance?kind=card_front"
    before = "118.0,79.0,898.0,95.0,879.0,598.0,129.0,579.0"
    fake_ekyc.calls.clear()
    response = kiosk.post(url, {"frame": (io.BytesIO(jpeg_bytes(seed=3)), "f.jpg"),
                                "track": before}, content_type="multipart/form-data")
    assert response.status_code == 200 and response.get_json()["track"] == found
    [(_method, kwargs)] = [c for c in fake_ekyc.calls if c[0] == "preview"]
    assert kwargs["hint"] == before
    # a first frame has none
    fake_ekyc.calls.clear()
    kiosk.post(url, {"frame": (io.BytesIO(jpeg_bytes(seed=3)), "f.jpg")},
               content_type="multipart/form-data")
    [(_method, kwargs)] = [c for c in fake_ekyc.calls if c[0] == "preview"]
    assert kwargs["hint"] is None


# ---- the photo taken after the frames ----------------------------------------------------------

TRACK = "120.0,80.0,900.0,95.5,880.0,600.0,130.0,580.0,2"


def _read_hints(fake_ekyc) -> list:
    return [kwargs.get("hint") for method, kwargs in fake_ekyc.calls if method == "read_card"]


def test_a_camera_shot_at_step_6_is_read_where_its_frames_found_the_card(kiosk, fake_ekyc):
    """The camera form keeps the last answer's ``track`` (guidance.js) and sends it with the
    photo; the card read looks there first. An upload through the same form is no camera shot:
    whatever the field says, its card is searched for."""
    kiosk.walk_to(6)
    page = kiosk.get(f"/r/{kiosk.token}/step/6").get_data(as_text=True)
    assert re.search(r'<input type="hidden" name="track" value="" data-card-track>', page)
    fake_ekyc.calls.clear()
    kiosk.post(f"/r/{kiosk.token}/step/6/capture/card_front",
               {"image_data": data_url("image/jpeg", jpeg_bytes(seed=4)), "track": TRACK})
    assert _read_hints(fake_ekyc)[:1] == [TRACK]
    fake_ekyc.calls.clear()
    kiosk.post(f"/r/{kiosk.token}/step/6/capture/card_back",
               {"image_data": "", "track": TRACK,
                "image_file": (io.BytesIO(jpeg_bytes(seed=5)), "back.jpg")},
               content_type="multipart/form-data")
    assert _read_hints(fake_ekyc)[:1] == [None]


def test_a_camera_scan_at_step_1_is_read_where_its_frames_found_the_card(kiosk, fake_ekyc):
    kiosk.start()
    scan = f"/r/{kiosk.token}/step/1/scan"
    kiosk.post(scan + "/consent", {"consent": "y"})
    fake_ekyc.calls.clear()
    kiosk.post(scan, {"image_data": data_url("image/jpeg", jpeg_bytes(seed=8)), "track": TRACK})
    kiosk.post(scan, {"image_data": "", "track": TRACK,
                      "image_file": (io.BytesIO(jpeg_bytes(seed=9)), "scan.jpg")},
               content_type="multipart/form-data")
    assert _read_hints(fake_ekyc) == [TRACK, None]


@pytest.mark.parametrize("track", ["", "x" * 201])
def test_a_track_no_preview_could_have_answered_is_not_handed_to_the_read(kiosk, fake_ekyc,
                                                                          track):
    kiosk.walk_to(6)
    fake_ekyc.calls.clear()
    kiosk.post(f"/r/{kiosk.token}/step/6/capture/card_front",
               {"image_data": data_url("image/jpeg", jpeg_bytes(seed=4)), "track": track})
    assert _read_hints(fake_ekyc)[:1] == [None]
