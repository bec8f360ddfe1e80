"""The clerk decides on good evidence: the review page shows the upright portrait AND the card
photo beside it, the face photo, the distance on a scale against both thresholds, and the TRUE
reason (derived from the recorded decision), for each way a case reaches the clerk."""
from __future__ import annotations

import pytest

from kiosk.domain.kyc import REVIEW_REASONS, face_reason, review_reason_codes

from .kiosk_driver import jpeg_bytes
from .staff_console import Clerk

CARD = {"card_found": True, "id_number": "038085012345", "date_of_birth": "1985-09-05"}


def _case(app, kiosk, fake_ekyc, decision, distance=None):
    kiosk.walk_to(6)
    fake_ekyc.script(decision=decision, distance=distance, card=CARD)
    kiosk.capture_all()
    for seed in range(app.config["FACE_MAX_ATTEMPTS"] - 1):
        if kiosk.registration().help_requested_at is not None:
            break
        kiosk.capture("face", jpeg_bytes(seed=100 + seed))
    reg = kiosk.registration()
    assert reg.help_requested_at is not None
    return reg, Clerk(app).html(f"/staff/review/{reg.number}")


@pytest.mark.parametrize(("decision", "distance", "code", "wrong"), [
    # a plain photo (no liveness) whose face matches well inside the automatic match
    ("match", 0.208, "liveness_not_done", "face_unsure"),
    ("review", None, "face_unsure", "liveness_not_done"),
    ("no_match", 0.871, "face_no_match", "face_unsure"),
    ("no_face", None, "no_face", "face_unsure"),
])
def test_the_review_page_shows_both_pictures_and_the_true_reason(app, kiosk, fake_ekyc,
                                                                   decision, distance, code, wrong):
    reg, html = _case(app, kiosk, fake_ekyc, decision, distance)
    assert f'data-reason="{code}"' in html and REVIEW_REASONS[code] in html
    assert f'data-reason="{wrong}"' not in html
    # the reason heads the page, not the queue's generic sentence
    assert f'<p class="notice warn">{REVIEW_REASONS[code]}' in html
    for evidence in ("portrait", "card_front", "face"):
        assert f'data-evidence="{evidence}"' in html
    assert 'class="distance-scale"' in html
    zone = {"liveness_not_done": "accept", "face_unsure": "review",
            "face_no_match": "no_match", "no_face": "none"}[code]
    assert f'data-zone="{zone}"' in html
    queued = {"liveness_not_done": "liveness_not_done", "face_unsure": "face_review",
              "face_no_match": "no_match", "no_face": "no_face"}[code]
    assert reg.help_reason == queued  # the clerks' list says the same


def test_the_staff_portrait_answers_the_card_when_no_portrait_is_found(app, kiosk, fake_ekyc):
    reg, _ = _case(app, kiosk, fake_ekyc, "review")  # the fake cut no portrait at capture
    clerk = Clerk(app)
    front = next(e for e in kiosk.registration().evidence if e.kind == "card_front")
    url = f"/staff/r/{reg.number}/evidence/{front.id}/portrait"
    whole = clerk.get(url)
    assert whole.status_code == 200 and whole.data == front.content  # the whole card, not 404
    face = next(e for e in kiosk.registration().evidence if e.kind == "face")
    assert clerk.get(f"/staff/r/{reg.number}/evidence/{face.id}/portrait").status_code == 404


def test_the_staff_portrait_is_the_one_cut_when_the_photo_was_taken(app, kiosk, fake_ekyc):
    fake_ekyc.script(portrait=jpeg_bytes(seed=9))
    reg, _ = _case(app, kiosk, fake_ekyc, "review")
    front = next(e for e in kiosk.registration().evidence if e.kind == "card_front")
    fake_ekyc.script(portrait=jpeg_bytes(seed=10))  # a new cut would differ: none is made
    asked = len(fake_ekyc.calls)
    answer = Clerk(app).get(f"/staff/r/{reg.number}/evidence/{front.id}/portrait")
    assert answer.data == jpeg_bytes(seed=9)
    assert len(fake_ekyc.calls) == asked


def test_face_reason_comes_from_the_recorded_details():
    assert face_reason({"decision": "review", "raw_decision": "match",
                        "problems": ["no_liveness"]}) == "liveness_not_done"
    assert face_reason({"decision": "review", "raw_decision": "review", "problems": []}) \
        == "face_unsure"
    assert face_reason({"decision": "no_match"}) == "face_no_match"
    assert face_reason({"decision": "no_face", "raw_decision": "no_face"}) == "no_face"
    assert face_reason({"decision": "match", "raw_decision": "match", "liveness": True,
                        "problems": []}) is None
    # the card's own problems follow the face's, and «no liveness» is not said twice
    assert review_reason_codes({"raw_decision": "match",
                                "problems": ["no_liveness", "card_qr_unread"]}) \
        == ["liveness_not_done", "card_qr_unread"]
    assert review_reason_codes({"raw_decision": "review", "problems": ["no_liveness"]}) \
        == ["face_unsure", "no_liveness"]


@pytest.mark.real_vision
@pytest.mark.parametrize(("rotation", "blur"), [(3, 0.4), (93, 3.0), (273, 3.0), (183, 1.5)])
def test_the_portrait_for_the_clerk_stands_upright_whatever_way_the_card_lay(rotation, blur):
    """A card held on its side in a smeared frame: the cut placed by the outline alone missed
    the face (the clerk once decided on such a cut); the one answered stands upright."""
    import cv2
    import numpy as np

    from kiosk.core.config import DEFAULTS
    from kiosk.vision import portrait_search
    from kiosk.vision.card_portrait import face_detector
    from kiosk.vision.engine import EkycEngine
    from tests.support.synthetic import place_in_scene

    from .faces_data import require_face_models
    from .test_wizard_ekyc import SAME, customer_card

    require_face_models()
    frame, _ = place_in_scene(customer_card(SAME[0]), (1280, 720), 1, rotation_deg=rotation,
                              perspective=(4.0, 3.0), blur=blur, noise=2.5, light=0.1,
                              brightness=0.95, occluder=False, jpeg_quality=80)
    engine = EkycEngine.from_config(DEFAULTS)
    cut = engine.card_portrait_jpeg(cv2.imencode(".jpg", frame)[1].tobytes())
    portrait = cv2.imdecode(np.frombuffer(cut, np.uint8), cv2.IMREAD_COLOR)
    h, w = portrait.shape[:2]
    assert h > w  # a portrait's shape, not one lying on its side
    found = portrait_search.face_angle(portrait, (w / 2, h / 2), min(h, w) * 0.5,
                                       face_detector(None))
    assert found is not None and abs((found.angle + 180) % 360 - 180) <= 20
