"""A card's back costs two portrait-search passes, not eight: the search for another side on the
same page runs only along the back's own zone when that zone lies on the back's found outline;
pages showing both sides still give the front's portrait."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.vision import portrait_search
from kiosk.vision import read_card as read_card_module
from tests.faces_data import load, require_sface_models
from tests.support.synthetic import random_holder, render_back, render_front

PAPER = (235, 235, 235)


def _turned(image: np.ndarray, angle: float, fill=PAPER) -> np.ndarray:
    """``image`` turned ``angle`` degrees counter-clockwise on a canvas that holds all of it."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    out_w, out_h = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += out_w / 2 - w / 2
    m[1, 2] += out_h / 2 - h / 2
    return cv2.warpAffine(image, m, (out_w, out_h), borderValue=fill)


def _at_1280(image: np.ndarray) -> np.ndarray:
    scale = 1280 / max(image.shape[:2])
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


@pytest.fixture
def searched(monkeypatch):
    """The angles of every whole-frame portrait search made."""
    calls = []
    real = portrait_search.find_portrait

    def spy(frame, detector, **options):
        calls.append(tuple(options.get("angles", portrait_search.SEARCH_ANGLES)))
        return real(frame, detector, **options)

    monkeypatch.setattr(portrait_search, "find_portrait", spy)
    return calls


@pytest.mark.parametrize(("tilt", "expected"), [
    (0, {0, 180}), (30, {315, 135}), (90, {270, 90}), (-100, {90, 270}), (180, {0, 180}),
    (60, {315, 135}), (70, {270, 90})])
def test_the_search_angles_turn_the_cards_long_side_level(tilt, expected):
    w, h = 856, 540
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    # the card turned ``tilt`` degrees counter-clockwise as seen (image y points down)
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), tilt, 1.0)
    turned = cv2.transform(corners[None], matrix)[0]
    assert set(portrait_search.angles_along(turned)) == expected
    # which corner comes first does not matter: the long side decides
    assert set(portrait_search.angles_along(np.roll(turned, 1, axis=0))) == expected


@pytest.mark.parametrize("tilt", [0, 30, 100])
def test_a_back_alone_is_searched_along_its_zone_only(searched, tilt):
    require_sface_models()
    back = render_back(random_holder(np.random.default_rng(3)), 3)
    canvas = np.full((720, 1280, 3), 90, np.uint8)
    canvas[90:90 + back.shape[0], 200:200 + back.shape[1]] = back
    read = read_card_module.read_side(_at_1280(_turned(canvas, tilt, fill=(90, 90, 90))))
    assert read.side == "back" and read.mrz.valid and not read.portrait_found
    assert len(searched) == 1 and len(searched[0]) == 2


@pytest.mark.parametrize(("tilt", "flip"), [(0, False), (0, True), (90, False), (150, False)])
def test_a_page_with_both_sides_still_gives_the_fronts_portrait(searched, tilt, flip):
    """A photocopy of a 2024 front (no QR code to place it) beside a 2021 back: the outline
    found may be the portrait's own frame, not the back's, so the whole search runs."""
    require_sface_models()
    back = render_back(random_holder(np.random.default_rng(3)), 3)
    front = render_front(random_holder(np.random.default_rng(4), "can_cuoc_2024"),
                         load("megawati_sukarnoputri/4.jpg"), 4, kind="can_cuoc_2024")
    if flip:
        front = cv2.rotate(front, cv2.ROTATE_180)
    h, w = back.shape[:2]
    page = np.full((h + 200, 2 * w + 260, 3), PAPER, np.uint8)
    page[100:100 + h, 100:100 + w] = back
    page[100:100 + h, 160 + w:160 + 2 * w] = front
    read = read_card_module.read_side(_at_1280(_turned(page, tilt)))
    assert read.portrait_found and read.side == "front"


# ---- a card held up to the camera at step 6: one side per photo ------------------------------

@pytest.fixture
def portrait_looks(monkeypatch, searched):
    """Every look for a portrait: on the card's outline, and over the whole frame."""
    from kiosk.vision import card_portrait

    looks = []
    real = card_portrait.portrait_on_card

    def spy(*args, **kwargs):
        looks.append("on_card")
        return real(*args, **kwargs)

    monkeypatch.setattr(card_portrait, "portrait_on_card", spy)
    return looks, searched


@pytest.mark.parametrize("tilt", [0, 30])
def test_a_back_held_up_is_not_looked_at_for_a_portrait(portrait_looks, tilt):
    require_sface_models()
    back = render_back(random_holder(np.random.default_rng(3)), 3)
    canvas = np.full((720, 1280, 3), 90, np.uint8)
    canvas[90:90 + back.shape[0], 200:200 + back.shape[1]] = back
    read = read_card_module.read_side(_at_1280(_turned(canvas, tilt, fill=(90, 90, 90))),
                                      held_card=True)
    assert read.side == "back" and read.mrz.valid and not read.portrait_found
    looks, searched = portrait_looks
    assert looks == [] and searched == []


def test_a_front_held_up_is_still_looked_at_for_its_portrait(portrait_looks):
    """held_card spares only a side whose zone reads: a front shown instead of the back is
    still a front."""
    require_sface_models()
    front = render_front(random_holder(np.random.default_rng(4), "can_cuoc_2024"),
                         load("megawati_sukarnoputri/4.jpg"), 4, kind="can_cuoc_2024")
    canvas = np.full((720, 1280, 3), 90, np.uint8)
    canvas[90:90 + front.shape[0], 200:200 + front.shape[1]] = front
    read = read_card_module.read_side(canvas, held_card=True)
    assert read.portrait_found and read.side == "front"


def test_a_page_with_both_sides_is_a_page_only_when_not_held_up():
    """What held_card gives up: a page showing both sides (an upload at step 6, a scan at step
    1) gives its front's portrait only when read as a page; the kiosk reads uploads so."""
    require_sface_models()
    back = render_back(random_holder(np.random.default_rng(3)), 3)
    front = render_front(random_holder(np.random.default_rng(4), "can_cuoc_2024"),
                         load("megawati_sukarnoputri/4.jpg"), 4, kind="can_cuoc_2024")
    h, w = back.shape[:2]
    page = np.full((h + 200, 2 * w + 260, 3), PAPER, np.uint8)
    page[100:100 + h, 100:100 + w] = back
    page[100:100 + h, 160 + w:160 + 2 * w] = front
    page = _at_1280(page)
    assert read_card_module.read_side(page).side == "front"
    held = read_card_module.read_side(page, held_card=True)
    assert held.side == "back" and held.mrz.valid
