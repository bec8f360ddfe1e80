"""The stable command-line contract: one JSON object on stdout, JSON errors, no tracebacks."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from .faces_data import face_data_dir, require_face_models

SAME = ("megawati_sukarnoputri/4.jpg", "megawati_sukarnoputri/5.jpg")
DIFFERENT = ("joe_biden/1.jpg", "zhang_ziyi/1.jpg")


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
    assert out["decision"] == "match" and 0 <= out["distance"] <= 0.42
    assert out["elapsed_ms"] > 0


def test_verify_different_people_is_no_match(runner, faces):
    code, out = run(runner, "verify", faces / DIFFERENT[0], faces / DIFFERENT[1])
    assert code == 0 and out["decision"] == "no_match" and out["distance"] > 0.59


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


def test_read_card_returns_the_contract_fields_from_a_camera_frame(runner, faces, tmp_path):
    from .test_wizard_ekyc import card_frame

    frame = tmp_path / "frame.jpg"
    frame.write_bytes(card_frame(SAME[0]))
    code, out = run(runner, "read-card", frame)
    assert code == 0
    assert set(out) == {"card_found", "id_number", "old_id_number", "full_name", "date_of_birth",
                        "gender", "address", "issue_date", "portrait_found", "quality", "elapsed_ms",
                        "card_kind", "expiry_date", "expiry_known", "sides", "mrz", "mismatches"}
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
