"""Following the card from one preview frame to the next (kiosk/vision/card_track.py): the hint
the browser sends back is only a place to look, checked like a card the search found."""
from __future__ import annotations

import numpy as np
import pytest

from kiosk.vision import card_outline, card_track, guidance
from tests.support import card_scenes
from tests.support.synthetic import place_in_scene

ACCEPT = guidance._printed_card(guidance.DEFAULT_LIMITS.min_print)


@pytest.fixture(scope="module")
def held_card():
    """A 2021 chip front held up to a 1280×720 camera, and where the full search finds it."""
    card = card_scenes.render_card("cccd2021_front", np.random.default_rng(5))
    frame, truth = place_in_scene(card, (1280, 720), 11, rotation_deg=4.0,
                                  perspective=(5.0, 3.0), blur=0.5, noise=1.5, light=0.1,
                                  brightness=0.95, occluder=False)
    found = guidance.analyse_frame(frame)
    assert found.ok and np.abs(found.corners - truth).max() < 3
    return frame, found.corners


def _track(frame, hint):
    return card_track.track_card(frame, hint, detect_side=guidance.DETECT_SIDE, accept=ACCEPT,
                                 min_area_fraction=guidance.DEFAULT_LIMITS.min_area_fraction)


def _moved(corners, dx, dy, scale=1.0):
    centre = corners.mean(axis=0)
    return ((corners - centre) * scale + centre + np.array([dx, dy], np.float32)).astype(np.float32)


def _searches(monkeypatch) -> list:
    """Counts the whole-frame searches from here on."""
    searched = []
    real_find = card_outline.find_card
    monkeypatch.setattr(card_outline, "find_card",
                        lambda *a, **k: searched.append(1) or real_find(*a, **k))
    return searched


# ---- the hint as the browser sends it ----------------------------------------------------------

def test_a_hint_goes_to_the_browser_and_comes_back_the_same():
    corners = np.array([[100.25, 80], [900, 95.5], [880, 600], [120, 580]], np.float32)
    text = card_track.format_hint(corners, 2)
    assert text == "100.2,80.0,900.0,95.5,880.0,600.0,120.0,580.0,2"
    hint = card_track.parse_hint(text, 1280, 720)
    assert np.allclose(hint.corners, corners, atol=0.06) and hint.followed == 2
    assert card_track.format_hint(None) is None


@pytest.mark.parametrize("text", [
    None, "", 12, "1,2,3,4,5,6,7,8", "1,2,3,4,5,6,7,8,9,0", "1,2,3,4,5,6,7,x,0",
    "nan,2,3,4,5,6,7,8,0", "inf,2,3,4,5,6,7,8,0", "1e9,2,3,4,5,6,7,8,0", " 1,2,3,4,5,6,7,8,0",
    "1_0,2,3,4,5,6,7,8,0", "-500,2,3,4,5,6,7,8,0", "1,2,3,4,5,6,7,8,1.5", "1,2,3,4,5,6,7,8,-1",
    "1," * 300 + "1",
])
def test_a_hint_that_is_not_eight_numbers_in_the_frame_and_a_count_is_ignored(text):
    assert card_track.parse_hint(text, 1280, 720) is None


# ---- the tracker ---------------------------------------------------------------------------

@pytest.mark.parametrize("dx, dy, scale", [(0, 0, 1.0), (12, -8, 1.0), (-20, 15, 1.02)])
def test_the_card_is_found_again_near_where_it_was(held_card, dx, dy, scale):
    frame, corners = held_card
    tracked = _track(frame, _moved(corners, dx, dy, scale))
    assert tracked is not None
    assert np.abs(tracked - corners).max() < 2.0  # where the full search puts it


def test_a_hint_where_no_card_is_finds_nothing(held_card):
    frame, corners = held_card
    assert _track(frame, _moved(corners, 300, 0)) is None  # moved far: the search's job
    empty = np.full_like(frame, 128)
    assert _track(empty, corners) is None


