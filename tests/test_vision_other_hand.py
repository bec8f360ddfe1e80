"""Cards and webcam frames drawn by another hand (tests/support/other_hand.py: other fonts, card
size, layout offsets, check digits, QR payload, scene model) read as the project's own drawings do:
outside checks run the contract on scenes from other generators. Every side of both chip-era
kinds, and the face decision on the same person and on strangers."""
from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from tests import faces_data
from tests.faces_data import load, require_sface_models
from tests.support import other_hand


@pytest.fixture(scope="module")
def engine():
    from kiosk.core.config import DEFAULTS
    from kiosk.vision.engine import EkycEngine

    return EkycEngine.from_config(dict(DEFAULTS))


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize(("kind", "side"), other_hand.KINDS)
def test_every_side_of_a_card_drawn_by_another_hand_reads_right(engine, kind, side, seed):
    require_sface_models()
    rng = random.Random(f"{kind}/{side}/{seed}")
    person = other_hand.holder(rng)
    photo = load(rng.choice(sorted(f for files in faces_data.people("evaluation").values() for f in files)))
    card = other_hand.draw_card(kind, side, person, rng, photo)
    result = engine.read_card([other_hand.scene(card, rng)])
    assert result["sides"] == [side]
    if side == "back":
        zone = result["mrz"]
        assert zone["valid"] and zone["personal_number"] == person["id_number"]
        assert zone["date_of_birth"] == person["date_of_birth"].isoformat()
    else:
        assert result["portrait_found"]
    if (kind, side) == ("can_cuoc_2024", "front"):
        # no QR code on it: the number printed beside the portrait, or none — never another
        assert result["id_number"] in (None, person["id_number"])
        assert result["card_kind"] is None  # nothing on a front alone tells 2024 from 2016
    else:
        assert result["card_kind"] == kind
    if (kind, side) in (("cccd_chip_2021", "front"), ("can_cuoc_2024", "back")):
        assert result["id_number"] == person["id_number"]  # from the QR code
        assert result["full_name"] == person["full_name"]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("same_person", [True, False])
def test_the_face_on_a_card_drawn_by_another_hand_is_matched_only_to_its_holder(
        engine, seed, same_person):
    require_sface_models()
    rng = random.Random(f"faces/{seed}/{same_person}")
    people = faces_data.people("evaluation")
    who = rng.choice(sorted(people))
    on_card, own = rng.sample(people[who], 2)
    stranger = rng.choice(sorted(p for p in people if p != who))
    live = own if same_person else rng.choice(people[stranger])
    kind = ("cccd_chip_2021", "can_cuoc_2024")[seed % 2]
    card = other_hand.draw_card(kind, "front", other_hand.holder(rng), rng, load(on_card))
    result = engine.compare(other_hand.scene(card, rng), other_hand.selfie(load(live), rng),
                            with_mrz=False)
    assert result["reference"] == "card_portrait"
    assert result["decision"] == ("match" if same_person else "no_match")


@pytest.mark.parametrize(("seed", "top"), [(1, 120), (2, 160), (5, 200)])
def test_a_card_cut_by_the_frame_still_gives_its_holders_face(engine, seed, top):
    """A card whose lower edge runs out of the frame has no whole outline to find, and the
    sharpest rectangle left is its portrait's own frame, taller than wide: straightened as a
    card on its side, it showed the face on its side and stretched, which the face comparison
    could not use (no_face for 11 of 18 such frames before)."""
    require_sface_models()
    rng = random.Random(f"cut/{seed}")
    people = faces_data.people("evaluation")
    who = rng.choice(sorted(people))
    on_card, own = rng.sample(people[who], 2)
    card = other_hand.draw_card("can_cuoc_2024", "front", other_hand.holder(rng), rng, load(on_card))
    h, w = card.shape[:2]
    width = 1000
    height = round(width * h / w)
    to_frame = cv2.getPerspectiveTransform(
        np.float32([[0, 0], [w, 0], [w, h], [0, h]]),
        np.float32([[200, top], [200 + width, top + 60], [160 + width, top + 60 + height],
                    [160, top + height]]))
    frame = np.full((720, 1280, 3), 90, np.uint8)
    warped = cv2.warpPerspective(card, to_frame, (1280, 720))
    inside = cv2.warpPerspective(np.full((h, w), 255, np.uint8), to_frame, (1280, 720)) > 0
    frame[inside] = warped[inside]
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
    result = engine.compare(jpeg.tobytes(), other_hand.selfie(load(own), rng), with_mrz=False)
    assert result["decision"] == "match"
