"""Decoding the CCCD QR code from webcam frames (zxing-cpp; OpenCV kept for comparison)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.vision import card_outline
from kiosk.vision import qr_decode as qr
from tests.support import synthetic


def decode_qr(frame):
    """The card QR's text as the reader sees it: corners found first, then decoded."""
    result = qr.decode_card_qr(frame, card_outline.find_card(frame))
    return result.text if result else None


@pytest.fixture(scope="module")
def holder():
    fields = synthetic.random_fields(np.random.default_rng(31))
    fields["full_name"] = "Nguyễn Thị Ngọc Ánh"  # plenty of diacritics
    return fields


@pytest.fixture(scope="module")
def front(holder):
    return synthetic.render_card_front(holder, None, seed=31)


@pytest.fixture(scope="module")
def payload(holder):
    return synthetic.build_qr_payload(holder)


def test_reads_the_vietnamese_payload_exactly(front, payload):
    frame, _ = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(1))
    assert decode_qr(frame) == payload


def test_reads_a_640x480_frame(front, payload):
    frame, _ = synthetic.place_in_scene(front, (640, 480), np.random.default_rng(2))
    assert decode_qr(frame) == payload


def test_card_region_is_tried_first(front, payload):
    frame, corners = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(3))
    result = qr.decode_card_qr(frame, corners)
    assert result.text == payload and result.where == "card" and result.decoder == "zxing"


def test_card_given_upside_down_is_read_and_reported(front, payload):
    frame, corners = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(4))
    result = qr.decode_card_qr(frame, card_outline.rotate_corners(corners, 2))
    assert result.text == payload and result.where == "card_rotated"


def test_upside_down_card_in_the_frame(front, payload):
    frame, _ = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(9),
                                        rotation_deg=183.0)
    assert decode_qr(frame) == payload


def test_whole_frame_is_searched_without_card_outline(front, payload):
    frame, _ = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(5))
    result = qr.decode_card_qr(frame, None)
    assert result.text == payload and result.where == "frame"


def test_reported_points_are_the_qr_symbol_corners(front):
    frame, corners = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(6),
                                              occluder=False)
    result = qr.decode_card_qr(frame, card_outline.find_card(frame))
    x0, y0, x1, y1 = card_outline.QR_BOX
    box = np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float32)
    to_frame = np.linalg.inv(card_outline.card_homography(corners))
    truth = cv2.perspectiveTransform(box, to_frame)[0]
    assert np.abs(result.points - truth).max() < 8


@pytest.mark.parametrize("decoder", ["zxing", "opencv"])
def test_each_decoder_reads_a_clear_card(front, payload, decoder):
    frame, corners = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(7),
                                              blur=0.4, occluder=False, scale=0.65)
    result = qr.decode_card_qr(frame, card_outline.find_card(frame), decoders=(decoder,))
    assert result is not None and result.text == payload and result.decoder == decoder


def test_frame_without_qr_gives_none(front):
    frame, _ = synthetic.place_in_scene(front, (640, 480), np.random.default_rng(8),
                                        centre=(-5000.0, -5000.0))
    assert decode_qr(frame) is None


def test_utf8_bytes_are_decoded_as_utf8():
    assert qr._bytes_to_text("Hóa|Nữ".encode(), "garbled") == "Hóa|Nữ"
    assert qr._bytes_to_text(b"\xef\xbb\xbfabc", None) == "abc"
    assert qr._bytes_to_text(b"\xff\xfe", "decoder text") == "decoder text"


def test_chosen_decoders_are_zxing_then_wechat():
    # measured on drawn scenes (bench/bench_qr.py) and real photographs
    # (bench/bench_real_photos.py), recorded in docs/vision-card.md
    assert qr.DECODER_ORDER == ("zxing", "wechat")


# ----------------------------------------------------------------------------- preview frames

def test_preview_tries_the_frame_first_with_the_fast_decoder(front, payload):
    frame, corners = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(3))
    result = qr.decode_preview_qr(frame, corners, ("zxing", "wechat"))
    assert result.text == payload and result.where == "frame" and result.decoder == "zxing"


def test_preview_reads_the_card_corner_when_the_frame_does_not(front, payload, monkeypatch):
    frame, corners = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(3))
    # a frame whose whole-frame try reads nothing (as a card far away in a big frame)
    real = qr.DECODERS["zxing"]
    monkeypatch.setitem(qr.DECODERS, "zxing",
                        lambda gray: None if gray.shape[:2] == frame.shape[:2] else real(gray))
    result = qr.decode_preview_qr(frame, corners, ("zxing",), frame_variants=((1.0, 0.0),))
    assert result.text == payload and result.where == "card"


def test_preview_tries_only_the_decoders_given(front, monkeypatch):
    frame, corners = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(3))
    used = []
    for name in ("zxing", "wechat"):
        monkeypatch.setitem(qr.DECODERS, name, lambda gray, name=name: used.append(name))
    assert qr.decode_preview_qr(frame, corners, ("zxing",)) is None
    assert set(used) == {"zxing"}
    used.clear()
    assert qr.decode_preview_qr(frame, corners, ()) is None
    assert used == []
