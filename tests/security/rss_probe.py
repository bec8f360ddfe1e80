"""Measures what one hostile request costs the server process, in a fresh child process.

    python -m tests.security.rss_probe ATTACK PAYLOAD.pickle   (from the project root)

The payload is built by the caller (run_probe) and handed over in a file, so that making a
40 MP test picture never counts against the server process being measured.

prints one JSON object: the peak resident set (VmHWM, kB) after the app has served the same
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

from tests.app_factory import kiosk_client


def _peak_kb() -> int:
    """This process's peak resident set in kB: VmHWM of /proc/self/status.

    Not getrusage's ru_maxrss: across fork+exec Linux carries the parent's high-water mark into
    the child's ru_maxrss, so a child forked from a big pytest process would report the parent's
    peak. VmHWM belongs to the new address space made by exec."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux; no /proc elsewhere


def _driver(tmp: Path, step: int):
    from kiosk.domain.credentials import configure_hasher
    from tests.app_factory import make_app
    from tests.kiosk_driver import KioskDriver

    configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    app = make_app(tmp)
    kiosk = KioskDriver(kiosk_client(app))
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
    """name -> (step to walk to, warm-up(kiosk), build() -> payload, send(kiosk, payload)).

    The payload is built BEFORE the baseline is read: making a 40 MP test picture costs the
    test harness memory that the server never spends."""
    from tests.kiosk_driver import jpeg_bytes, signature_png
    from tests.security import bombs

    legit = jpeg_bytes()

    def capture(mime):
        return lambda k, payload: _capture_data_url(k, mime, payload)

    def scan(name):
        return lambda k, payload: _scan(k, payload, name)

    warm_capture = lambda k: _capture_data_url(k, "image/jpeg", legit)  # noqa: E731
    warm_guidance = lambda k: _guidance(k, legit)  # noqa: E731
    warm_scan = lambda k: _scan(k, legit, "card.jpg")  # noqa: E731
    warm_liveness = lambda k: _liveness(k, [legit] * 8)  # noqa: E731
    return {
        "capture_jpeg_fill_bytes": (6, warm_capture, bombs.jpeg_fill_bytes_bomb, capture("image/jpeg")),
        "capture_webp": (6, warm_capture, bombs.webp_bomb, capture("image/webp")),
        "capture_png_16bit_rgba_under_pixel_limit": (
            6, warm_capture, lambda: bombs.png_bomb(6000, 6600, 16, 6), capture("image/png")),
        "capture_largest_allowed_jpeg": (
            6, warm_capture, lambda: bombs.uniform_jpeg(7200, 5500), capture("image/jpeg")),
        "guidance_jpeg_fill_bytes": (1, warm_guidance, bombs.jpeg_fill_bytes_bomb, _guidance),
        "guidance_webp": (1, warm_guidance, bombs.webp_bomb, _guidance),
        "scan_png_bomb": (1, warm_scan, bombs.png_bomb, scan("card.png")),
        "scan_jpeg_fill_bytes": (1, warm_scan, bombs.jpeg_fill_bytes_bomb, scan("x.jpg")),
        "liveness_240_full_hd_frames": (
            6, warm_liveness, lambda: [bombs.uniform_jpeg(1920, 1080)] * 240, _liveness),
        "liveness_30_frames_of_12_mp": (
            6, warm_liveness, lambda: [bombs.uniform_jpeg(4000, 3000)] * 30, _liveness),
        "capture_progressive_jpeg_6320": (
            6, warm_capture, bombs.progressive_jpeg, capture("image/jpeg")),
        "scan_progressive_jpeg_6320": (1, warm_scan, bombs.progressive_jpeg, scan("card.jpg")),
        "guidance_progressive_jpeg_6320": (1, warm_guidance, bombs.progressive_jpeg, _guidance),
        "signature_png_bomb": (
            7, lambda k: k.sign(7, signature_png(ink=False)), bombs.png_bomb,
            lambda k, payload: k.sign(7, payload)),
    }


def run_probe(name: str, root: Path, timeout: int = 300) -> dict:
    """Build the payload here, measure the attack in a fresh child process; its JSON result."""
    import os
    import pickle
    import subprocess

    payload = attacks()[name][2]()
    with tempfile.NamedTemporaryFile(suffix=".pickle") as fh:
        pickle.dump(payload, fh)
        fh.flush()
        del payload
        done = subprocess.run([sys.executable, "-m", "tests.security.rss_probe", name, fh.name],
                              cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
                              capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(name: str, payload_path: str) -> None:
    import gc
    import pickle

    step, warm, _, send = attacks()[name]
    with tempfile.TemporaryDirectory() as tmp:
        kiosk = _driver(Path(tmp), step)
        warm(kiosk)
        with open(payload_path, "rb") as fh:
            payload = pickle.load(fh)  # our own file, written by run_probe
        gc.collect()
        before = _peak_kb()
        response = send(kiosk, payload)
        after = _peak_kb()
        print(json.dumps({"attack": name, "baseline_kb": before, "peak_kb": after,
                          "status": response.status_code,
                          "body": response.get_data(as_text=True)[:20000]}, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
