"""Finding the CCCD front in a camera frame, its portrait, and the read-card pipeline."""
from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from kiosk.vision import card_outline, card_portrait
from kiosk.vision.read_card import portrait_from_frame, read_card
from tests.faces_data import ROOT, calibration_photo, skip_or_fail
from tests.support import synthetic

CONTRACT_KEYS = ["card_found", "id_number", "old_id_number", "full_name", "date_of_birth",
                 "gender", "address", "issue_date", "portrait_found", "quality", "card_kind",
                 "expiry_date", "expiry_known", "sides", "mrz", "mismatches", "field_sources"]


@pytest.fixture(scope="module")
def holder():
    return synthetic.random_fields(np.random.default_rng(41))


@pytest.fixture(scope="module")
def face_photo():
    """A calibration-split face photo (skips, or fails under CI=true, without the test data)."""
    return calibration_photo()


@pytest.fixture(scope="module")
def front_with_face(holder, face_photo):
    return synthetic.render_card_front(holder, face_photo, seed=41)


@pytest.fixture(scope="module")
def front(holder):
    return synthetic.render_card_front(holder, None, seed=41)


def corner_error(found, truth):
    """Largest corner distance, allowing the 180° ambiguity of the outline."""
    return min(float(np.abs(np.roll(found, -k, axis=0) - truth).max()) for k in (0, 2))


def require_face_detector(value):
    if value is None:
        skip_or_fail("dlib is not installed: cannot check the portrait for a face")
    return value


# ----------------------------------------------------------------------------- geometry


def test_order_corners_from_any_starting_point():
    truth = np.array([[100, 50], [500, 80], [480, 330], [80, 300]], np.float32)
    for shift in range(4):
        shuffled = np.roll(truth, shift, axis=0)[::-1]
        assert np.array_equal(card_outline.order_corners(shuffled), truth)


def test_order_corners_puts_a_long_side_on_top_for_a_card_on_its_side():
    upright = np.array([[0, 0], [856, 0], [856, 540], [0, 540]], np.float32)
    on_side = upright[:, ::-1].copy()  # turned 90°: long sides vertical
    ordered = card_outline.order_corners(on_side)
    top = np.linalg.norm(ordered[1] - ordered[0])
    assert top == pytest.approx(856)


def test_order_corners_answers_float32_corners_of_the_input():
    quad = np.array([[80.5, 300.25], [100, 50], [500, 80], [480, 330]], np.float64)
    ordered = card_outline.order_corners(quad)
    assert ordered.dtype == np.float32 and ordered.shape == (4, 2)
    assert sorted(map(tuple, ordered.tolist())) == sorted(map(tuple, quad.astype(np.float32)
                                                              .tolist()))


def test_two_sides_cross_where_both_lines_pass():
    # y = 10 (along x) and x = 30 (along y)
    assert card_outline._crossing((0, 10), (1, 0), (30, -5), (0, 2)) == pytest.approx((30, 10))
    # a slanted pair: through (0, 0) along (1, 1) and through (10, 0) along (-1, 1)
    assert card_outline._crossing(np.float32([0, 0]), np.float32([1, 1]),
                                  np.float32([10, 0]), np.float32([-1, 1])) == \
        pytest.approx((5, 5))


def test_parallel_sides_do_not_cross():
    assert card_outline._crossing((0, 0), (1, 0), (0, 5), (2, 0)) is None
    assert card_outline._intersect((0, 0), (1, 0), (0, 5), (2, 0)) is None


@pytest.mark.parametrize("size,seed", [((1280, 720), 1), ((640, 480), 2), ((1280, 720), 3),
                                       ((640, 480), 4)])
def test_find_card_corners_match_the_truth(front, size, seed):
    frame, truth = synthetic.place_in_scene(front, size, np.random.default_rng(seed))
    found = card_outline.find_card(frame)
    assert found is not None
    assert corner_error(found, truth) < 0.015 * size[0]


def test_find_card_with_a_thumb_over_the_edge(front):
    frame, truth = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(5),
                                            occluder=True)
    found = card_outline.find_card(frame)
    assert found is not None and corner_error(found, truth) < 0.015 * 1280


def test_find_card_turns_an_upside_down_card(front):
    frame, truth = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(19),
                                            rotation_deg=176.0)
    found = card_outline.find_card(frame)
    assert found is not None
    assert np.abs(found - truth).max() < 0.015 * 1280  # TL is the card's own top left


def test_find_card_rotated_20_degrees(front):
    frame, truth = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(6),
                                            rotation_deg=-20.0)
    found = card_outline.find_card(frame)
    assert found is not None and corner_error(found, truth) < 0.015 * 1280


def test_no_card_on_an_empty_desk(front):
    for seed in (7, 8, 9):
        frame, _ = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(seed),
                                            centre=(-5000.0, -5000.0))
        assert card_outline.find_card(frame) is None


def test_warp_recovers_the_canonical_front(front):
    frame, _ = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(10),
                                        occluder=False, perspective=(10.0, -8.0))
    warped = card_outline.warp_card(frame, card_outline.find_card(frame))
    assert warped.shape == (540, 856, 3)
    corr = np.corrcoef(cv2.cvtColor(warped, cv2.COLOR_BGR2GRAY).ravel().astype(np.float32),
                       cv2.cvtColor(front, cv2.COLOR_BGR2GRAY).ravel().astype(np.float32))[0, 1]
    assert corr > 0.85


