"""The card portrait found with YuNet (target: portraits on ≥ 99 % of fronts): small cards in
640×480 frames, faces small in their photo, the card-sized guard, the fallback to dlib's HOG
when YuNet's file is missing, and one shared detector."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.vision import card_outline, card_portrait, faces
from kiosk.vision.read_card import portrait_from_frame, read_side
from tests.faces_data import calibration_photo, require_sface_models, skip_or_fail
from tests.support import synthetic


@pytest.fixture(scope="module")
def detector():
    require_sface_models()
    found = card_portrait.face_detector()
    assert found is not None
    return found


@pytest.fixture(scope="module")
def face_photo():
    """A calibration-split face photo (skips, or fails under CI=true, without the test data)."""
    return calibration_photo()


def _small_face(photo: np.ndarray) -> np.ndarray:
    """The photo with the person made small in it (a face a quarter of the photo's width
    shrunk to a tenth): a portrait whose face is below HOG's window on a small card."""
    h, w = photo.shape[:2]
    small = cv2.resize(photo, (w // 3, h // 3), interpolation=cv2.INTER_AREA)
    canvas = np.full_like(photo, 200)
    y0, x0 = h // 3, w // 3
    canvas[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
    return canvas


def _small_card_frame(front: np.ndarray, seed: int) -> np.ndarray:
    """The card 320 px wide in a 640×480 frame."""
    return synthetic.place_in_scene(front, (640, 480), np.random.default_rng(seed), scale=0.5,
                                    rotation_deg=4.0, perspective=(4.0, -3.0), blur=0.8,
                                    occluder=False, jpeg_quality=85)[0]


def test_the_card_reader_shares_the_engines_yunet(detector):
    assert detector is faces.get_model("sface")
    assert card_portrait.face_detector() is detector  # loaded once, not per call


def test_yunet_is_loaded_without_the_recognizer(tmp_path):
    require_sface_models()
    from kiosk.vision import sface

    (tmp_path / sface.DETECTOR_FILE).symlink_to(sface.default_models_dir() / sface.DETECTOR_FILE)
    model = sface.SFaceModel(tmp_path)  # no SFace file in this folder
    model.load_detector()
    assert model.detect(np.full((240, 320, 3), 128, np.uint8)).shape == (0, 15)
    assert not model.loaded  # the 38 MB recognizer was not needed for detection


def test_no_yunet_file_means_hog(tmp_path, face_photo):
    assert card_portrait.face_detector(tmp_path) is None
    front = synthetic.render_front(synthetic.random_holder(np.random.default_rng(3),
                                                           "can_cuoc_2024"),
                                   face_photo, 3, "can_cuoc_2024")
    frame = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(3),
                                     occluder=False)[0]
    side = read_side(frame, with_mrz=False, models_dir=tmp_path)
    if card_portrait.portrait_has_face(card_portrait.portrait_region(front)) is None:
        skip_or_fail("dlib is not installed")
    assert side.portrait_found and side.side == "front"


@pytest.mark.parametrize("seed", [8, 9])
def test_portrait_with_a_small_face_on_a_small_card_in_a_640_frame(detector, face_photo,
                                                                     monkeypatch, seed):
    holder = synthetic.random_holder(np.random.default_rng(seed), "can_cuoc_2024")
    front = synthetic.render_front(holder, _small_face(face_photo), seed, "can_cuoc_2024")
    frame = _small_card_frame(front, seed)
    side = read_side(frame, with_mrz=False)
    assert side.portrait_found and side.side == "front"
    assert card_portrait.portrait_has_face(side.portrait, detector)
    # the same frame through dlib's HOG, the detector before YuNet: its 80 px window misses it
    monkeypatch.setattr(card_portrait, "face_detector", lambda *a, **k: None)
    assert not read_side(frame, with_mrz=False).portrait_found


def test_yunet_portrait_check_agrees_with_step_6(detector, face_photo):
    front = synthetic.render_card_front(synthetic.random_fields(5), face_photo, seed=5)
    assert card_portrait.portrait_has_face(card_portrait.portrait_region(front), detector) is True
    silhouette = synthetic.render_card_front(synthetic.random_fields(5), None, seed=5)
    assert card_portrait.portrait_has_face(card_portrait.portrait_region(silhouette), detector) is False


def test_a_face_too_big_for_the_card_is_not_its_portrait(detector, face_photo):
    # a "card" that is one big face (a photo of the customer held up, a poster): the face fills
    # most of the card's height, which no printed portrait does
    x0, y0, x1, y1 = detector.embed(face_photo).box
    face = face_photo[max(0, y0 - 10):y1 + 10, max(0, x0 - 10):x1 + 10]
    face = cv2.cvtColor(face, cv2.COLOR_GRAY2BGR) if face.ndim == 2 else face
    fake = np.full((card_outline.CARD_SIZE[1], card_outline.CARD_SIZE[0], 3), 200, np.uint8)
    big = cv2.resize(face, (400, 520))
    fake[10:530, 20:420] = big
    assert card_portrait.portrait_on_card(fake, detector) == (None, False)
    # the same face at a portrait's size on the card is found
    fake[:] = 200
    fake[180:180 + 156, 60:60 + 120] = cv2.resize(face, (120, 156))
    crop, upside_down = card_portrait.portrait_on_card(fake, detector)
    assert crop is not None and not upside_down


def test_card_sized_bounds():
    lo, hi = card_portrait.PORTRAIT_FACE_SHARE
    assert card_portrait._card_sized((0, 0, 10, round(0.25 * 540)), 540)
    assert not card_portrait._card_sized((0, 0, 10, round((lo - 0.01) * 540)), 540)
    assert not card_portrait._card_sized((0, 0, 10, round((hi + 0.05) * 540)), 540)


def test_a_live_face_filling_the_frame_is_not_a_card_portrait(detector, face_photo):
    # no card: the customer's own face close to the camera is bigger than any card portrait
    frame = cv2.resize(face_photo, (640, 480))
    assert card_portrait.portrait_in_frame(frame, detector=detector) is None
    side = read_side(frame, with_mrz=False)
    assert not side.portrait_found and side.side is None


def test_portrait_from_frame_finds_the_2024_photo_box_by_its_face(detector, face_photo):
    holder = synthetic.random_holder(np.random.default_rng(9), "can_cuoc_2024")
    front = synthetic.render_front(holder, face_photo, 9, "can_cuoc_2024", "b")
    frame = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(9),
                                     occluder=False)[0]
    crop = portrait_from_frame(frame)
    if crop is not None:  # a card outline found (without one, the engine asks read_side)
        assert card_portrait.portrait_has_face(crop, detector)