@pytest.mark.parametrize("dx, dy, scale", [
    (0, 25, 0.85), (0, 25, 0.9),  # the top side lands on the print under the card's edge
    (25, 0, 0.8),  # the left side lands on the portrait's edge: the quad's proportions change
    (0, 0, 0.85), (30, 30, 0.92),
])
def test_print_inside_the_card_is_not_taken_for_its_edge(held_card, dx, dy, scale):
    """A hint shrunk onto the card's print (its edge out of reach) is refused, never
    answered as the card."""
    frame, corners = held_card
    tracked = _track(frame, _moved(corners, dx, dy, scale))
    assert tracked is None or np.abs(tracked - corners).max() < 2.0


def test_a_hint_that_is_no_card_shape_is_refused(held_card):
    frame, corners = held_card
    line = np.array([[100, 100], [400, 100], [700, 100], [1000, 100]], np.float32)
    assert _track(frame, line) is None


# ---- the guidance with a hint --------------------------------------------------------------

def test_the_advice_with_a_hint_is_the_advice_without(held_card, monkeypatch):
    frame, corners = held_card
    full = guidance.analyse_frame(frame)
    searched = _searches(monkeypatch)
    tracked = guidance.analyse_frame(frame, hint=_moved(corners, 10, 6))
    assert searched == [] and tracked.followed  # no search of the whole frame
    assert (tracked.ok, tracked.issues) == (full.ok, full.issues)
    assert np.abs(tracked.corners - full.corners).max() < 2.0


def test_a_stale_hint_falls_back_to_the_search(held_card, monkeypatch):
    frame, corners = held_card
    searched = _searches(monkeypatch)
    advice = guidance.analyse_frame(frame, hint=_moved(corners, -250, 40))
    assert searched == [1] and not advice.followed
    assert advice.ok and np.abs(advice.corners - corners).max() < 2.0
    empty = guidance.analyse_frame(np.full_like(frame, 128), hint=corners)
    assert empty.issues == ["no_card"] and empty.corners is None


def test_a_tracker_that_fails_leaves_the_frame_to_the_search(held_card, monkeypatch):
    frame, corners = held_card

    def broken(*_args, **_kwargs):
        raise ValueError("a hint no test foresaw")

    monkeypatch.setattr(card_track, "track_card", broken)
    advice = guidance.analyse_frame(frame, hint=corners)
    assert advice.ok and not advice.followed
    assert np.abs(advice.corners - corners).max() < 2.0


# ---- the engine: the track it answers, taken back ------------------------------------------

@pytest.fixture(scope="module")
def engine():
    from kiosk.core.config import DEFAULTS
    from kiosk.vision.engine import EkycEngine

    return EkycEngine.from_config(DEFAULTS)


def _jpeg(image) -> bytes:
    import cv2

    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


def _corners(track: str) -> np.ndarray:
    return np.array(track.split(",")[:8], float).reshape(4, 2)


@pytest.mark.parametrize("size, turned", [((1280, 720), False), ((1920, 1080), False),
                                          ((1280, 720), True)])
def test_the_engine_follows_the_card_it_answered(engine, monkeypatch, size, turned):
    """In the frame's own scale (a frame wider than 1280 px is judged shrunk), and the right
    way up: an upside-down card followed has its corners in the search's order."""
    import cv2

    card = card_scenes.render_card("cccd2021_front", np.random.default_rng(5))
    frame, _ = place_in_scene(card, size, 11, rotation_deg=4.0, perspective=(5.0, 3.0),
                              blur=0.5, noise=1.5, light=0.1, brightness=0.95, occluder=False)
    if turned:
        frame = cv2.rotate(frame, cv2.ROTATE_180)
    data = _jpeg(frame)
    first = engine.preview(data, qr=False)
    assert first.ok and first.track.endswith(",0")
    searched = _searches(monkeypatch)
    again = engine.preview(data, qr=False, hint=first.track)
    assert searched == []  # found where the last answer said
    assert (again.ok, again.issues) == (first.ok, first.issues)
    assert np.abs(_corners(again.track) - _corners(first.track)).max() < 2.0
    assert again.track.endswith(",1")
    # a hint that is nonsense is ignored, not an error
    assert engine.preview(data, qr=False, hint="x").ok and searched == [1]


