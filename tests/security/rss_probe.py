"""Measures what one hostile request costs the server process, in a fresh child process.

    python -m tests.security.rss_probe ATTACK      (from the project root)

prints one JSON object: the peak resident set (ru_maxrss, kB) after the app has served the same
endpoint once with a legitimate image (so imports, models and caches are already paid for), the
peak after the attack, the status and the start of the answer. The test compares the two peaks:
what is measured is the process, not whether a check ran.
"""
from __future__ import annotations

import json
import resource
import sys
import tempfile
from pathlib import Path


def _peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux


def _driver(tmp: Path, step: int):
    from kiosk.domain.credentials import configure_hasher
    from tests.app_factory import make_app
    from tests.kiosk_driver import KioskDriver

    configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    app = make_app(tmp)
    kiosk = KioskDriver(app.test_client())
    kiosk.start()
    if step > 1:
        kiosk.walk_to(step)
    return kiosk


def _liveness(kiosk, frames: list[bytes]):
    data = {"csrf_token": kiosk.csrf(),
            "timestamps": ",".join(str(i * 125) for i in range(len(frames))),
            "frames": [(__import__("io").BytesIO(f), f"f{i}.jpg") for i, f in enumerate(frames)]}
    return kiosk.client.post(f"/r/{kiosk.token}/step/6/liveness", data=data,
                             headers=kiosk.headers(), content_type="multipart/form-data")


def _guidance(kiosk, frame: bytes):
    import io

    return kiosk.client.post(f"/r/{kiosk.token}/guidance",
                             data={"frame": (io.BytesIO(frame), "frame.jpg")},
                             headers=kiosk.headers(), content_type="multipart/form-data")


def _scan(kiosk, image: bytes, name="card.png"):
    import io

    kiosk.post(f"/r/{kiosk.token}/step/1/scan/consent", {"csrf_token": kiosk.csrf(), "consent": "y"})
    return kiosk.client.post(f"/r/{kiosk.token}/step/1/scan",
                             data={"csrf_token": kiosk.csrf(), "image_file": (io.BytesIO(image), name)},
                             headers=kiosk.headers(), content_type="multipart/form-data")


def _capture_data_url(kiosk, mime: str, image: bytes, kind="card_back"):
    from tests.kiosk_driver import data_url

    return kiosk.post(f"/r/{kiosk.token}/step/6/capture/{kind}",
                      {"csrf_token": kiosk.csrf(), "image_data": data_url(mime, image)})


def attacks():
    """name -> (step to walk to, warm-up(kiosk), attack(kiosk)); built lazily."""
    from tests.kiosk_driver import jpeg_bytes, signature_png
    from tests.security import bombs

    legit = jpeg_bytes()
    return {
        "capture_jpeg_fill_bytes": (
            6, lambda k: _capture_data_url(k, "image/jpeg", legit),
            lambda k: _capture_data_url(k, "image/jpeg", bombs.jpeg_fill_bytes_bomb())),
        "capture_webp": (
            6, lambda k: _capture_data_url(k, "image/jpeg", legit),
            lambda k: _capture_data_url(k, "image/webp", bombs.webp_bomb())),
        "capture_png_16bit_rgba_under_pixel_limit": (
            6, lambda k: _capture_data_url(k, "image/jpeg", legit),
            lambda k: _capture_data_url(k, "image/png", bombs.png_bomb(6000, 6600, 16, 6))),
        "capture_largest_allowed_jpeg": (
            6, lambda k: _capture_data_url(k, "image/jpeg", legit),
            lambda k: _capture_data_url(k, "image/jpeg", bombs.uniform_jpeg(7200, 5500))),
        "guidance_jpeg_fill_bytes": (
            1, lambda k: _guidance(k, legit), lambda k: _guidance(k, bombs.jpeg_fill_bytes_bomb())),
        "guidance_webp": (1, lambda k: _guidance(k, legit), lambda k: _guidance(k, bombs.webp_bomb())),
        "scan_png_bomb": (1, lambda k: _scan(k, legit, "card.jpg"), lambda k: _scan(k, bombs.png_bomb())),
        "scan_jpeg_fill_bytes": (
            1, lambda k: _scan(k, legit, "card.jpg"), lambda k: _scan(k, bombs.jpeg_fill_bytes_bomb(), "x.jpg")),
        "liveness_240_full_hd_frames": (
            6, lambda k: _liveness(k, [legit] * 8),
            lambda k: _liveness(k, [bombs.uniform_jpeg(1920, 1080)] * 240)),
        "liveness_30_frames_of_12_mp": (
            6, lambda k: _liveness(k, [legit] * 8),
            lambda k: _liveness(k, [bombs.uniform_jpeg(4000, 3000)] * 30)),
        "signature_png_bomb": (
            7, lambda k: k.sign(7, signature_png(ink=False)),
            lambda k: k.sign(7, bombs.png_bomb())),
    }


def main(name: str) -> None:
    step, warm, attack = attacks()[name]
    with tempfile.TemporaryDirectory() as tmp:
        kiosk = _driver(Path(tmp), step)
        warm(kiosk)
        before = _peak_kb()
        response = attack(kiosk)
        after = _peak_kb()
        print(json.dumps({"attack": name, "baseline_kb": before, "peak_kb": after,
                          "status": response.status_code,
                          "body": response.get_data(as_text=True)[:20000]}, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
