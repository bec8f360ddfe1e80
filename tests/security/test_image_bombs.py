"""Issue 9, item 1: no upload may raise the server's peak memory by more than 256 MB.

Each attack runs in a fresh child process (tests/security/rss_probe.py) that first serves the
same endpoint once with a legitimate image, then the bomb; the test compares the process's peak
resident set (VmHWM from /proc/self/status) before and after. Before the fix these were 5.3 GB (JPEG with
fill bytes), 1.7 GB (WebP) and 3.7 GB (30 liveness frames).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.vision.images import ImageError, decode_image, inspect
from tests.security import bombs

ROOT = Path(__file__).resolve().parents[2]
LIMIT_KB = 256 * 1024

REFUSALS = {  # attack -> words the Vietnamese answer must contain
    "capture_jpeg_fill_bytes": "Ảnh quá lớn",
    "capture_webp": "không phải ảnh JPEG hoặc PNG",
    "capture_png_16bit_rgba_under_pixel_limit": "Ảnh quá lớn",
    "guidance_jpeg_fill_bytes": "bad_frame",
    "guidance_webp": "bad_frame",
    "scan_png_bomb": "Ảnh quá lớn",
    "scan_jpeg_fill_bytes": "Ảnh quá lớn",
    "liveness_240_full_hd_frames": "Không nhận được hình từ camera",
    "liveness_30_frames_of_12_mp": "Không nhận được hình từ camera",
    "signature_png_bomb": "Chữ ký",
    "capture_largest_allowed_jpeg": None,  # accepted: a big but honest photo still fits
}


def _probe(attack: str) -> dict:
    from tests.security.rss_probe import run_probe

    return run_probe(attack, ROOT)


@pytest.mark.parametrize("attack", sorted(REFUSALS))
def test_upload_cannot_raise_peak_memory_by_more_than_256_mb(attack):
    result = _probe(attack)
    grown_kb = result["peak_kb"] - result["baseline_kb"]
    assert grown_kb < LIMIT_KB, f"{attack}: peak RSS grew by {grown_kb // 1024} MB"
    assert result["status"] == 200, result["body"][:500]
    expected = REFUSALS[attack]
    if expected is not None:
        body = result["body"]
        if body.lstrip().startswith("{"):
            body = json.dumps(json.loads(body), ensure_ascii=False)
        assert expected in body


def test_fill_bytes_before_sof_do_not_hide_the_declared_size():
    header = inspect(bombs.jpeg_fill_bytes_bomb(1000, 800), 40_000_000)
    assert (header.width, header.height) == (1000, 800)
    with pytest.raises(ImageError, match="quá lớn"):
        inspect(bombs.jpeg_fill_bytes_bomb(), 40_000_000)


def test_webp_is_not_on_the_allow_list():
    with pytest.raises(ImageError, match="JPEG hoặc PNG"):
        inspect(bombs.webp_bomb(), 40_000_000)


def test_truncated_jpeg_padded_with_eoi_is_refused():
    with pytest.raises(ImageError, match="thiếu dữ liệu"):
        decode_image(bombs.truncated_jpeg_padded(), 40_000_000)


def test_big_jpeg_is_decoded_reduced_within_the_memory_cap():
    from kiosk.vision.images import DECODED_MAX_BYTES

    image, mime = decode_image(bombs.uniform_jpeg(7200, 5500), 40_000_000)
    assert mime == "image/jpeg" and image.nbytes <= DECODED_MAX_BYTES
    assert image.shape[1] == 7200 // 2  # 40 MP × 3 bytes does not fit: decoded at 1/2


def test_png_that_would_not_fit_the_memory_cap_is_refused_before_decoding():
    with pytest.raises(ImageError, match="quá lớn"):
        decode_image(bombs.png_bomb(6000, 6600, 16, 6), 40_000_000)


def test_liveness_budget_is_checked_on_headers_before_any_decode():
    from kiosk.vision.engine import check_liveness_budget

    frame = bombs.uniform_jpeg(1920, 1080)
    check_liveness_budget([frame] * 30)
    with pytest.raises(ImageError, match="quá lớn"):
        check_liveness_budget([frame] * 240)
    with pytest.raises(ImageError, match="quá lớn"):
        check_liveness_budget([bombs.uniform_jpeg(2600, 2000)])


def test_cli_refuses_bombs_with_json_not_a_traceback(runner, tmp_path):
    for name, data in (("bomb.webp", bombs.webp_bomb()), ("bomb.jpg", bombs.jpeg_fill_bytes_bomb()),
                       ("cut.jpg", bombs.truncated_jpeg_padded())):
        path = tmp_path / name
        path.write_bytes(data)
        result = runner.invoke(args=["vision", "read-card", str(path)])
        assert result.exit_code != 0
        payload = json.loads(result.output.strip().splitlines()[-1])
        assert payload["error"] == "bad_image" and "Traceback" not in result.output


def test_stray_bytes_between_jpeg_segments_are_tolerated_but_bad_data_is_not():
    from tests.kiosk_driver import jpeg_bytes

    data = jpeg_bytes()
    at = data.find(b"\xff\xc4")
    image, _ = decode_image(data[:at] + b"\x12\x34\x56" + data[at:], 40_000_000)
    assert image.shape == (480, 640, 3)
    scan = data.find(b"\xff\xda") + 200
    garbled = data[:scan] + bytes(b ^ 0x5A for b in data[scan:scan + 400]) + data[scan + 400:]
    with pytest.raises(ImageError):
        decode_image(garbled, 40_000_000)


def test_phone_camera_mpo_jpeg_is_accepted():
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (640, 480), "red").save(buf, "MPO", save_all=True,
                                              append_images=[Image.new("RGB", (640, 480), "blue")])
    image, mime = decode_image(buf.getvalue(), 40_000_000)
    assert mime == "image/jpeg" and image.shape == (480, 640, 3)


def test_photo_check_refuses_what_decoding_refuses():
    """The check a photo gets before it is stored (engine.check_image) refuses the same damaged
    files as a full decode, with the same Vietnamese answers."""
    from kiosk.vision.images import check_usable

    with pytest.raises(ImageError, match="thiếu dữ liệu"):
        check_usable(bombs.truncated_jpeg_padded(), 40_000_000)
    with pytest.raises(ImageError, match="quá lớn"):
        check_usable(bombs.jpeg_fill_bytes_bomb(), 40_000_000)
    with pytest.raises(ImageError, match="quá lớn"):
        check_usable(bombs.png_bomb(6000, 6600, 16, 6), 40_000_000)
    with pytest.raises(ImageError, match="quá nhỏ"):
        check_usable(bombs.uniform_jpeg(200, 150), 40_000_000)


def test_photo_check_decodes_a_jpeg_once(monkeypatch):
    """The integrity check already read every coded bit of a JPEG: no second, full decode."""
    from kiosk.vision import images

    def no_second_decode(*_args, **_kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(images.cv2, "imdecode", no_second_decode)
    assert images.check_usable(bombs.uniform_jpeg(1280, 720), 40_000_000) == "image/jpeg"


def test_photo_check_decodes_a_png_whose_checksums_are_right_but_pixels_are_not():
    """A PNG's chunk CRCs can be recomputed over garbage: only decoding finds it."""
    import struct
    import zlib

    import cv2
    import numpy as np

    from kiosk.vision.images import check_usable

    png = cv2.imencode(".png", np.full((300, 400, 3), 128, np.uint8))[1].tobytes()
    at = png.index(b"IDAT") - 4
    length = struct.unpack(">I", png[at:at + 4])[0]
    garbage = bytes(range(256)) * (length // 256 + 1)
    garbage = garbage[:length]
    chunk = b"IDAT" + garbage
    forged = png[:at + 4] + chunk + struct.pack(">I", zlib.crc32(chunk)) + png[at + 12 + length:]
    with pytest.raises(ImageError):
        check_usable(forged, 40_000_000)
    assert check_usable(png, 40_000_000) == "image/png"


def _pad_png(mode: str, ink: bool = True) -> bytes:
    import io

    from PIL import Image, ImageDraw

    background = {"RGBA": (0, 0, 0, 0), "RGB": (255, 255, 255), "LA": (0, 0)}[mode]
    stroke = {"RGBA": (20, 20, 90, 255), "RGB": (20, 20, 90), "LA": (0, 255)}[mode]
    image = Image.new(mode, (900, 360), background)
    if ink:
        ImageDraw.Draw(image).line([(60, 300), (400, 60), (840, 280)], fill=stroke, width=8)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("mode", ["RGBA", "LA", "RGB"])
def test_signature_check_returns_the_drawing_decoded(mode):
    """The pad's PNG is checked and decoded once; signing uses that picture (RGBA). Strokes are
    the opaque pixels of a transparent pad, the dark ones of an opaque pad."""
    from kiosk.vision.images import check_signature

    picture = check_signature(_pad_png(mode))
    assert picture.mode == "RGBA" and picture.size == (900, 360)
    with pytest.raises(ImageError, match="chưa ký"):
        check_signature(_pad_png(mode, ink=False))


def test_signature_check_refuses_what_is_not_a_whole_png():
    """A JPEG, a truncated PNG, a PNG whose checksums were recomputed over garbage and a bomb
    are refused before or at the one decode, in words about signing again (not photos)."""
    import struct
    import zlib

    from kiosk.vision.images import check_signature

    png = _pad_png("RGBA")
    at = png.index(b"IDAT") - 4
    length = struct.unpack(">I", png[at:at + 4])[0]
    chunk = b"IDAT" + (bytes(range(256)) * (length // 256 + 1))[:length]
    forged = png[:at + 4] + chunk + struct.pack(">I", zlib.crc32(chunk)) + png[at + 12 + length:]
    with pytest.raises(ImageError, match="định dạng"):
        check_signature(bombs.uniform_jpeg(900, 360))
    for broken in (png[: len(png) // 2], forged, bombs.png_bomb(6000, 6600, 8, 6)):
        with pytest.raises(ImageError, match="Chữ ký gửi lên bị hỏng. Vui lòng ký lại."):
            check_signature(broken)


def test_signing_does_not_decode_the_drawing_again(monkeypatch):
    """The signed copy is drawn from the picture the check decoded: no second PNG decode."""
    from datetime import datetime

    from kiosk.documents import Signature, render_acceptance, sign_pdf, signature_image
    from kiosk.vision.images import check_signature
    from tests.test_documents import make_ctx

    png = _pad_png("RGBA")
    picture = check_signature(png)

    def no_second_decode(*_args, **_kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(signature_image.PILImage, "open", no_second_decode)
    signed = sign_pdf(render_acceptance(make_ctx()),
                      Signature(png, datetime(2026, 11, 30, 9, 5), picture=picture))
    assert b"/Signature" in signed


# ---- Third attack pass: the coefficient buffer of progressive / multi-scan JPEGs -----------
# One upload may cost at most 40 MB more than the warm-up; at most six are decoded at once
# (images.BUFFERED_DECODES_AT_ONCE), so that they stay under 256 MB together.
PROGRESSIVE_LIMIT_KB = 40 * 1024
PROGRESSIVE_REFUSALS = {
    "capture_progressive_jpeg_6320": "Ảnh quá lớn",
    "scan_progressive_jpeg_6320": "Ảnh quá lớn",
    "guidance_progressive_jpeg_6320": "bad_frame",
}


@pytest.mark.parametrize("attack", sorted(PROGRESSIVE_REFUSALS))
def test_progressive_jpeg_is_costed_by_its_coefficient_buffer(attack):
    result = _probe(attack)
    grown_kb = result["peak_kb"] - result["baseline_kb"]
    assert grown_kb < PROGRESSIVE_LIMIT_KB, f"{attack}: peak RSS grew by {grown_kb // 1024} MB"
    assert result["status"] == 200
    body = result["body"]
    if body.lstrip().startswith("{"):
        body = json.dumps(json.loads(body), ensure_ascii=False)
    assert PROGRESSIVE_REFUSALS[attack] in body


@pytest.mark.parametrize("make", [bombs.progressive_jpeg, bombs.arithmetic_jpeg,
                                  bombs.multiscan_baseline_jpeg,
                                  lambda: bombs.progressive_jpeg(8000, 5000, subsampling=2)])
def test_buffered_jpegs_over_the_budget_are_refused_from_their_headers(make, monkeypatch):
    import cv2
    import simplejpeg

    from kiosk.vision import images

    data = make()
    assert images.jpeg_coefficient_bytes(data) > images.COEFFICIENT_MAX_BYTES

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded before being refused")

    monkeypatch.setattr(simplejpeg, "decode_jpeg", no_decoding)
    monkeypatch.setattr(cv2, "imdecode", no_decoding)
    with pytest.raises(ImageError, match="Ảnh quá lớn"):
        decode_image(data, 40_000_000)
    with pytest.raises(ImageError, match="Ảnh quá lớn"):
        images.check_usable(data, 40_000_000)


@pytest.mark.parametrize("width, height", [
    (2480, 3508),  # an A4 page scanned at 300 dpi
    (4032, 3024),  # the commonest phone photo, 12 MP, as some apps save it: progressive
])
def test_baseline_and_progressive_photos_of_a_phones_size_still_pass(width, height):
    from kiosk.vision import images

    assert images.jpeg_coefficient_bytes(bombs.uniform_jpeg(6320, 6320)) == 0  # one scan, row by row
    photo = bombs.progressive_jpeg(width, height, subsampling=2)
    assert 0 < images.jpeg_coefficient_bytes(photo) <= images.COEFFICIENT_MAX_BYTES
    image, mime = decode_image(photo, 40_000_000)
    assert mime == "image/jpeg" and image.shape[:2] == (height, width)
    assert images.check_usable(photo, 40_000_000) == "image/jpeg"


def test_cli_refuses_a_progressive_bomb_with_json(runner, tmp_path):
    path = tmp_path / "progressive.jpg"
    path.write_bytes(bombs.progressive_jpeg())
    result = runner.invoke(args=["vision", "read-card", str(path)])
    assert result.exit_code != 0
    payload = json.loads(result.output.strip().splitlines()[-1])
    assert payload["error"] == "bad_image" and "Traceback" not in result.output


# ---- one photo, several readers -----------------------------------------------------------

def _camera_jpeg(width: int = 1280, height: int = 720) -> bytes:
    import cv2
    import numpy as np

    noise = np.random.default_rng(3).integers(0, 255, (height, width, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(".jpg", noise, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return buf.tobytes()


def _counting_decodes(monkeypatch) -> list:
    from tests.support.decodes import count_decodes

    return count_decodes(monkeypatch)


def test_within_decoding_once_a_photo_is_decoded_once_and_each_reader_gets_its_own_copy(
        monkeypatch):
    import numpy as np

    from kiosk.vision.images import decoding_once

    data = _camera_jpeg()
    decodes = _counting_decodes(monkeypatch)
    with decoding_once():
        first, _ = decode_image(data, 20_000_000)
        first[:] = 0  # a reader that draws on its copy
        second, mime = decode_image(data, 20_000_000)
        reduced, _ = decode_image(data, 20_000_000, max_side=64)  # another scale: its own
    assert len(decodes) == 2 and mime == "image/jpeg"
    assert second.any() and np.array_equal(second, decode_image(data, 20_000_000)[0])
    assert reduced.shape[1] == 160
    decode_image(data, 20_000_000)
    assert len(decodes) == 4  # outside the block nothing is kept


def test_decoding_once_still_refuses_what_decoding_refuses():
    from kiosk.vision.images import decoding_once

    data = _camera_jpeg()
    with decoding_once():
        decode_image(data, 20_000_000)
        with pytest.raises(ImageError):
            decode_image(data[:len(data) // 2] + b"\xff\xd9", 20_000_000)
        with pytest.raises(ImageError):  # the pixel limit of each call holds for a kept picture
            decode_image(data, 500_000)


def test_a_big_picture_is_not_kept_twice_in_memory(monkeypatch):
    from kiosk.vision import images

    data = _camera_jpeg(2400, 1600)  # 11.5 MB decoded: above REUSED_DECODE_MAX_BYTES
    decodes = _counting_decodes(monkeypatch)
    with images.decoding_once():
        decode_image(data, 20_000_000)
        decode_image(data, 20_000_000)
    assert len(decodes) == 2


# ---- one strict pass: the check and the decode ----------------------------------------------

def _jpeg_of(image, **params) -> bytes:
    import io


    buf = io.BytesIO()
    image.save(buf, "JPEG", **params)
    return buf.getvalue()


def _pictures():
    """Camera-like pictures of every kind the decoders treat differently."""
    import cv2
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(11)
    smooth = cv2.GaussianBlur(rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8), (0, 0), 3)
    rgb = Image.fromarray(smooth[:, :, ::-1])
    return {
        "camera": cv2.imencode(".jpg", smooth, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes(),
        "odd size": cv2.imencode(".jpg", smooth[:477, :1001])[1].tobytes(),
        "progressive": _jpeg_of(rgb, quality=85, progressive=True),
        "4:4:4": _jpeg_of(rgb, quality=90, subsampling=0),
        "grey": _jpeg_of(rgb.convert("L"), quality=90),
        "cmyk": _jpeg_of(rgb.convert("CMYK"), quality=90),
        "exif turned": _jpeg_of(rgb, quality=90, exif=_orientation(6)),
    }


def _orientation(value: int) -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


@pytest.mark.parametrize("kind", ["camera", "odd size", "progressive", "4:4:4", "grey", "cmyk",
                                  "exif turned"])
def test_decoded_pixels_are_opencvs_at_every_scale_and_in_grey(kind, monkeypatch):
    """The one-pass decode gives exactly OpenCV's pixels (the vision was tuned on those),
    whichever path a picture takes: EXIF-turned and CMYK files go OpenCV's way."""
    import cv2
    import numpy as np

    from kiosk.vision import images
    from kiosk.vision.images import reduction_for

    one_pass = []
    strict = images._checked_jpeg_decode
    monkeypatch.setattr(images, "_checked_jpeg_decode",
                        lambda *a: (lambda image: one_pass.append(image is not None) or image)(
                            strict(*a)))
    data = _pictures()[kind]
    raw = np.frombuffer(data, np.uint8)
    flags = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
             8: cv2.IMREAD_REDUCED_COLOR_8}
    header = inspect(data, 40_000_000)
    long_side = max(header.width, header.height)
    factors = {reduction_for(header, side): side
               for side in (None, long_side // 2, long_side // 4, long_side // 8)}
    assert sorted(factors) == [1, 2, 4, 8]
    for factor, max_side in factors.items():
        image, mime = decode_image(data, 40_000_000, max_side=max_side)
        assert mime == "image/jpeg"
        assert np.array_equal(image, cv2.imdecode(raw, flags[factor])), (kind, factor)
    grey, _ = decode_image(data, 40_000_000, cv2.IMREAD_GRAYSCALE)
    assert np.array_equal(grey, cv2.imdecode(raw, cv2.IMREAD_GRAYSCALE)), kind
    if kind == "exif turned":
        assert grey.shape == (1280, 720)  # turned upright, as OpenCV does
    # camera JPEGs took the one-pass decode; the others, OpenCV's
    assert set(one_pass) == {kind not in ("cmyk", "exif turned")}, one_pass


def test_a_camera_jpeg_is_checked_and_decoded_in_one_pass(monkeypatch):
    from kiosk.vision import images

    decodes = _counting_decodes(monkeypatch)
    strict = []
    one_pass = images._checked_jpeg_decode
    monkeypatch.setattr(images, "_checked_jpeg_decode",
                        lambda *a: (lambda image: strict.append(image is not None) or image)(
                            one_pass(*a)))
    checks = []
    monkeypatch.setattr(images, "check_integrity", lambda *a: checks.append(1))
    image, _ = decode_image(_pictures()["camera"], 40_000_000)
    assert len(decodes) == 1 and strict == [True] and checks == []
    assert image.shape == (720, 1280, 3)
    decode_image(_pictures()["exif turned"], 40_000_000)  # the other path: checked, decoded
    assert len(decodes) == 2 and strict == [True, False] and checks == [1]


def test_a_broken_camera_jpeg_gets_the_checks_answer_without_a_second_decode(monkeypatch):
    """Refused by the one-pass decode itself, with the integrity check's words; the check
    alone (a photo checked before it is stored) refuses the same files the same way."""
    from kiosk.vision import images
    from kiosk.vision.images import check_usable

    data = _pictures()["camera"]
    scan = data.find(b"\xff\xda") + 200
    broken = {
        "truncated": data[:len(data) // 2] + b"\xff\xd9",
        "garbled": data[:scan] + bytes(b ^ 0x5A for b in data[scan:scan + 400])
        + data[scan + 400:],
    }
    checks = []
    monkeypatch.setattr(images, "check_integrity", lambda *a: checks.append(1))
    for file in broken.values():
        with pytest.raises(ImageError, match="thiếu dữ liệu"):
            decode_image(file, 40_000_000)
    assert checks == []  # refused without the 1/8 check's second decode
    monkeypatch.undo()
    for file in broken.values():
        with pytest.raises(ImageError, match="thiếu dữ liệu"):
            check_usable(file, 40_000_000)


def test_an_exif_block_after_a_large_icc_profile_still_sends_the_file_opencvs_way():
    import cv2
    import numpy as np
    from PIL import Image

    rgb = Image.fromarray(cv2.GaussianBlur(np.random.default_rng(2).integers(
        0, 255, (480, 640, 3), dtype=np.uint8), (0, 0), 3)[:, :, ::-1])
    # an ICC profile of 100 kB comes first (APP2 segments), the EXIF block (APP1) after it
    with_profile = _jpeg_of(rgb, quality=90, icc_profile=b"\x00" * 100_000)
    exif = _orientation(6)
    assert exif.startswith(b"Exif\x00\x00")
    at = with_profile.find(b"\xff\xdb")  # the first table after the APP segments
    data = (with_profile[:at] + b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif
            + with_profile[at:])
    assert data.find(b"Exif\x00\x00") > 65536
    image, _ = decode_image(data, 40_000_000)
    assert image.shape == (640, 480, 3)  # turned upright by OpenCV
    assert np.array_equal(image, cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR))


def test_a_header_cut_inside_the_scan_header_is_not_taken_for_exif_free():
    """The one-pass decode takes a file only when its header walk reaches a whole scan header;
    a file cut inside it is «not known» and goes OpenCV's way, whose check refuses it."""
    from PIL import Image

    from kiosk.vision.images import _exif_free, jpeg_coefficient_bytes

    cut = b"\xff\xd8\xff\xdb\x00\x04\x00\x00\xff\xda\x00\x0c\x01"
    assert _exif_free(cut) is False
    assert jpeg_coefficient_bytes(cut) == 0
    whole = _jpeg_of(Image.new("RGB", (16, 16)), quality=90)
    assert _exif_free(whole) is True


def test_no_more_buffered_jpegs_are_decoded_at_once_than_the_budget_holds(monkeypatch):
    """Twice as many progressive uploads as the budget has places arrive at once (a web
    process's request threads): as many are decoded as there are places, the others wait for
    one, and a baseline photo (every webcam's) does not wait at all."""
    import threading

    import simplejpeg

    from kiosk.vision import images

    photo = bombs.progressive_jpeg(640, 480, subsampling=2)
    baseline = bombs.uniform_jpeg(640, 480)
    places = images.BUFFERED_DECODES_AT_ONCE
    state = threading.Condition()
    counts = {"inside": 0, "most": 0, "waiting": 0}
    release = threading.Event()
    real_decode, real_places = simplejpeg.decode_jpeg, images._BUFFERED_DECODES

    def held_decode(data, *args, **kwargs):
        if data is not photo:
            return real_decode(data, *args, **kwargs)
        with state:
            counts["inside"] += 1
            counts["most"] = max(counts["most"], counts["inside"])
            state.notify_all()
        release.wait(30)
        try:
            return real_decode(data, *args, **kwargs)
        finally:
            with state:
                counts["inside"] -= 1

    class CountingPlaces:  # the process's places, counting who waits for one
        def __enter__(self):
            with state:
                counts["waiting"] += 1
                state.notify_all()
            real_places.acquire()
            with state:
                counts["waiting"] -= 1

        def __exit__(self, *exc):
            real_places.release()

    monkeypatch.setattr(simplejpeg, "decode_jpeg", held_decode)
    monkeypatch.setattr(images, "_BUFFERED_DECODES", CountingPlaces())
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(
        images.check_usable(photo, 40_000_000))) for _ in range(2 * places)]
    for thread in threads:
        thread.start()
    try:
        with state:
            assert state.wait_for(lambda: counts["inside"] == places
                                  and counts["waiting"] == places, timeout=30), counts
        assert images.check_usable(baseline, 40_000_000) == "image/jpeg"  # while they wait
    finally:
        release.set()
        for thread in threads:
            thread.join(30)
    assert counts["most"] == places and answers == ["image/jpeg"] * (2 * places)


def test_no_module_of_the_kiosk_lets_pillow_load_a_truncated_image():
    """Pillow's LOAD_TRUNCATED_IMAGES is one flag for the whole process, and a library may turn
    it on when imported (face_recognition does): then a truncated PNG passes the integrity
    check. Every module of the kiosk imported, in a fresh process, leaves it off."""
    import subprocess
    import sys

    code = ("import importlib, pkgutil, kiosk\n"
            "for m in pkgutil.walk_packages(kiosk.__path__, 'kiosk.'):\n"
            "    importlib.import_module(m.name)\n"
            "from PIL import ImageFile\n"
            "print(ImageFile.LOAD_TRUNCATED_IMAGES)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"
