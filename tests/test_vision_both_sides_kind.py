"""A page that shows both sides of a card (a scan, a photocopy) is named by where its QR code
lies: beside the portrait, a 2021 chip card (its code is on the front); on the other card, a
2024 căn cước (its code is on the back). Before, any code read on a page whose portrait made it
a front was taken as a front's code, and four real scans of 2024 cards were named 2021 cards."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.vision import read_card as read_card_module
from kiosk.vision.portrait_search import PortraitHit
from kiosk.vision.qr_decode import QrResult
from tests.faces_data import load, require_sface_models
from tests.support.synthetic import random_holder, render_back, render_front

PAPER = (235, 235, 235)


def _page(kind: str, layout: str, seed: int = 4, gap: int = 30, turned: str | None = None
          ) -> np.ndarray:
    """Both sides of one card of ``kind`` on a sheet: ``front_above`` (the usual photocopy),
    ``back_above`` or ``side_by_side``, ``gap`` px apart (30 as on the real scans); ``turned``:
    that side turned half round on the sheet (copied the other way up)."""
    holder = random_holder(np.random.default_rng(seed), kind)
    front = render_front(holder, load("megawati_sukarnoputri/4.jpg"), seed, kind=kind)
    back = render_back(holder, seed, kind=kind)
    if turned == "front":
        front = cv2.rotate(front, cv2.ROTATE_180)
    elif turned == "back":
        back = cv2.rotate(back, cv2.ROTATE_180)
    h, w = front.shape[:2]
    edge = 40
    if layout == "side_by_side":
        page = np.full((h + 2 * edge, 2 * w + gap + 2 * edge, 3), PAPER, np.uint8)
        page[edge:edge + h, edge:edge + w] = front
        page[edge:edge + h, edge + w + gap:edge + 2 * w + gap] = back
    else:
        first, second = (front, back) if layout == "front_above" else (back, front)
        page = np.full((2 * h + gap + 2 * edge, w + 2 * edge, 3), PAPER, np.uint8)
        page[edge:edge + h, edge:edge + w] = first
        page[edge + h + gap:edge + 2 * h + gap, edge:edge + w] = second
    return page


LAYOUTS = ["front_above", "back_above", "side_by_side"]
# the sheet as scanned, turned half round, or on its side: the zone's own reading says which
# way is up
TURNS = [None, cv2.ROTATE_180, cv2.ROTATE_90_CLOCKWISE]


def _turned(page: np.ndarray, turn) -> np.ndarray:
    return page if turn is None else cv2.rotate(page, turn)


@pytest.mark.parametrize("turn", TURNS)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("kind", ["can_cuoc_2024", "cccd_chip_2021"])
def test_a_page_with_both_sides_is_named_by_where_its_code_lies(engine_for_pages, kind, layout,
                                                                turn):
    """2024: the code on the back, above the zone (these pages were named 2021 cards before);
    2021: the code on the front, beside the portrait (named right before and after)."""
    require_sface_models()
    result = engine_for_pages.read_card([_png(_turned(_page(kind, layout), turn))])
    assert result["card_kind"] == kind
    assert result["quality"]["qr_valid"] and result["portrait_found"]
    assert result["sides"] == ["front"]  # the portrait's side: the face is compared with it


@pytest.mark.parametrize("gap", [0, 10])
@pytest.mark.parametrize(("layout", "turned"), [("front_above", "front"), ("back_above", "back")])
@pytest.mark.parametrize("kind", ["can_cuoc_2024", "cccd_chip_2021"])
def test_a_side_copied_the_other_way_up_next_to_the_backs_top_edge(engine_for_pages, kind,
                                                                   layout, turned, gap):
    """One card turned half round against the other, the front beside the back's top edge: a
    2021 front's code then lies at its lower edge, just past the back's top edge (the zone's
    window ends at that edge: ZONE_CARD_V)."""
    require_sface_models()
    page = _page(kind, layout, gap=gap, turned=turned)
    result = engine_for_pages.read_card([_png(page)])
    assert result["card_kind"] == kind
    assert result["quality"]["qr_valid"] and result["portrait_found"]


@pytest.mark.parametrize("page_first", [True, False])
def test_a_kept_read_serves_the_other_kind_of_call_only_where_both_read_alike(engine_for_pages,
                                                                             page_first):
    """The reads of one photo as a page and as a card held up serve each other
    (read_card._cache_keys) except where its zone was read: held up, such a photo is a back
    alone (no portrait looked for); as a page, a front with its back beside it. Either order
    gives each call its own read."""
    require_sface_models()
    photo = _png(_page("can_cuoc_2024", "front_above", seed=5))
    calls = [dict(), dict(held_card=True)]
    results = [engine_for_pages.read_card([photo], **options)
               for options in (calls if page_first else calls[::-1])]
    as_page, held = results if page_first else results[::-1]
    assert as_page["card_kind"] == "can_cuoc_2024" and as_page["sides"] == ["front"]
    assert as_page["portrait_found"]
    assert held["card_kind"] == "can_cuoc_2024" and held["sides"] == ["back"]


def test_a_card_held_up_is_one_side_and_its_code_is_that_sides():
    """held_card: a camera shot of one card held up, never a page; the rule is not applied."""
    require_sface_models()
    page = _page("can_cuoc_2024", "front_above")
    as_page = read_card_module.read_side(page)
    held = read_card_module.read_side(page, held_card=True)
    assert as_page.side == "front" and as_page.qr_side == "back"
    assert held.qr_side is None


# ---- without a zone: the card the face places ----------------------------------------------

W, H = read_card_module.CARD_SIZE
FACE_HEIGHT = 100.0
FACE_AT = (500.0, 400.0)


def _square_at(x: float, y: float, side: float = 60) -> np.ndarray:
    return np.array([[x - side / 2, y - side / 2], [x + side / 2, y - side / 2],
                     [x + side / 2, y + side / 2], [x - side / 2, y + side / 2]], np.float32)


def _front_found_by_its_face(card_x: float, card_y: float, scale: float = 1.0,
                             where: str = "frame", hit: bool = True) -> read_card_module.SideRead:
    """A front whose portrait a search of the frame found (a face FACE_HEIGHT px high at
    FACE_AT), and a QR code at (card_x, card_y) in the card pixels of a card ``scale`` times
    the size the face says."""
    from kiosk.vision.portrait_search import FACE_CENTRE_ON_CARD, FACE_SIZE_ON_CARD

    k = FACE_HEIGHT / FACE_SIZE_ON_CARD * scale
    qr_at = (FACE_AT[0] + (card_x - FACE_CENTRE_ON_CARD[0]) * k,
             FACE_AT[1] + (card_y - FACE_CENTRE_ON_CARD[1]) * k)
    portrait = PortraitHit(crop=np.zeros((10, 10, 3), np.uint8), quarter_turns=0, roll=0.0,
                           face_height=FACE_HEIGHT, score=0.9, centre=FACE_AT)
    # the outline found on a page may be the portrait's own frame: it is given, and ignored
    frame_of_portrait = np.array([[400, 250], [600, 250], [600, 500], [400, 500]], np.float32)
    return read_card_module.SideRead(
        side="front", corners=frame_of_portrait, portrait_found=True,
        portrait_hit=portrait if hit else None,
        qr_result=QrResult(text="x", decoder="zxing", where=where, points=_square_at(*qr_at)))


@pytest.mark.parametrize("scale", [0.8, 1.0, 1.2])
def test_a_2021_fronts_own_code_stays_its_own_though_the_face_places_the_card_roughly(scale):
    """The card placed from the face alone is ±20 % in scale."""
    read = _front_found_by_its_face(0.88 * W, 0.22 * H, scale)
    assert read_card_module._qr_on_other_card(read) is False


@pytest.mark.parametrize(("card_x", "card_y"), [
    (0.8 * W, 1.45 * H),   # on a card below it (real scans: y ≈ 1.3–1.4 card heights)
    (0.8 * W, -0.45 * H),  # on a card above it
    (1.5 * W, 0.3 * H),    # on a card beside it
])
def test_a_code_well_outside_the_faces_card_is_another_cards(card_x, card_y):
    assert read_card_module._qr_on_other_card(_front_found_by_its_face(card_x, card_y)) is True


def test_a_code_found_at_a_cards_own_qr_corner_is_always_that_cards():
    read = _front_found_by_its_face(0.8 * W, 1.45 * H, where="card")
    assert read_card_module._qr_on_other_card(read) is False


def test_an_outline_alone_places_no_card():
    """Without a zone and without a face found by the search, nothing is changed: the outline
    found on a page may be the portrait's frame, and a code outside it is still the front's."""
    read = _front_found_by_its_face(0.8 * W, 1.45 * H, hit=False)
    assert read_card_module._qr_on_other_card(read) is False


# ---- helpers ---------------------------------------------------------------------------------

def _png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    assert ok
    return buf.tobytes()


@pytest.fixture(scope="module")
def engine_for_pages():
    from kiosk.core.config import DEFAULTS
    from kiosk.vision.engine import EkycEngine

    return EkycEngine.from_config(dict(DEFAULTS))
