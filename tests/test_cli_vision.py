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
