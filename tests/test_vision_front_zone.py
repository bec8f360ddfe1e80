"""A 2021 chip front has no machine-readable zone: once its outline and its QR code at the top
right place it, the zone-like lines inside it (its address) are not read by Tesseract. A zone
elsewhere in the frame, and the 2024 back's (its QR code at its left edge), are still read."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.vision import mrz_ocr
from kiosk.vision import read_card as read_card_module
from tests.faces_data import load, require_sface_models
from tests.support.synthetic import place_in_scene, random_holder, render_back, render_card_front

SCENE = dict(rotation_deg=3.0, perspective=(4.0, 3.0), blur=0.4, noise=1.5, light=0.1,
             brightness=0.95, occluder=False)

needs_ocr = pytest.mark.skipif(not mrz_ocr.available(), reason="Tesseract is not installed")


def _shapes_given_to(monkeypatch, name: str) -> list:
    """The shapes of the pictures handed to ``mrz_ocr.<name>`` from now on."""
    calls = []
    real = getattr(mrz_ocr, name)

    def spy(picture, *args, **kwargs):
        calls.append(picture.shape)
        return real(picture, *args, **kwargs)

    monkeypatch.setattr(mrz_ocr, name, spy)
    return calls


@pytest.fixture
def tesseract_blocks(monkeypatch):
    """The blocks handed to Tesseract."""
    return _shapes_given_to(monkeypatch, "read_crop")


@pytest.fixture(scope="module")
def holder():
    return random_holder(np.random.default_rng(11))


@pytest.fixture(scope="module")
def front(holder):
    require_sface_models()
    return render_card_front(holder, load("megawati_sukarnoputri/4.jpg"), 11)


@needs_ocr
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_2021_front_costs_no_zone_reading(tesseract_blocks, holder, front, seed):
    frame, _ = place_in_scene(front, (1280, 720), seed, **SCENE)
    read = read_card_module.read_side(frame)
    assert read.side == "front" and read.qr_valid and read.portrait_found
    assert read.fields["id_number"] == holder["id_number"]
    assert tesseract_blocks == []
    assert read.quality["mrz_found"] is False


@pytest.fixture
def zone_searches(monkeypatch):
    """The frames searched for a zone (each a call of mrz_ocr.read_mrz)."""
    return _shapes_given_to(monkeypatch, "read_mrz")


@needs_ocr
@pytest.mark.parametrize("seed", [1, 2])
def test_a_held_2021_front_is_not_searched_for_a_zone(zone_searches, holder, front, seed):
    """One card held up to the camera shows one side: once its QR code in the corner shows it
    is a 2021 front, nothing in the frame can be its zone. The read is the same without the
    search; a photo that may be a page (a scan) is still searched."""
    frame, _ = place_in_scene(front, (1280, 720), seed, **SCENE)
    held = read_card_module.read_side(frame, held_card=True)
    assert zone_searches == []
    page = read_card_module.read_side(frame)
    assert len(zone_searches) == 1
    for read in (held, page):
        assert read.side == "front" and read.qr_valid and read.portrait_found
        assert read.fields["id_number"] == holder["id_number"]
    assert held.quality == page.quality
    assert held.mrz == page.mrz == mrz_ocr.NOTHING_READ


@needs_ocr
def test_a_held_back_is_still_searched_for_its_zone(zone_searches, holder):
    back = render_back(holder, 11)
    frame, _ = place_in_scene(back, (1280, 720), 3, **SCENE)
    read = read_card_module.read_side(frame, held_card=True)
    assert zone_searches and read.mrz.valid and read.side == "back"


@needs_ocr
@pytest.mark.parametrize("turn", [None, cv2.ROTATE_180])
def test_the_back_beside_a_front_on_one_page_is_still_read(holder, front, turn):
    back = render_back(holder, 11)
    h, w = back.shape[:2]
    page = np.full((h + 160, 2 * w + 220, 3), 235, np.uint8)
    page[80:80 + h, 80:80 + w] = front
    page[80:80 + h, 140 + w:140 + 2 * w] = back
    if turn is not None:
        page = cv2.rotate(page, turn)
    page = cv2.resize(page, None, fx=1280 / page.shape[1], fy=1280 / page.shape[1],
                      interpolation=cv2.INTER_AREA)
    result, _ = read_card_module.read_card_and_portrait([page])
    assert result["id_number"] == holder["id_number"]
    assert result["mrz"]["valid"] is True


@needs_ocr
@pytest.mark.parametrize("upside_down", [False, True])
def test_a_2024_back_with_its_qr_code_still_reads_its_zone(upside_down):
    holder = random_holder(np.random.default_rng(12), "can_cuoc_2024")
    back = render_back(holder, 12, kind="can_cuoc_2024")
    if upside_down:
        back = cv2.rotate(back, cv2.ROTATE_180)
    frame, _ = place_in_scene(back, (1280, 720), 4, **SCENE)
    read = read_card_module.read_side(frame)
    assert read.qr_valid
    assert read.mrz is not None and read.mrz.valid
    assert read.side == "back"


def _quad(x0, y0, x1, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


@pytest.mark.parametrize(("corners", "page"), [
    # a scan of both sides on one page, whose own border was taken for the card (479 × 647)
    (_quad(0, 0, 476, 644), True),
    # a card filling the photo to its edges: card-shaped, still a card
    (_quad(0, 0, 478, 302), False),
    # a page-shaped outline well inside the frame: not the frame's edge
    (_quad(40, 40, 400, 530), False),
])
def test_an_outline_along_the_frame_edge_that_is_not_card_shaped_is_the_page(corners, page):
    assert read_card_module._page_edge(corners, (647, 479, 3)) is page


def test_a_front_whose_outline_is_the_page_keeps_every_zone_on_the_page():
    """The QR code at the «card's» top right is not enough when that card is the scanned page:
    the back's zone on the same page is read (seen on a real scan of both sides)."""
    from types import SimpleNamespace

    from kiosk.vision import card_outline

    w, h = card_outline.CARD_SIZE
    inside = card_outline.card_homography(_quad(60, 40, 60 + 320, 40 + 202))
    # the QR at 86 % across, 22 % down of the outline, as on a 2021 front
    qr_points = cv2.perspectiveTransform(
        np.array([[[0.86 * w, 0.22 * h]]], np.float32), np.linalg.inv(inside))
    card = SimpleNamespace(corners=_quad(60, 40, 380, 242), located_by="outline", qr_valid=True,
                           qr_result=SimpleNamespace(points=qr_points))
    assert read_card_module._front_without_zone(card, (647, 479, 3)) is not None
    page = _quad(0, 0, 476, 644)
    on_page = cv2.perspectiveTransform(
        np.array([[[0.86 * w, 0.22 * h]]], np.float32),
        np.linalg.inv(card_outline.card_homography(page)))
    scan = SimpleNamespace(corners=page, located_by="outline", qr_valid=True,
                           qr_result=SimpleNamespace(points=on_page))
    assert read_card_module._front_without_zone(scan, (647, 479, 3)) is None
