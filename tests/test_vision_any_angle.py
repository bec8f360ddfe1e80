"""A card as real photographs show it: on its side, upside down, tilted, filling the frame;
its QR code read by the second decoder (OpenCV's WeChat reader) where zxing-cpp fails; its side
told by what it shows, never by "a QR code without a portrait"."""
from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest

from kiosk.vision import card_outline, card_portrait, portrait_search, qr_decode
from kiosk.vision.read_card import read_card, read_side
from tests.faces_data import calibration_photo, require_sface_models
from tests.support import synthetic


@pytest.fixture(scope="module")
def detector():
    require_sface_models()
    return card_portrait.face_detector()


@pytest.fixture(scope="module")
def front():
    """A drawn 2021 front (856×540) with a real face photo as its portrait, and its fields."""
    fields = synthetic.random_fields(np.random.default_rng(11))
    return synthetic.render_card_front(fields, calibration_photo()), fields


def _on_canvas(image: np.ndarray, angle: float, size: int = 1400,
               background=(110, 130, 115)) -> np.ndarray:
    """``image`` turned by ``angle`` degrees (counter-clockwise as seen) in the middle of a
    plain square canvas."""
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    matrix[:, 2] += (size / 2 - w / 2, size / 2 - h / 2)
    return cv2.warpAffine(image, matrix, (size, size), borderValue=background)


def _upright_face_roll(detector, crop: np.ndarray) -> float | None:
    rows = detector.detect(crop, portrait=True)
    if not len(rows):
        return None
    return portrait_search._eyes_roll(rows[0])


@pytest.mark.parametrize("angle", [0, 30, -35, 90, 180, 270])
def test_the_portrait_is_found_at_any_angle_and_handed_over_upright(detector, front, angle):
    scene = _on_canvas(front[0], angle)
    hit = portrait_search.find_portrait(scene, detector)
    assert hit is not None
    roll = _upright_face_roll(detector, hit.crop)
    assert roll is not None and abs(roll) < 12  # the face model gets it upright
    assert hit.quarter_turns == round(angle / 90) % 4  # the card's own turn, counter-clockwise


def test_a_live_face_bigger_than_a_card_portrait_is_not_taken_for_one(detector):
    photo = cv2.resize(calibration_photo(), (480, 480))  # a face filling the frame
    assert portrait_search.find_portrait(photo, detector) is None


def test_turn_is_counter_clockwise():
    image = np.zeros((30, 50), np.uint8)
    image[5, 40] = 255  # near the top right
    y, x = np.argwhere(portrait_search.turn(image, 1) == 255)[0]
    assert (y, x) == (9, 5)  # a counter-clockwise quarter turn brings it to the top left


@pytest.mark.parametrize("angle", [90, 180, 270, 25])
def test_a_rotated_front_is_read_as_a_front_with_its_portrait(detector, front, angle):
    image, fields = front
    result = read_card(_on_canvas(image, angle))
    assert result["id_number"] == fields["id_number"]
    assert result["portrait_found"]
    assert result["sides"] == ["front"]
    assert result["card_kind"] == "cccd_chip_2021"


def test_a_front_filling_the_frame_is_a_front(detector, front):
    image, fields = front
    tight = image[8:-8, 8:-8]  # a crop inside the card's edges: no outline to find
    result = read_card(tight)
    assert result["id_number"] == fields["id_number"]
    assert result["sides"] == ["front"] and result["portrait_found"]


def test_a_front_whose_face_is_hidden_is_never_called_a_back(detector, front):
    image, fields = front
    hidden = image.copy()
    x0, y0, x1, y1 = card_outline.PORTRAIT_BOX
    hidden[y0:y1, x0:x1] = (200, 205, 210)  # glare over the photo
    result = read_card(hidden[8:-8, 8:-8])
    assert result["id_number"] == fields["id_number"]
    assert result["sides"] == ["front"]
    assert result["card_kind"] != "can_cuoc_2024"


def test_a_qr_code_near_the_left_edge_alone_reads_as_a_back():
    payload = synthetic.build_qr_payload(synthetic.random_fields(np.random.default_rng(3)))
    code = synthetic._qr_image(payload, 200)
    back = np.full((540, 856), 235, np.uint8)
    back[30:230, 30:230] = code if code.ndim == 2 else cv2.cvtColor(code, cv2.COLOR_BGR2GRAY)
    read = read_side(back[5:-5, 5:-5], with_mrz=False)
    assert read.qr_valid
    assert read.side == "back"


# ---- the second decoder -------------------------------------------------------------------

def _code_scene(payload: str, angle: float) -> np.ndarray:
    """A QR code turned by ``angle`` on a grey 960×720 frame, slightly soft."""
    code = synthetic._qr_image(payload, 200)
    canvas = np.full((720, 960), 190, np.uint8)
    canvas[260:460, 380:580] = code
    matrix = cv2.getRotationMatrix2D((480, 360), angle, 1.0)
    return cv2.GaussianBlur(cv2.warpAffine(canvas, matrix, (960, 720), borderValue=190), (0, 0), 0.8)


