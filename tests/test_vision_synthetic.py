"""The synthetic CCCD generator used by the vision tests, benchmarks and browser tests."""
from __future__ import annotations

import numpy as np
import pytest
import zxingcpp

from kiosk.domain.identity.id_numbers import cross_check_cccd
from kiosk.domain.identity.qr_payload import parse_cccd_qr
from kiosk.vision import card_outline
from tests.support import synthetic


@pytest.fixture(scope="module")
def fields():
    return synthetic.random_fields(np.random.default_rng(11))


@pytest.fixture(scope="module")
def front(fields):
    return synthetic.render_card_front(fields, None, seed=3)


def test_random_fields_follow_the_cccd_number_rules():
    rng = np.random.default_rng(5)
    for _ in range(20):
        f = synthetic.random_fields(rng)
        assert f["id_number"].startswith("038") and len(f["id_number"]) == 12
        assert cross_check_cccd(f["id_number"], f["date_of_birth"], f["gender"]) == []
        assert f["date_of_birth"] < f["issue_date"]
        assert f["old_id_number"] is None or len(f["old_id_number"]) == 9


def test_random_fields_have_vietnamese_names_with_diacritics():
    rng = np.random.default_rng(6)
    names = [synthetic.random_fields(rng)["full_name"] for _ in range(10)]
    assert any(not name.isascii() for name in names)
    assert all(len(name.split()) >= 3 for name in names)


def test_qr_payload_is_the_seven_field_format_the_parser_reads(fields):
    payload = synthetic.build_qr_payload(fields)
    assert payload.count("|") == 6
    data = parse_cccd_qr(payload)
    assert data.id_number == fields["id_number"]
    assert data.full_name == fields["full_name"]
    assert data.date_of_birth == fields["date_of_birth"]
    assert data.gender == fields["gender"]
    assert data.address == fields["address"]
    assert data.issue_date == fields["issue_date"]


def test_card_front_is_canonical_size_and_reproducible(fields, front):
    assert front.shape == (540, 856, 3) and front.dtype == np.uint8
    assert np.array_equal(front, synthetic.render_card_front(fields, None, seed=3))


def test_card_front_qr_at_top_right_carries_the_payload(fields, front):
    x0, y0, x1, y1 = card_outline.QR_BOX
    found = zxingcpp.read_barcodes(front[y0 - 10:y1 + 10, x0 - 10:x1 + 10],
                                   formats=zxingcpp.BarcodeFormat.QRCode)
    assert found and bytes(found[0].bytes).decode("utf-8") == synthetic.build_qr_payload(fields)


def test_card_text_uses_a_vietnamese_font():
    family, _style = synthetic._font("bold", 20).getname()
    assert family in ("Be Vietnam Pro", "DejaVu Sans")


def test_place_in_scene_reports_where_the_card_is(front):
    frame, corners = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(1),
                                              occluder=False)
    assert frame.shape == (720, 1280, 3) and corners.shape == (4, 2)
    assert (corners[:, 0] >= 0).all() and (corners[:, 0] < 1280).all()
    assert (corners[:, 1] >= 0).all() and (corners[:, 1] < 720).all()
    warped = card_outline.warp_card(frame, corners).astype(np.float32)
    corr = np.corrcoef(warped.ravel(), front.astype(np.float32).ravel())[0, 1]
    assert corr > 0.8


def test_place_in_scene_default_size_640x480_is_supported(front):
    frame, corners = synthetic.place_in_scene(front, (640, 480), np.random.default_rng(2))
    assert frame.shape == (480, 640, 3)
    assert np.linalg.norm(corners[1] - corners[0]) >= 440  # readable by default


def test_place_in_scene_dark_parameter_darkens(front):
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    normal, _ = synthetic.place_in_scene(front, (640, 480), rng_a, brightness=1.0)
    dark, _ = synthetic.place_in_scene(front, (640, 480), rng_b, brightness=0.25)
    assert dark.mean() < 0.4 * normal.mean()


def test_fake_camera_mjpeg_frames_read_back(tmp_path, front):
    rng = np.random.default_rng(4)
    frames = [synthetic.place_in_scene(front, (640, 480), rng)[0] for _ in range(3)]
    path = tmp_path / "cam.mjpeg"
    written = synthetic.fake_camera_mjpeg(path, frames, fps=10)
    assert written == 9  # Chromium plays 30 frames/s: each frame shown 3 times
    data = path.read_bytes()
    assert data.startswith(b"\xff\xd8\xff") and data.count(b"\xff\xd8\xff") == 9
    back = list(synthetic.iter_mjpeg(path))
    assert len(back) == 9
    for original, decoded in zip(frames, back[::3], strict=True):
        assert decoded.shape == original.shape
        assert np.abs(decoded.astype(int) - original.astype(int)).mean() < 4


def test_fake_camera_refuses_frames_of_different_sizes(tmp_path):
    with pytest.raises(ValueError):
        synthetic.fake_camera_mjpeg(tmp_path / "cam.mjpeg",
                                    [np.zeros((480, 640, 3), np.uint8),
                                     np.zeros((720, 1280, 3), np.uint8)])
