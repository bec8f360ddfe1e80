"""The smaller copy of each photo the console shows (kiosk.vision.jobs.preview_jpeg): at most
PREVIEW_MAX_SIDE on its long side, and as faithful to the photo as its JPEG allows."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.vision import jobs
from tests.support import card_scenes
from tests.support.synthetic import place_in_scene

MAX_PIXELS = 40_000_000


def _photo(size, kind="cccd2021_back") -> np.ndarray:
    """A card with sharp print (no blur: the hardest case for a reduction) in a camera frame."""
    card = card_scenes.render_card(kind, np.random.default_rng(5))
    frame, _ = place_in_scene(card, size, 11, rotation_deg=4.0, perspective=(5.0, 3.0),
                              blur=0.0, noise=3.0, light=0.1, brightness=0.95, occluder=False)
    return frame


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255.0 ** 2 / mse)


def _preview(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(jobs.preview_jpeg(data, MAX_PIXELS), np.uint8),
                        cv2.IMREAD_COLOR)


@pytest.mark.parametrize("size", [(1280, 720), (2560, 1440)])
def test_a_webcam_photo_is_within_a_decibel_of_an_averaged_preview(size, monkeypatch):
    """A webcam's 1280 px photo is reduced bilinearly (a quarter off); so is a 2560 px one,
    after libjpeg's own halving. Against the photo averaged down (INTER_AREA, the best a
    reduction can be), its preview is no more than 1 dB worse than a preview averaged down
    itself (0.8 dB on this sharp drawn card), and both stay near what their JPEG coding loses
    (~40 dB)."""
    frame = _photo(size)
    data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()
    preview = _preview(data)
    assert preview.shape[:2] == (540, jobs.PREVIEW_MAX_SIDE)
    monkeypatch.setattr(jobs, "AREA_AT_SCALE", 1.0)  # every reduction averaged
    averaged = _preview(data)
    photo = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    best = cv2.resize(photo, (preview.shape[1], preview.shape[0]), interpolation=cv2.INTER_AREA)
    assert not np.array_equal(preview, averaged)  # reduced the other way
    assert _psnr(best, preview) >= _psnr(best, averaged) - 1.0 and _psnr(best, preview) > 38


@pytest.mark.parametrize("size", [(1366, 768), (1600, 900), (1920, 1080)])
def test_a_photo_reduced_by_more_than_a_quarter_is_averaged(size, monkeypatch):
    """Between a third and a half off, bilinear lost 1–3.4 dB more than the average: those
    previews are averaged, as every reduction was before."""
    frame = _photo(size)
    data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()
    preview = _preview(data)
    assert max(preview.shape[:2]) == jobs.PREVIEW_MAX_SIDE
    monkeypatch.setattr(jobs, "AREA_AT_SCALE", 1.0)
    assert np.array_equal(preview, _preview(data))


def test_a_photo_no_bigger_than_the_preview_is_only_coded_again():
    frame = _photo((960, 540))
    data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()
    assert _preview(data).shape == frame.shape


def test_an_unusable_photo_has_no_preview():
    assert jobs.preview_jpeg(b"not a picture", MAX_PIXELS) is None
