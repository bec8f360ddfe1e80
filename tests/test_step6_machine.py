"""Step 6's card photos as a state machine (kiosk.domain.step6): each side stored once per
attempt, the side already taken refused with «turn over», the same frame not stored again."""
from __future__ import annotations

import pytest

from kiosk.domain import step6
from kiosk.domain.step6 import ALREADY_HAVE, STORED, WRONG_SIDE, CardShot, decide

FRONT, BACK = "card_front", "card_back"


def shot(requested, seen, stored=(), near=False, retake=False):
    return CardShot(requested=requested, seen=seen, stored=frozenset(stored),
                    near_identical=near, retake=retake)


def test_first_side_is_stored():
    out = decide(shot(FRONT, FRONT))
    assert (out.state, out.kind, out.store, out.hold, out.message) == (STORED, FRONT, True, False,
                                                                       None)


def test_either_side_first_is_stored_as_the_side_it_shows():
    out = decide(shot(FRONT, BACK))
    assert (out.state, out.kind) == (STORED, BACK)
    assert "mặt sau giấy tờ: đã lưu đúng mặt" in out.message


def test_the_front_held_while_the_back_is_asked_is_not_stored_again():
    out = decide(shot(BACK, FRONT, stored={FRONT}))
    assert (out.state, out.kind, out.store, out.hold) == (WRONG_SIDE, FRONT, False, True)
    assert "lật giấy tờ lại" in out.message and "mặt sau" in out.message


def test_the_second_side_completes_without_a_turn_over_message():
    out = decide(shot(BACK, BACK, stored={FRONT}))
    assert (out.state, out.kind, out.message) == (STORED, BACK, None)


def test_a_side_already_stored_is_not_stored_again_without_a_retake():
    out = decide(shot(BACK, BACK, stored={FRONT, BACK}))
    assert out.state == ALREADY_HAVE and not out.store


def test_a_retake_stores_a_new_picture_but_not_the_same_frame():
    assert decide(shot(BACK, BACK, stored={FRONT, BACK}, retake=True)).state == STORED
    assert decide(shot(BACK, BACK, stored={FRONT, BACK}, near=True, retake=True)).state == ALREADY_HAVE


def test_a_side_the_reader_could_not_tell_counts_as_the_side_asked():
    assert decide(shot(BACK, None, stored={FRONT})).state == STORED
    assert decide(shot(BACK, None, stored={FRONT, BACK})).state == ALREADY_HAVE


def test_not_a_card_side_is_a_programming_error():
    with pytest.raises(ValueError):
        decide(shot("face", FRONT))


def test_a_refusal_repeated_is_one_decision_a_new_one_is_another():
    out = decide(shot(BACK, FRONT, stored={FRONT}))
    assert step6.repeats(out, {"state": WRONG_SIDE, "kind": FRONT})
    assert not step6.repeats(out, {"state": STORED, "kind": FRONT})
    assert not step6.repeats(out, {})
    stored = decide(shot(FRONT, FRONT))
    assert not step6.repeats(stored, {"state": STORED, "kind": FRONT})  # stored: always recorded


def test_near_identical_is_a_few_bits_apart():
    a = 0xF0F0_F0F0_F0F0_F0F0
    assert step6.nearly_same(a, a ^ 0b111)
    assert not step6.nearly_same(a, a ^ 0xFFFF)
    assert not step6.nearly_same(a, None)


def test_difference_hash_tells_the_same_card_from_a_turned_one():
    import cv2
    import numpy as np

    from kiosk.vision.images import difference_hash

    rng = np.random.default_rng(1)
    picture = cv2.GaussianBlur(rng.integers(0, 255, (480, 640, 3), np.uint8), (31, 31), 0)
    noisy = np.clip(picture.astype(int) + rng.integers(-3, 4, picture.shape), 0, 255).astype(np.uint8)
    turned = cv2.flip(picture, -1)

    def enc(img):
        return cv2.imencode(".jpg", img)[1].tobytes()

    base = difference_hash(enc(picture), 10_000_000)
    assert step6.nearly_same(base, difference_hash(enc(noisy), 10_000_000))
    assert not step6.nearly_same(base, difference_hash(enc(turned), 10_000_000))
