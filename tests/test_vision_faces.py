"""Face detection, encoding and verification on the shared test photos.

Thresholds are checked on the calibration split only (DESIGN.md, "Face decision"); the
evaluation split is for bench/calibrate_faces.py's report, never for tuning.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.domain.face_decision import DEFAULT_THRESHOLDS
from kiosk.vision import dlib_models as models
from kiosk.vision import faces
from tests.faces_data import load, photos, require_face_models, row

pytestmark = pytest.mark.vision
ROOT = Path(__file__).resolve().parents[1]

SAME_PAIR = ("joe_biden/1.jpg", "joe_biden/2.jpg")  # calibration, ~7 years apart
AUTO_MATCH_PAIR = ("megawati_sukarnoputri/4.jpg", "megawati_sukarnoputri/5.jpg")  # ≈ 0.25
# calibration's closest different-person pair (both East Asian, distance ≈ 0.45): the pair
# naive tolerance 0.6 would accept and the calibrated thresholds must not.
LOOKALIKE_PAIR = ("junichiro_koizumi/3.jpg", "roh_moo_hyun/5.jpg")
CLEARLY_DIFFERENT_PAIR = ("joe_biden/1.jpg", "zhang_ziyi/1.jpg")


@pytest.fixture(scope="module", autouse=True)
def _models_installed():
    require_face_models()  # the photos are checked by load()/photos() where they are needed


@pytest.fixture(scope="module")
def calibration_encodings():
    """file → encoding for every calibration photo (≈ 5 s), with the manifest rows."""
    rows = photos(split="calibration")
    return rows, {r["file"]: faces.largest_face_encoding(load(r["file"])) for r in rows}


def _calibrate_module():
    spec = importlib.util.spec_from_file_location("calibrate_faces", ROOT / "bench" / "calibrate_faces.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _calibration_pairs(calibration_encodings):
    cal = _calibrate_module()
    rows, found = calibration_encodings
    enc = {f: {"encoding": None if r is None else r.encoding} for f, r in found.items()}
    return cal, cal.make_pairs(rows, enc, "calibration")


def _selfie(image, size=(640, 480)):
    """A webcam-like frame: the photo scaled into a grey size[0]×size[1] canvas."""
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    image = image[:, :, :3]
    w, h = size
    scale = min(w / image.shape[1], h / image.shape[0])
    small = cv2.resize(image, (int(image.shape[1] * scale), int(image.shape[0] * scale)))
    canvas = np.full((h, w, 3), 90, np.uint8)
    y, x = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
    canvas[y:y + small.shape[0], x:x + small.shape[1]] = small
    return canvas


# ------------------------------------------------------------------------- loading


def test_importing_kiosk_vision_loads_no_model_and_not_face_recognition():
    code = ("import sys, kiosk.vision, kiosk.vision.faces, kiosk.vision.liveness, "
            "kiosk.domain.face_decision, kiosk.vision.dlib_models as m; "
            "assert 'face_recognition' not in sys.modules, 'face_recognition imported'; "
            "assert 'dlib' not in sys.modules, 'dlib imported'; "
            "assert m.loaded() == [], m.loaded()")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr


def test_models_load_once_even_when_threads_race():
    seen = []
    barrier = threading.Barrier(6)

    def worker():
        barrier.wait()
        seen.append(id(models.get("shape_68")[0]))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 6 and len(set(seen)) == 1


# ------------------------------------------------------------------------ encoding


def test_blank_image_has_no_face():
    assert faces.largest_face_encoding(np.full((480, 640, 3), 127, np.uint8)) is None


def test_encoding_is_128_floats_with_five_landmarks_inside_the_face_box():
    result = faces.largest_face_encoding(load("joe_biden/2.jpg"))
    assert result is not None and result.encoding.shape == (128,)
    top, right, bottom, left = result.location
    assert result.landmarks.shape == (5, 2)
    xs, ys = result.landmarks[:, 0], result.landmarks[:, 1]
    assert (left <= xs).all() and (xs <= right).all() and (top <= ys).all() and (ys <= bottom).all()


def test_location_is_in_the_original_image_coordinates():
    # joe_biden/2.jpg is 1200×1200: detection runs on a 480-px copy, the box must be scaled back
    result = faces.largest_face_encoding(load("joe_biden/2.jpg"))
    _, right, _, left = result.location
    assert right - left > 0.7 * int(row("joe_biden/2.jpg")["largest_face_px"])


def test_grayscale_250px_portrait_is_encoded():
    image = load("zhang_ziyi/1.jpg")
    assert image.ndim == 2
    assert faces.largest_face_encoding(image) is not None


def test_photo_with_two_faces_gives_the_largest():
    image = load("elon_musk/3.jpg")  # two faces (README: known oddity)
    rgb = faces.to_rgb(image)
    boxes = faces.detect_faces(rgb, upsample=1, detect_max_side=max(image.shape[:2]))
    assert len(boxes) >= 2
    biggest = max(b[2] - b[0] for b in boxes)
    result = faces.largest_face_encoding(image)
    _, right, _, left = result.location
    assert abs((right - left) - biggest) < 0.25 * biggest


def test_fast_path_encodes_like_face_recognition_defaults():
    import face_recognition

    image = load("joe_biden/2.jpg")
    rgb = faces.to_rgb(image)
    locations = face_recognition.face_locations(rgb)
    naive = face_recognition.face_encodings(rgb, locations)[0]
    assert faces.face_distance(faces.largest_face_encoding(image), naive) < 0.1


def test_face_distance_is_symmetric_and_zero_on_itself():
    a = faces.largest_face_encoding(load(SAME_PAIR[0]))
    b = faces.largest_face_encoding(load(SAME_PAIR[1]))
    assert faces.face_distance(a, a) == 0.0
    assert faces.face_distance(a, b) == pytest.approx(faces.face_distance(b, a))


def test_face_distance_refuses_wrong_shapes():
    with pytest.raises(ValueError):
        faces.face_distance(np.zeros(128), np.zeros(64))


# ------------------------------------------------------------------ calibration


def test_default_thresholds_meet_the_targets_in_every_region_on_calibration(calibration_encodings):
    cal, pairs = _calibration_pairs(calibration_encodings)
    for name, sub in cal.constraint_sets(pairs).items():
        r = cal.rates(sub, DEFAULT_THRESHOLDS)
        assert r["false_accept_rate"] is None or r["false_accept_rate"] <= 0.001, name
        assert r["false_reject_rate"] <= 0.02, name


def test_calibration_rule_reproduces_the_default_thresholds(calibration_encodings):
    cal, pairs = _calibration_pairs(calibration_encodings)
    th, _ = cal.pick_thresholds(pairs)
    assert th == DEFAULT_THRESHOLDS


def test_every_calibration_photo_has_a_face(calibration_encodings):
    _, found = calibration_encodings
    assert [f for f, r in found.items() if r is None] == []


# ------------------------------------------------------------------------- verify


def test_same_person_pair_is_match_or_review():
    result = faces.verify(load(SAME_PAIR[0]), _selfie(load(SAME_PAIR[1])))
    assert result["decision"] in ("match", "review"), result


def test_close_same_person_pair_is_an_automatic_match():
    result = faces.verify(load(AUTO_MATCH_PAIR[0]), _selfie(load(AUTO_MATCH_PAIR[1])))
    assert result["decision"] == "match", result


def test_lookalike_different_people_are_never_matched():
    result = faces.verify(load(LOOKALIKE_PAIR[0]), _selfie(load(LOOKALIKE_PAIR[1])))
    assert result["distance"] < 0.6  # the naive tolerance would have said "same person"
    assert result["decision"] in ("review", "no_match"), result


def test_clearly_different_people_are_no_match():
    result = faces.verify(load(CLEARLY_DIFFERENT_PAIR[0]), _selfie(load(CLEARLY_DIFFERENT_PAIR[1])))
    assert result["decision"] == "no_match", result


def test_selfie_without_a_face_is_no_face():
    result = faces.verify(load(SAME_PAIR[0]), np.full((480, 640, 3), 200, np.uint8))
    assert result == {"decision": "no_face", "distance": None}


def test_portrait_locator_region_is_what_gets_compared():
    # a "card" holding two people side by side; the locator points at the right-hand one
    left = cv2.resize(_selfie(load(CLEARLY_DIFFERENT_PAIR[1])), (400, 300))
    right = cv2.resize(_selfie(load(AUTO_MATCH_PAIR[0])), (400, 300))
    card = np.hstack([left, right])
    calls = []

    def locator(image):
        calls.append(image.shape)
        return image[:, 400:]

    result = faces.verify(card, _selfie(load(AUTO_MATCH_PAIR[1])), portrait_locator=locator)
    assert calls == [card.shape]
    assert result["decision"] == "match", result


def test_portrait_locator_finding_nothing_is_no_face():
    result = faces.verify(load(SAME_PAIR[0]), _selfie(load(SAME_PAIR[0])),
                          portrait_locator=lambda image: None)
    assert result == {"decision": "no_face", "distance": None}
