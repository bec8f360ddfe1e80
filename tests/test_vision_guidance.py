"""Per-frame guidance on generated webcam frames: good frames pass, each defect is named."""
from __future__ import annotations

import json

import numpy as np
import pytest

from kiosk.vision import guidance
from tests.support import synthetic


@pytest.fixture(scope="module")
def front():
    return synthetic.render_card_front(synthetic.random_fields(np.random.default_rng(21)),
                                       None, seed=21)


def scene(front, size=(640, 480), seed=0, **kwargs):
    return synthetic.place_in_scene(front, size, np.random.default_rng(seed), **kwargs)[0]


@pytest.mark.parametrize("size,seed", [((640, 480), 1), ((640, 480), 2), ((1280, 720), 3)])
def test_good_frame_is_ok(front, size, seed):
    result = guidance.analyse_frame(scene(front, size, seed, blur=0.6, rotation_deg=4.0,
                                          perspective=(5.0, -4.0), occluder=False))
    assert result.ok, result.metrics
    assert result.issues == [] and result.messages == [] and result.message is None
    assert result.corners is not None and result.corners.shape == (4, 2)


def test_blurred_frame(front):
    result = guidance.analyse_frame(scene(front, blur=3.0))
    assert "blurred" in result.issues
    assert "Ảnh bị mờ, giữ yên tay" in result.messages


def test_dark_frame(front):
    result = guidance.analyse_frame(scene(front, brightness=0.25))
    assert "too_dark" in result.issues
    assert result.message == "Thiếu sáng, di chuyển tới chỗ sáng hơn"


def test_glare_on_the_card(front):
    result = guidance.analyse_frame(scene(front, glare=0.8))
    assert "glare" in result.issues
    assert result.metrics["glare_fraction"] > guidance.DEFAULT_THRESHOLDS.max_glare_fraction


def test_card_too_small_in_the_frame(front):
    result = guidance.analyse_frame(scene(front, (1280, 720), scale=0.25))
    assert result.issues[0] == "too_far"
    assert result.message == "Đưa giấy tờ lại gần hơn"


def test_card_filling_the_frame(front):
    result = guidance.analyse_frame(scene(front, scale=0.97, rotation_deg=0.0,
                                          perspective=(0.0, 0.0), centre=(320.0, 240.0)))
    assert "too_close" in result.issues
    assert "Đưa giấy tờ ra xa hơn một chút" in result.messages


def test_card_turned_in_the_plane(front):
    result = guidance.analyse_frame(scene(front, (1280, 720), rotation_deg=28.0))
    assert "tilted" in result.issues
    assert abs(result.metrics["skew_deg"]) > 20


def test_card_held_at_an_angle(front):
    result = guidance.analyse_frame(scene(front, (1280, 720), rotation_deg=0.0,
                                          perspective=(35.0, 0.0)))
    assert "tilted" in result.issues
    assert result.metrics["perspective"] > guidance.DEFAULT_THRESHOLDS.max_perspective


def test_no_card_in_the_frame(front):
    empty = scene(front, centre=(-5000.0, -5000.0), occluder=False)
    result = guidance.analyse_frame(empty)
    assert "no_card" in result.issues and result.corners is None
    assert "Chưa thấy giấy tờ trong khung" in result.messages


def test_messages_follow_the_issue_order(front):
    result = guidance.analyse_frame(scene(front, (1280, 720), scale=0.25, rotation_deg=30.0))
    assert result.issues == sorted(result.issues, key=guidance.ISSUE_ORDER.index)
    assert result.messages == [guidance.MESSAGES[i] for i in result.issues]


def test_metrics_are_reported_and_json_ready(front):
    result = guidance.analyse_frame(scene(front, seed=5))
    for key in ("card_area_fraction", "skew_deg", "perspective", "sharpness", "glare_fraction",
                "brightness", "card_width_px"):
        assert isinstance(result.metrics[key], float), key
    assert 0 < result.metrics["card_area_fraction"] < 1
    json.dumps(result.to_dict())


def test_grey_and_bgra_frames_are_accepted(front):
    import cv2

    frame = scene(front, seed=6, occluder=False)
    grey = guidance.analyse_frame(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
    bgra = guidance.analyse_frame(cv2.cvtColor(frame, cv2.COLOR_BGR2BGRA))
    assert grey.corners is not None and bgra.corners is not None