def test_where_zxing_reads_nothing_the_wechat_reader_is_tried(monkeypatch):
    # which decoder reads more real photographs is measured (bench/bench_real_photos.py); this
    # checks the hand-over: zxing-cpp missing the code, the second decoder reads it and places it
    payload = synthetic.build_qr_payload(synthetic.random_fields(np.random.default_rng(5)))
    image = _code_scene(payload, 35)
    tried = []

    def zxing_misses(gray):
        tried.append(gray.shape)
        return None

    monkeypatch.setitem(qr_decode.DECODERS, "zxing", zxing_misses)
    found = qr_decode.decode_card_qr(image)
    assert tried, "zxing-cpp is tried first"
    assert found is not None and found.decoder == "wechat"
    assert found.text.split("|")[0] == payload.split("|")[0]
    # the symbol's corners come back in frame pixels, around the code's centre
    assert np.allclose(found.points.mean(axis=0), (480, 360), atol=25)


def test_a_frame_without_a_code_costs_both_decoders_nothing_wrong():
    noise = np.random.default_rng(1).integers(0, 255, (480, 640), dtype=np.uint8)
    assert qr_decode.decode_card_qr(noise) is None


def test_wechat_gives_the_symbol_corners_as_it_reads():
    payload = synthetic.build_qr_payload(synthetic.random_fields(np.random.default_rng(6)))
    code = synthetic._qr_image(payload, 240)
    code = code if code.ndim == 2 else cv2.cvtColor(code, cv2.COLOR_BGR2GRAY)
    canvas = np.full((400, 400), 255, np.uint8)
    canvas[80:320, 80:320] = code
    turned = portrait_search.turn(canvas, 1)  # a quarter turn counter-clockwise
    found = qr_decode.DECODERS["wechat"](turned)
    assert found is not None
    top_left = found[1][0]
    # the symbol's own top-left corner is now at the bottom left
    assert top_left[0] < 200 and top_left[1] > 200


def test_an_altered_wechat_model_disables_the_reader(tmp_path, monkeypatch):
    for name in qr_decode.WECHAT_MODELS:
        (tmp_path / name).write_bytes((qr_decode.WECHAT_DIR / name).read_bytes())
    (tmp_path / "sr.caffemodel").write_bytes(b"not the model")
    monkeypatch.setattr(qr_decode, "WECHAT_DIR", tmp_path)
    monkeypatch.setattr(qr_decode, "_wechat_reader", None)
    with pytest.raises(qr_decode.WeChatUnavailable, match="sha256"):
        qr_decode.wechat_reader()
    assert qr_decode.DECODERS["wechat"](np.zeros((100, 100), np.uint8)) is None


def test_the_vendored_models_are_the_pinned_ones():
    for name, digest in qr_decode.WECHAT_MODELS.items():
        assert hashlib.sha256((qr_decode.WECHAT_DIR / name).read_bytes()).hexdigest() == digest


@pytest.mark.parametrize("angle", [0, 90, -30, 180])
def test_the_card_is_placed_from_its_portrait_the_right_way_round(detector, front, angle):
    image = front[0]
    scene = _on_canvas(image, angle)
    hit = portrait_search.find_portrait(scene, detector)
    assert hit is not None
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    matrix[:, 2] += (1400 / 2 - w / 2, 1400 / 2 - h / 2)
    truth = cv2.transform(np.array([[[0, 0], [w, 0], [w, h], [0, h]]], np.float32), matrix)[0]
    error = np.linalg.norm(hit.card_corners() - truth, axis=1).max()
    # the corners in the right order (a quarter turn wrong is ~w off), about where the card is
    # (the drawn portrait's face is a little bigger than on real cards, whose sizes set the scale)
    assert error < 0.25 * w


# ---- the live face: a doubtful upright face is checked against the search at any angle ----

class _StubModel:
    """Embeds by the image's marker value: 1 = the reference portrait, 2 = a pattern that looks
    like a face (weak score), 3 = the real face found at an angle (sure score)."""
    name = "stub"

    def __init__(self, scores):
        self.scores = scores

    def embed(self, image, portrait=False):
        from kiosk.vision.face_model import Embedding

        marker = int(image[0, 0, 0])
        if marker not in self.scores:
            return None
        vector = np.zeros(4)
        vector[marker % 2] = 1.0  # 1 and 3 point the same way, 2 elsewhere
        return Embedding("stub", vector, (0, 0, 1, 1), self.scores[marker])

    def distance(self, a, b):
        return float(1.0 - np.dot(a.vector, b.vector))


def _marked(value):
    return np.full((20, 20, 3), value, np.uint8)


def test_a_doubtful_live_face_gives_way_to_a_surer_one_at_an_angle():
    from kiosk.domain.face_decision import FaceThresholds
    from kiosk.vision import faces

    thresholds = FaceThresholds(accept=0.3, reject=0.6)
    model = _StubModel({1: 0.9, 2: 0.7, 3: 0.95})
    result = faces.verify(_marked(1), _marked(2), thresholds, model=model,
                          face_fallback=lambda image: _marked(3))
    assert result["decision"] == "match"
    # a sure upright face is kept, the search at any angle is not even run
    model = _StubModel({1: 0.9, 2: 0.95, 3: 0.99})
    result = faces.verify(_marked(1), _marked(2), thresholds, model=model,
                          face_fallback=lambda image: pytest.fail("searched needlessly"))
    assert result["decision"] == "no_match"
