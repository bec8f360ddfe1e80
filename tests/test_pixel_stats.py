"""Percentiles counted from the histogram (kiosk/vision/pixel_stats.py) are numpy's, to the bit,
and so the camera frames' advice and the card reads do not change with them."""
import numpy as np
import pytest

from kiosk.vision import card_outline, guidance, pixel_stats
from tests.support import guidance_eval

QS = (0, 1, 5, 25, 50, 75, 90, 95, 99, 100, 37.3)


def _pictures(seed: int, count: int):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        size = int(rng.integers(1, 4000))
        low = int(rng.integers(0, 256))
        high = int(rng.integers(low, 256))
        yield rng.integers(low, high + 1, size).astype(np.uint8)


def test_percentiles_equal_numpy_to_the_bit():
    for picture in _pictures(1, 400):
        want = np.percentile(picture, QS)
        got = pixel_stats.percentiles(picture, QS)
        assert got.dtype == np.float64
        assert np.array_equal(got, want), (picture.size, got, want)
        # a caller's int16 or float32 copy of the picture: numpy gives the same values
        assert np.array_equal(got, np.percentile(picture.astype(np.float32), QS))
        assert np.array_equal(got, np.percentile(picture.astype(np.int16), QS))


def test_the_interpolation_between_two_levels_is_numpys():
    """numpy interpolates from the upper value for fractions of a half and more; the plain
    formula differs from it in the last bit here."""
    picture = np.array([1, 255], np.uint8)
    t = 0.627
    assert 1 + 254 * t != 255 - 254 * (1 - t)  # the case where the two formulas part
    assert np.array_equal(pixel_stats.percentiles(picture, [62.7]), np.percentile(picture, [62.7]))
    rows = np.array([[1, 255], [0, 200]], np.uint8)
    assert np.array_equal(pixel_stats.row_percentiles(rows, 62.7),
                          np.percentile(rows, 62.7, axis=1))


def test_a_percentile_outside_0_to_100_is_refused_as_numpy_refuses_it():
    picture = np.array([1, 2, 3], np.uint8)
    for q in (-1, 100.5, float("nan")):
        with pytest.raises(ValueError):
            np.percentile(picture, [q])
        with pytest.raises(ValueError):
            pixel_stats.percentiles(picture, [q])
        with pytest.raises(ValueError):
            pixel_stats.row_percentiles(picture.reshape(1, -1), q)


def test_median_equals_numpy_for_odd_and_even_counts():
    for picture in _pictures(2, 400):
        assert pixel_stats.median(picture) == float(np.median(picture))
    assert pixel_stats.median(np.array([3, 10], np.uint8)) == 6.5
    assert pixel_stats.median(np.array([255], np.uint8)) == 255.0


def test_row_percentiles_equal_numpy_along_rows():
    rng = np.random.default_rng(3)
    for _ in range(200):
        rows = rng.integers(0, 256, (int(rng.integers(1, 30)), int(rng.integers(1, 400))))
        rows = rows.astype(np.uint8)
        for q in (0, 5, 75, 100, float(rng.uniform(0, 100))):
            assert np.array_equal(pixel_stats.row_percentiles(rows, q),
                                  np.percentile(rows, q, axis=1))


def test_other_pictures_are_handed_to_numpy():
    floats = np.array([[0.5, 300.0, -2.0]], np.float32)  # no 256 bins for these
    assert np.array_equal(pixel_stats.percentiles(floats, (5, 95)),
                          np.percentile(floats, (5, 95)))
    assert pixel_stats.median(floats) == float(np.median(floats))
    assert np.array_equal(pixel_stats.row_percentiles(floats, 75),
                          np.percentile(floats, 75, axis=1))


@pytest.fixture
def numpy_stats(monkeypatch):
    """pixel_stats' functions replaced by the numpy calls they stand for."""
    def put_numpy_back():
        monkeypatch.setattr(pixel_stats, "percentiles",
                            lambda image, qs: np.percentile(image, qs))
        monkeypatch.setattr(pixel_stats, "median", lambda image: float(np.median(image)))
        monkeypatch.setattr(pixel_stats, "row_percentiles",
                            lambda rows, q: np.percentile(rows, q, axis=1))
    return put_numpy_back


def _analyses(frames):
    out = []
    for frame in frames:
        verdict = guidance.analyse_frame(frame.image)
        found = card_outline.find_card(frame.image, require_qr_corner=False)
        out.append((verdict.to_dict(), None if found is None else found.tolist()))
    return out


def test_frame_advice_is_unchanged(numpy_stats):
    """Whole analyses of drawn camera frames (good, far, turned, blurred, glary, empty…): the
    same issues, corners and metrics with the histogram as with numpy's sort."""
    frames = guidance_eval.dataset("held_out", 24)
    counted = _analyses(frames)
    numpy_stats()
    sorted_ = _analyses(frames)
    assert counted == sorted_
    assert any(advice["corners"] for advice, _ in counted)  # cards were found, not only misses
