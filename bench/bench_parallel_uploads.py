"""Peak memory of a real app server under parallel hostile uploads. JSON.

    python bench/bench_parallel_uploads.py [--parallel 8] [--baseline DIR]

One waitress server (8 threads, as scripts/run.sh) per checkout, on a fresh SQLite instance.
N kiosk sessions each start a registration; after one legitimate guidance frame per session
(the warm-up: models, decoders and thread stacks loaded), all N post at once a 6320×6320
progressive JPEG (469 kB, 39.9 MP: under the pixel limit, but libjpeg holds every DCT
coefficient of a progressive file, ~240 MB) to the live-guidance endpoint, twice over. What is
measured is the server process's own peak RSS (VmHWM from /proc), after the warm-up and after
the attack: the growth is what the attack cost the whole server, not one request.

``--baseline DIR`` runs the same against another checkout in the same run (e.g. a
``git worktree`` of the commit before the coefficient check) and prints the ratio.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _progressive_jpeg(side: int = 6320) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (side, side)).save(out, "JPEG", progressive=True, subsampling=0)
    return out.getvalue()


def _ordinary_frame() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 200, 200)).save(out, "JPEG", quality=80)
    return out.getvalue()


def _peak_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))


class Kiosk:
    """One browser: its own cookie jar, CSRF token and registration."""

    def __init__(self, base: str, device: dict):
        self.base, self.http = base, requests.Session()
        self.http.cookies.update(device)
        html = self.http.get(base + "/", timeout=30).text
        self.csrf = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
        answer = self.http.post(base + "/start", data={"csrf_token": self.csrf},
                                allow_redirects=False, timeout=30)
        self.token = re.search(r"/r/([^/]+)/step/", answer.headers["Location"]).group(1)

    def guidance(self, frame: bytes) -> int:
        answer = self.http.post(f"{self.base}/r/{self.token}/guidance",
                                files={"frame": ("f.jpg", frame, "image/jpeg")},
                                headers={"X-CSRFToken": self.csrf, "Origin": self.base},
                                timeout=600)
        return answer.status_code


def _device_cookie(code_dir: Path, env: dict, base: str) -> dict:
    """Only an enrolled kiosk starts registrations: enroll one browser with a one-time code and
    share its device cookie with every simulated kiosk. Code from before kiosk enrollment has no
    such command, and needs no cookie."""
    made = subprocess.run([str(BIN / "flask"), "--app", "kiosk", "kiosks", "enroll-code",
                           "quay-01", "--url", base], cwd=code_dir, env=env,
                          capture_output=True, text=True)
    code = re.search(r"/kiosk/enroll\?code=(\w+)", made.stdout)
    if made.returncode != 0 or code is None:
        return {}
    http = requests.Session()
    html = http.get(base + "/kiosk/enroll", timeout=30).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    http.post(base + "/kiosk/enroll", data={"csrf_token": csrf, "code": code.group(1)},
              allow_redirects=False, timeout=30)
    return {"kiosk_device": http.cookies.get("kiosk_device")}


def measure(code_dir: Path, parallel: int, bomb: bytes, ordinary: bytes) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-uploads-") as tmp:
        env = {**os.environ, "KIOSK_INSTANCE_PATH": tmp, "PYTHONPATH": str(code_dir),
               "DATABASE_URL": f"sqlite:///{tmp}/kiosk.sqlite"}
        subprocess.run([str(BIN / "flask"), "--app", "kiosk", "init"], cwd=code_dir, env=env,
                       check=True, capture_output=True)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [str(BIN / "waitress-serve"), "--host", "127.0.0.1", "--port", str(port),
             "--threads", "8", "--call", "kiosk:create_app"],
            cwd=code_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):
                try:
                    requests.get(base + "/", timeout=5)
                    break
                except requests.RequestException:
                    time.sleep(0.2)
            device = _device_cookie(code_dir, env, base)
            kiosks = [Kiosk(base, device) for _ in range(parallel)]
            with ThreadPoolExecutor(parallel) as pool:
                warm = list(pool.map(lambda k: k.guidance(ordinary), kiosks))
            before = _peak_kb(server.pid)
            started = time.monotonic()
            statuses = []
            with ThreadPoolExecutor(parallel) as pool:
                for _ in range(2):
                    statuses += list(pool.map(lambda k: k.guidance(bomb), kiosks))
            seconds = time.monotonic() - started
            after = _peak_kb(server.pid)
        finally:
            server.terminate()
            server.wait(30)
    return {"warm_up_statuses": sorted(set(warm)), "attack_statuses": sorted(set(statuses)),
            "peak_after_warm_up_mb": round(before / 1024, 1),
            "peak_after_attack_mb": round(after / 1024, 1),
            "growth_mb": round((after - before) / 1024, 1), "attack_seconds": round(seconds, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parallel", type=int, default=8)
    ap.add_argument("--baseline", type=Path, help="another checkout, measured in the same run")
    args = ap.parse_args()
    bomb, ordinary = _progressive_jpeg(), _ordinary_frame()
    out = {"parallel": args.parallel, "bomb_bytes": len(bomb), "limit_mb": 256,
           "this": measure(ROOT, args.parallel, bomb, ordinary)}
    if args.baseline:
        out["baseline"] = measure(args.baseline.resolve(), args.parallel, bomb, ordinary)
        this, base = out["this"]["growth_mb"], out["baseline"]["growth_mb"]
        out["growth_ratio_this_to_baseline"] = round(this / base, 3) if base > 0 else None
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