def test_every_few_frames_followed_one_is_searched_whole(engine, held_card, monkeypatch):
    """A quad the tracker settled on is not kept for ever: after FOLLOW_AT_MOST frames
    followed in a row, the next frame is searched, and the count starts again."""
    frame, _ = held_card
    data = _jpeg(frame)
    track = engine.preview(data, qr=False).track
    searched = _searches(monkeypatch)
    counts = []
    for _ in range(card_track.FOLLOW_AT_MOST + 2):
        track = engine.preview(data, qr=False, hint=track).track
        counts.append(int(track.rsplit(",", 1)[1]))
    assert counts == [*range(1, card_track.FOLLOW_AT_MOST + 1), 0, 1]
    assert searched == [1]


# ---- the photo taken after the frames ------------------------------------------------------

def _read(engine, data, **options):
    from kiosk.vision import photo_cache

    photo_cache.clear_all()  # each read made here, none kept from another
    return engine.read_card([data], read_print=False, held_card=True, **options)


@pytest.mark.parametrize("kind", ["cccd2021_front", "cccd2021_back"])
def test_a_shot_is_read_where_the_frames_before_it_found_the_card(engine, monkeypatch, kind):
    """The kiosk's camera shoots a moment after preview frames that found the card: the
    photo's read takes their track and looks there first. What it reads is the read without:
    the side, the QR code, the zone, the portrait, the quality."""
    card = card_scenes.render_card(kind, np.random.default_rng(5))
    frame, _ = place_in_scene(card, (1280, 720), 11, rotation_deg=4.0, perspective=(5.0, 3.0),
                              blur=0.5, noise=1.5, light=0.1, brightness=0.95, occluder=False)
    data = _jpeg(frame)
    track = engine.preview(data, qr=False).track
    searched_whole = _read(engine, data)
    searched = _searches(monkeypatch)
    followed = _read(engine, data, hint=track)
    assert searched == []  # no search of the whole frame
    assert followed["sides"] == searched_whole["sides"] and followed["sides"][0] is not None
    for field in ("card_found", "id_number", "qr_valid", "mrz_valid", "portrait_found"):
        assert followed.get(field) == searched_whole.get(field), field
    assert followed["quality"]["issues"] == searched_whole["quality"]["issues"]


@pytest.mark.parametrize("hint", ["x", None, (300, 0), (20, 12), (-25, 15)])
def test_a_shot_whose_track_does_not_fit_is_searched_whole(engine, held_card, monkeypatch, hint):
    """A track that is nonsense or missing, points where the card is not, or where it was
    before it drifted (by 20–30 px: a preview frame follows such a card, a photo does not, as
    a side may land on print and the read is kept): the photo is searched as it always was,
    and read the same."""
    frame, corners = held_card
    if isinstance(hint, tuple):
        hint = card_track.format_hint(_moved(corners, *hint), 0)
    data = _jpeg(frame)
    plain = _read(engine, data)
    searched = _searches(monkeypatch)
    again = _read(engine, data, hint=hint)
    assert searched and again["sides"] == plain["sides"]
    assert again.get("id_number") == plain.get("id_number")
    assert again["quality"] == plain["quality"]  # the same outline, to the metric


def test_a_shot_after_frames_followed_too_long_is_searched_whole(engine, held_card, monkeypatch):
    """The frames' rule holds for the photo: after FOLLOW_AT_MOST frames followed in a row,
    the next picture is searched whole."""
    frame, corners = held_card
    data = _jpeg(frame)
    searched = _searches(monkeypatch)
    _read(engine, data, hint=card_track.format_hint(corners, card_track.FOLLOW_AT_MOST))
    assert searched
