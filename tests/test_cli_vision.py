"""The stable command-line contract: one JSON object on stdout, JSON errors, no tracebacks."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from kiosk.core.config import DEFAULTS

from .faces_data import face_data_dir, require_face_models

# the configured default model's thresholds (SFace's)
ACCEPT = DEFAULTS["FACE_ACCEPT_DISTANCE"][DEFAULTS["FACE_MODEL"]]
REJECT = DEFAULTS["FACE_REJECT_DISTANCE"][DEFAULTS["FACE_MODEL"]]

SAME = ("megawati_sukarnoputri/4.jpg", "megawati_sukarnoputri/5.jpg")
DIFFERENT = ("joe_biden/1.jpg", "zhang_ziyi/1.jpg")
# The vision commands are the real engine's contract: every test here runs it.
pytestmark = pytest.mark.real_vision


def run(runner, *args):
    result = runner.invoke(args=["vision", *map(str, args)])
    payload = json.loads(result.output.strip().splitlines()[-1])
    return result.exit_code, payload


@pytest.fixture
def faces():
    folder = face_data_dir()
    require_face_models()
    return folder


def test_verify_same_person_prints_exactly_the_contract_fields(runner, faces):
    code, out = run(runner, "verify", faces / SAME[0], faces / SAME[1])
    assert code == 0
    assert set(out) == {"decision", "distance", "elapsed_ms"}
    assert out["decision"] == "match" and 0 <= out["distance"] <= ACCEPT
    assert out["elapsed_ms"] > 0


def test_verify_different_people_is_no_match(runner, faces):
    code, out = run(runner, "verify", faces / DIFFERENT[0], faces / DIFFERENT[1])
    assert code == 0 and out["decision"] == "no_match" and out["distance"] > REJECT


def test_verify_without_a_face_is_no_face(runner, faces, tmp_path):
    blank = tmp_path / "blank.jpg"
    cv2.imwrite(str(blank), np.full((480, 640, 3), 200, np.uint8))
    code, out = run(runner, "verify", faces / SAME[0], blank)
    assert code == 0 and out["decision"] == "no_face" and out["distance"] is None


@pytest.mark.parametrize("command", [["verify", "{bad}", "{bad}"], ["read-card", "{bad}"]])
def test_not_an_image_gives_a_json_error(runner, tmp_path, command):
    bad = tmp_path / "notes.txt"
    bad.write_text("xin chào")
    code, out = run(runner, *[c.format(bad=bad) for c in command])
    assert code == 2 and out["error"] == "bad_image" and "JPEG" in out["message"]


def test_missing_file_gives_a_json_error(runner, tmp_path):
    code, out = run(runner, "read-card", tmp_path / "nope.jpg")
    assert code == 2 and out["error"] == "not_found"


def test_truncated_jpeg_gives_a_json_error(runner, tmp_path):
    ok, buf = cv2.imencode(".jpg", np.random.default_rng(1).integers(0, 255, (480, 640, 3), np.uint8))
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(buf.tobytes()[: len(buf) // 2])
    code, out = run(runner, "read-card", cut)
    assert code == 2 and out["error"] == "bad_image"


def test_huge_image_is_refused_before_decoding(runner, tmp_path):
    # A PNG header declaring 20000×20000 pixels: refused from the header, not decoded.
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")
    huge = tmp_path / "huge.png"
    huge.write_bytes(png)
    code, out = run(runner, "read-card", huge)
    assert code == 2 and out["error"] == "bad_image" and "quá lớn" in out["message"]


def test_verify_uses_the_card_portrait_not_a_face_elsewhere_in_the_frame(runner, faces, tmp_path):
    from .test_wizard_ekyc import card_frame

    card = tmp_path / "card.jpg"
    card.write_bytes(card_frame(DIFFERENT[1]))  # B's card
    code, out = run(runner, "verify", card, faces / DIFFERENT[0])  # A's face
    assert code == 0 and out["decision"] == "no_match"
    code, out = run(runner, "verify", card, faces / "zhang_ziyi/2.jpg")  # B's other photo
    assert code == 0 and out["decision"] in ("match", "review")


@pytest.mark.parametrize("kind", ["can_cuoc_2024", "cccd_barcode_2016"])
@pytest.mark.parametrize("variant", ["a", "b"])
def test_verify_accepts_the_front_of_every_card_kind(runner, faces, tmp_path, kind, variant):
    """The 2024 căn cước and the 2016 barcode card carry no QR on the front: verify still
    finds the portrait on it (both generators) and compares the face with it."""
    from tests.support.synthetic import place_in_scene, render_front

    from .faces_data import load
    from .test_wizard_ekyc import jpeg

    card = render_front(None, load(SAME[0]), seed=7, kind=kind, variant=variant)
    frame, _ = place_in_scene(card, (1280, 720), 7, rotation_deg=2.0, perspective=(3.0, 2.0),
                              blur=0.4, noise=1.5, light=0.1, brightness=0.95, occluder=False,
                              jpeg_quality=92)
    path = tmp_path / "front.jpg"
    path.write_bytes(jpeg(frame))
    code, out = run(runner, "verify", path, faces / SAME[1])
    assert code == 0 and out["decision"] in ("match", "review"), out
    code, out = run(runner, "verify", path, faces / DIFFERENT[1])
    assert code == 0 and out["decision"] == "no_match", out


def test_read_card_returns_the_contract_fields_from_a_camera_frame(runner, faces, tmp_path):
    from .test_wizard_ekyc import card_frame

    frame = tmp_path / "frame.jpg"
    frame.write_bytes(card_frame(SAME[0]))
    code, out = run(runner, "read-card", frame)
    assert code == 0
    assert set(out) == {"card_found", "id_number", "old_id_number", "full_name", "date_of_birth",
                        "gender", "address", "issue_date", "portrait_found", "quality", "elapsed_ms",
                        "card_kind", "expiry_date", "expiry_known", "sides", "mrz", "mismatches",
                        "field_sources"}
    assert out["card_found"] and out["portrait_found"]
    assert out["card_kind"] == "cccd_chip_2021" and out["sides"] == ["front"]
    assert set(out["mrz"]) >= {"found", "valid", "document_number", "date_of_birth", "sex",
                               "expiry_date"}
    assert out["id_number"] == "038085012345" and out["full_name"] == "Nguyễn Văn An"
    assert out["date_of_birth"] == "1985-09-05" and out["issue_date"] == "2023-10-02"
    assert out["gender"] == "Nam" and out["old_id_number"] is None


def test_read_card_on_a_frame_without_a_card(runner, tmp_path):
    empty = tmp_path / "desk.jpg"
    cv2.imwrite(str(empty), np.full((480, 640, 3), 90, np.uint8))
    code, out = run(runner, "read-card", empty)
    assert code == 0 and out["card_found"] is False and out["id_number"] is None


# ------------------------------------------------------------------ --jsonl batch mode


def run_jsonl(runner, command, lines):
    result = runner.invoke(args=["vision", command, "--jsonl"], input="\n".join(lines) + "\n")
    return result.exit_code, [json.loads(line) for line in result.output.strip().splitlines()]


def test_verify_jsonl_answers_every_line_in_order(runner, faces, tmp_path):
    missing = tmp_path / "nope.jpg"
    code, out = run_jsonl(runner, "verify", [
        json.dumps({"card": str(faces / SAME[0]), "face": str(faces / SAME[1])}),
        "",  # blank lines are skipped
        json.dumps({"card": str(faces / DIFFERENT[0]), "face": str(faces / DIFFERENT[1])}),
        "not json",
        json.dumps({"card": str(faces / SAME[0])}),
        json.dumps({"card": str(missing), "face": str(faces / SAME[1])}),
        json.dumps([1, 2]),
    ])
    assert code == 2  # some lines failed; every line still got its answer
    assert len(out) == 6
    assert set(out[0]) == {"decision", "distance", "elapsed_ms"} and out[0]["decision"] == "match"
    assert out[1]["decision"] == "no_match" and out[1]["elapsed_ms"] > 0
    assert [o.get("error") for o in out[2:]] == ["bad_request", "bad_request", "not_found",
                                                  "bad_request"]
    assert "Dòng 4" in out[2]["message"] and "\"face\"" in out[3]["message"]


def test_verify_jsonl_loads_the_models_once_before_the_first_item(faces, tmp_path):
    from kiosk.vision import sface
    from tests.app_factory import make_app
    from tests.faces_data import require_sface_models

    require_sface_models()
    folder = tmp_path / "models"  # a folder of its own: this app's model is not loaded yet
    folder.mkdir()
    for name in sface.MODEL_FILES:
        (folder / name).symlink_to(sface.default_models_dir() / name)
    app = make_app(tmp_path, FACE_MODELS_DIR=str(folder))
    events = []
    real_create = cv2.FaceRecognizerSF.create
    engine = app.extensions["kiosk_ekyc"]
    real_compare = engine.compare

    def compare(*args, **kwargs):
        events.append("item")
        return real_compare(*args, **kwargs)

    engine.compare = compare
    try:
        cv2.FaceRecognizerSF.create = lambda *a: (events.append("load"), real_create(*a))[1]
        line = json.dumps({"card": str(faces / SAME[0]), "face": str(faces / SAME[1])})
        code, out = run_jsonl(app.test_cli_runner(), "verify", [line, line, line])
    finally:
        cv2.FaceRecognizerSF.create = real_create
    assert code == 0 and [o["decision"] for o in out] == ["match"] * 3
    assert events == ["load", "item", "item", "item"]


def test_read_card_jsonl_reads_each_request(runner, faces, tmp_path):
    from .test_wizard_ekyc import card_frame

    frame = tmp_path / "frame.jpg"
    frame.write_bytes(card_frame(SAME[0]))
    code, out = run_jsonl(runner, "read-card", [json.dumps({"images": [str(frame)]}),
                                                json.dumps({"images": []}),
                                                json.dumps({"images": str(frame)})])
    assert code == 2 and len(out) == 3
    assert out[0]["card_found"] and out[0]["id_number"] == "038085012345"
    assert out[0]["elapsed_ms"] > 0
    assert out[1]["error"] == out[2]["error"] == "bad_request"


def test_verify_without_images_or_jsonl_is_a_usage_error(runner):
    code, out = run(runner, "verify")
    assert code == 2 and out["error"] == "usage"


def test_verify_without_the_model_files_names_the_fix(tmp_path, caplog):
    from tests.app_factory import make_app

    app = make_app(tmp_path, FACE_MODELS_DIR=str(tmp_path / "empty"))
    # already at start-up: an error in the log naming the fix
    assert any("scripts/setup.sh" in r.getMessage() and r.levelname == "ERROR"
               for r in caplog.records)
    image = tmp_path / "grey.jpg"
    cv2.imwrite(str(image), np.full((480, 640, 3), 128, np.uint8))
    code, out = run(app.test_cli_runner(), "verify", image, image)
    assert code == 3 and out["error"] == "models_unavailable"
    assert "scripts/setup.sh" in out["message"]
    code, out = run_jsonl(app.test_cli_runner(), "verify",
                          [json.dumps({"card": str(image), "face": str(image)})])
    assert code == 3 and out[0]["error"] == "models_unavailable"


def _scene(image, seed):
    from tests.support.synthetic import place_in_scene

    frame, _ = place_in_scene(image, (1280, 720), np.random.default_rng(seed), occluder=False)
    return frame


def test_read_card_two_images_back_then_front_of_a_2024_card(runner, faces, tmp_path):
    from tests.support import synthetic

    from .faces_data import load

    holder = synthetic.random_holder(np.random.default_rng(71), "can_cuoc_2024")
    back, front = tmp_path / "back.jpg", tmp_path / "front.jpg"
    cv2.imwrite(str(back), _scene(synthetic.render_back(holder, 3, "can_cuoc_2024"), 72))
    cv2.imwrite(str(front), _scene(synthetic.render_front(
        holder, load(SAME[0]), 4, "can_cuoc_2024"), 73))
    code, out = run(runner, "read-card", back, front)
    assert code == 0, out
    assert out["card_kind"] == "can_cuoc_2024" and out["sides"] == ["back", "front"]
    assert out["id_number"] == holder["id_number"] and out["portrait_found"] is True
    assert out["mrz"]["found"] and out["mrz"]["valid"]
    assert out["mrz"]["document_number"] == holder["id_number"]
    assert out["mrz"]["date_of_birth"] == holder["date_of_birth"].isoformat()
    expiry = holder["expiry_date"]
    assert out["expiry_date"] == (expiry.isoformat() if expiry else None)
    assert out["mismatches"] == []


def test_read_card_refuses_three_images(runner, tmp_path):
    image = tmp_path / "a.jpg"
    cv2.imwrite(str(image), np.full((480, 640, 3), 90, np.uint8))
    code, out = run(runner, "read-card", image, image, image)
    assert code == 2 and out["error"] == "too_many_images"