def test_corners_from_qr_extrapolate_the_card(front):
    frame, truth = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(11))
    x0, y0, x1, y1 = card_outline.QR_BOX
    box = np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float32)
    qr_points = cv2.perspectiveTransform(box, np.linalg.inv(card_outline.card_homography(truth)))[0]
    assert np.abs(card_outline.corners_from_qr(qr_points) - truth).max() < 1.0


# ----------------------------------------------------------------------------- portrait


def test_portrait_crop_shows_the_face_of_the_card(front_with_face):
    frame, _ = synthetic.place_in_scene(front_with_face, (1280, 720), np.random.default_rng(12))
    crop = card_portrait.portrait_crop(frame)
    assert crop is not None and crop.shape[0] > crop.shape[1]  # portrait format
    assert require_face_detector(card_portrait.portrait_has_face(crop)) is True


def test_portrait_from_an_upside_down_card_frame(front_with_face):
    frame, _ = synthetic.place_in_scene(front_with_face, (1280, 720), np.random.default_rng(20),
                                        rotation_deg=182.0)
    crop = portrait_from_frame(frame)
    assert crop is not None
    assert require_face_detector(card_portrait.portrait_has_face(crop)) is True


def test_portrait_located_from_the_qr_code_when_the_outline_is_lost(front, monkeypatch):
    frame, truth = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(22))
    monkeypatch.setattr(card_outline, "find_card", lambda image, *a, **k: None)
    crop = portrait_from_frame(frame)
    expected = card_portrait.portrait_crop(frame, truth)
    assert crop is not None and crop.shape == expected.shape
    diff = np.abs(crop.astype(np.float32) - expected.astype(np.float32)).mean()
    assert diff < 25


def test_portrait_from_a_frame_without_card_is_none(front):
    frame, _ = synthetic.place_in_scene(front, (640, 480), np.random.default_rng(23),
                                        centre=(-5000.0, -5000.0))
    assert portrait_from_frame(frame) is None


def test_silhouette_portrait_has_no_face(front):
    crop = card_portrait.portrait_region(front)
    assert require_face_detector(card_portrait.portrait_has_face(crop)) is False


def test_portrait_crop_of_a_canonical_card_image(front):
    crop = card_portrait.portrait_crop(front)
    x0, y0, x1, y1 = card_outline.PORTRAIT_BOX
    assert crop.shape[0] >= y1 - y0 and crop.shape[1] >= x1 - x0


def test_portrait_crop_without_card_is_none(front):
    frame, _ = synthetic.place_in_scene(front, (640, 480), np.random.default_rng(13),
                                        centre=(-5000.0, -5000.0))
    assert card_portrait.portrait_crop(frame) is None


# ----------------------------------------------------------------------------- read_card


def test_read_card_gives_the_contract_fields(holder, front_with_face):
    frame, _ = synthetic.place_in_scene(front_with_face, (1280, 720), np.random.default_rng(14))
    result = read_card(frame)
    assert list(result) == CONTRACT_KEYS
    assert result["card_found"] is True
    assert result["id_number"] == holder["id_number"]
    assert result["old_id_number"] == holder["old_id_number"]
    assert result["full_name"] == holder["full_name"]
    assert result["date_of_birth"] == holder["date_of_birth"].isoformat()
    assert result["gender"] == holder["gender"]
    assert result["address"] == holder["address"]
    assert result["issue_date"] == holder["issue_date"].isoformat()
    assert require_face_detector(card_portrait.portrait_has_face(card_portrait.portrait_region(front_with_face)))
    assert result["portrait_found"] is True
    assert result["quality"]["qr_valid"] is True
    json.dumps(result)


def test_read_card_quality_carries_the_guidance(front):
    frame, _ = synthetic.place_in_scene(front, (640, 480), np.random.default_rng(15))
    quality = read_card(frame)["quality"]
    for key in ("ok", "issues", "sharpness", "glare_fraction", "brightness",
                "card_area_fraction", "skew_deg"):
        assert key in quality


def test_read_card_upside_down(holder, front):
    frame, _ = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(16),
                                        rotation_deg=178.0)
    result = read_card(frame)
    assert result["id_number"] == holder["id_number"]
    assert result["quality"]["upside_down"] is True


def test_read_card_without_a_card_is_all_null(front):
    frame, _ = synthetic.place_in_scene(front, (640, 480), np.random.default_rng(17),
                                        centre=(-5000.0, -5000.0))
    result = read_card(frame)
    assert result["card_found"] is False and result["portrait_found"] is False
    assert all(result[key] is None for key in CONTRACT_KEYS[1:8])
    assert "no_card" in result["quality"]["issues"]


def test_read_card_reports_an_unreadable_payload(holder):
    bad = dict(holder, date_of_birth="31022000")  # 31 February
    frame, _ = synthetic.place_in_scene(synthetic.render_card_front(bad, None, seed=2),
                                        (1280, 720), np.random.default_rng(18))
    result = read_card(frame)
    assert result["card_found"] is True and result["id_number"] is None
    assert result["quality"]["qr_found"] is True and result["quality"]["qr_valid"] is False
    assert "Ngày sinh" in result["quality"]["qr_error"]


def test_read_card_refuses_a_non_image():
    with pytest.raises(ValueError):
        read_card(np.zeros((10, 10), np.float32))


def test_importing_the_reader_loads_no_face_model():
    code = ("import sys, kiosk.vision.read_card, kiosk.vision.guidance, kiosk.vision.qr_decode; "
            "print('dlib' in sys.modules, 'face_recognition' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
