"""The portrait cut for the clerk, made at every front photo: a cut whose face stands upright
where the card's outline put it is taken at once (one YuNet pass, not twelve, and no search of
the whole frame); a cut that does not is searched as before."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.core.config import DEFAULTS
from kiosk.vision import portrait_search
from kiosk.vision.card_portrait import face_detector
from kiosk.vision.engine import EkycEngine
from tests.faces_data import require_face_models
from tests.support.synthetic import place_in_scene
from tests.test_wizard_ekyc import SAME, customer_card


class CountingDetector:
    """YuNet, counting its passes."""

    def __init__(self, real):
        self.real, self.passes = real, 0

    def detect(self, *args, **kwargs):
        self.passes += 1
        return self.real.detect(*args, **kwargs)


@pytest.fixture(scope="module")
def portrait():
    require_face_models()
    frame, _ = place_in_scene(customer_card(SAME[0]), (1280, 720), 1, rotation_deg=0.0,
                              perspective=(0.0, 0.0), blur=0.0, noise=0.0, light=0.0,
                              brightness=1.0, occluder=False)
    cut = EkycEngine.from_config(DEFAULTS).card_portrait_jpeg(cv2.imencode(".jpg", frame)[1]
                                                                .tobytes())
    return cv2.imdecode(np.frombuffer(cut, np.uint8), cv2.IMREAD_COLOR)


def _angle_of(image, **kwargs):
    detector = CountingDetector(face_detector(None))
    h, w = image.shape[:2]
    found = portrait_search.face_angle(image, (w / 2, h / 2), min(h, w) * 0.5, detector,
                                       **kwargs)
    return found, detector.passes


def test_an_upright_face_where_expected_is_taken_after_one_pass(portrait):
    everywhere, passes = _angle_of(portrait)
    assert passes == 12 and everywhere is not None
    at_once, passes = _angle_of(portrait, expected=0)
    assert passes == 1
    assert at_once.score >= portrait_search.SURE_FACE_SCORE
    assert abs(at_once.angle - everywhere.angle) <= 15  # the same face, the same way up


def test_a_face_not_where_expected_is_still_found_at_its_angle(portrait):
    on_its_side = cv2.rotate(portrait, cv2.ROTATE_90_CLOCKWISE)
    found, passes = _angle_of(on_its_side, expected=0)
    assert passes == 12  # 0° showed no sure face: every angle looked at
    assert found is not None and abs(abs((found.angle + 180) % 360 - 180) - 90) <= 20


@pytest.mark.parametrize("cut_shows_a_face", [True, False])
def test_the_whole_frame_is_searched_only_when_the_cut_shows_no_sure_face(monkeypatch,
                                                                          cut_shows_a_face):
    require_face_models()
    calls = []
    real_search, real_angle = portrait_search.find_portrait, portrait_search.face_angle

    def counting(*args, **kwargs):
        calls.append(1)
        return real_search(*args, **kwargs)

    def missed(*args, **kwargs):  # a smeared frame: the outline's cut missed the face
        return None if kwargs.get("expected") == 0 else real_angle(*args, **kwargs)

    monkeypatch.setattr(portrait_search, "find_portrait", counting)
    if not cut_shows_a_face:
        monkeypatch.setattr(portrait_search, "face_angle", missed)
    frame, _ = place_in_scene(customer_card(SAME[0]), (1280, 720), 1, rotation_deg=2.0,
                              perspective=(4.0, 3.0), blur=0.4, noise=1.5, light=0.1,
                              brightness=0.95, occluder=False)
    cut = EkycEngine.from_config(DEFAULTS).card_portrait_jpeg(
        cv2.imencode(".jpg", frame)[1].tobytes())
    assert cut is not None
    assert bool(calls) is not cut_shows_a_face


def test_a_sure_face_found_on_its_side_in_the_cut_still_has_the_frame_searched(monkeypatch):
    """The cut placed by an outline read the wrong way round: a sure face, but lying on its
    side. That is the case the frame's own search is for."""
    require_face_models()
    calls = []
    real_search = portrait_search.find_portrait

    def counting(*args, **kwargs):
        calls.append(1)
        return real_search(*args, **kwargs)

    def sideways(image, centre, size, detector, **kwargs):
        return portrait_search.FaceAngle(angle=90.0, centre=centre, size=size, score=0.95)

    monkeypatch.setattr(portrait_search, "find_portrait", counting)
    monkeypatch.setattr(portrait_search, "face_angle", sideways)
    frame, _ = place_in_scene(customer_card(SAME[0]), (1280, 720), 1, rotation_deg=2.0,
                              perspective=(4.0, 3.0), blur=0.4, noise=1.5, light=0.1,
                              brightness=0.95, occluder=False)
    EkycEngine.from_config(DEFAULTS).card_portrait_jpeg(cv2.imencode(".jpg", frame)[1].tobytes())
    assert calls
