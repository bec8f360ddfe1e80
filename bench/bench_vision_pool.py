"""The vision pool against photo analysis in the request threads, in the same run. JSON.

    .venv/bin/python bench/bench_vision_pool.py [--seconds 60] [--vision-kiosks 4]
        [--probes 4] [--server gunicorn|waitress] [--modes 0,auto] [--console-opens 5]

Part 1, the kiosk path, against a real server on 127.0.0.1 (gunicorn as gunicorn.conf.py, 2
processes × 4 threads by default; or waitress as scripts/run.sh) with the REAL eKYC engine,
once per VISION_WORKERS mode ("0" = in the request thread, as before the pool; "auto" = the
pool), each on a fresh SQLite instance:

- ``--vision-kiosks`` kiosks walk registrations without pauses: steps 1–5, then step 6's three
  photos (a synthetic chip CCCD front with a real face, a card back, a selfie of the same face:
  a card read, a portrait cut and a face compare per registration). A «Máy đang bận» answer
  (503 + Retry-After) is waited out and the same photo sent again, as camera.js does.
- ``--probes`` clients ask, every 100 ms, what a kiosk asks all the time and what needs no
  vision: the step page, and the status poll.

Reported per mode: p50/p95/max of every non-vision request (the probes' and the walking
kiosks' steps 1–5), the photo uploads (until accepted), the busy answers, registrations that
reached step 6's verdict, and the server's CPU (web and vision processes).

Part 2, the console path (in process, the real engine, VISION_WORKERS=0): a clerk opens a
case — the review page, the card portrait, the three photos. "stored" = this code (the
findings stored at capture; the engine is asserted not called); "decode" = the engine calls the
review made on every open before findings were stored (a card read of each side and the
portrait cut), timed on the same photos; "first open of an old row" = this code on a case
whose photos have no findings yet (computed once, stored).
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import load  # noqa: E402  (bench/load.py: the server and database helpers)


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def _data_url(data: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(data).decode()


def real_photos() -> dict[str, bytes]:
    """The customer's card front (synthetic chip CCCD with a real face), a card back (the
    front's frame turned over: no QR, no portrait), and a selfie of the same person."""
    import cv2
    import numpy as np

    from tests.faces_data import load as load_face
    from tests.test_wizard_ekyc import SAME, card_frame, selfie

    front = card_frame(SAME[0])
    rng = np.random.default_rng(7)
    # a smooth, card-less frame: a camera photo's size (noise would not compress like one)
    back = cv2.GaussianBlur(rng.integers(60, 200, (720, 1280, 3), dtype=np.uint8), (0, 0), 6)
    ok, buf = cv2.imencode(".jpg", back, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return {"card_front": front, "card_back": buf.tobytes(), "face": selfie(load_face(SAME[1]))}


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def pick(q):
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {"n": len(ordered), "p50_ms": pick(0.50), "p95_ms": pick(0.95),
            "p99_ms": pick(0.99), "max_ms": round(ordered[-1] * 1000, 1)}


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.non_vision: list[float] = []
        self.by_label: dict[str, list[float]] = {}
        self.photos: list[float] = []
        self.busy = 0
        self.errors: dict[str, int] = {}
        self.verdicts = 0

    def time(self, label: str, seconds: float, vision: bool = False):
        with self.lock:
            (self.photos if vision else self.non_vision).append(seconds)
            self.by_label.setdefault(label, []).append(seconds)

    def error(self, why: str):
        with self.lock:
            self.errors[why] = self.errors.get(why, 0) + 1


DEVICE_COOKIE = "kiosk_device"


def enrolled_device(base: str, env: dict, code_dir: Path = ROOT) -> str | None:
    """The device cookie of kiosk quay-01 enrolled on this server, in code where only an
    enrolled kiosk starts registrations (a one-time code from `flask kiosks enroll-code`,
    redeemed at /kiosk/enroll); None in code without enrollment. Every simulated kiosk of the
    run carries it (the server tells kiosks apart by it, not by connection)."""
    import subprocess

    made = subprocess.run([str(load.BIN / "flask"), "--app", "kiosk", "kiosks", "enroll-code",
                           "quay-01", "--url", base], cwd=code_dir, capture_output=True,
                          text=True, env={**os.environ, **env, "PYTHONPATH": str(code_dir)})
    found = re.search(r"/kiosk/enroll\?code=(\S+)", made.stdout)
    if made.returncode != 0 or found is None:
        return None
    browser = requests.Session()
    page = browser.get(f"{base}/kiosk/enroll", timeout=60).text
    browser.post(f"{base}/kiosk/enroll", allow_redirects=False, timeout=60,
                 data={"csrf_token": load._csrf_token(page), "code": found.group(1)})
    return browser.cookies.get(DEVICE_COOKIE)


class Client:
    device: str | None = None  # the enrolled kiosk's device cookie (enrolled_device)

    def __init__(self, base: str, tally: Tally, stop: threading.Event):
        self.base, self.tally, self.stop = base, tally, stop
        self.http = requests.Session()
        if self.device:
            self.http.cookies.set(DEVICE_COOKIE, self.device)
        self.csrf = ""
        self.token = None

    def request(self, label, method, path, vision=False, htmx=True, **kw):
        headers = kw.pop("headers", {})
        if method == "POST":
            headers.setdefault("X-CSRFToken", self.csrf)
            if htmx:
                headers.setdefault("HX-Request", "true")
        began = time.perf_counter()
        answer = self.http.request(method, self.base + path, headers=headers,
                                   allow_redirects=False, timeout=180, **kw)
        elapsed = time.perf_counter() - began
        if answer.status_code == 503 and answer.headers.get("Retry-After"):
            with self.tally.lock:
                self.tally.busy += 1
            return answer, elapsed
        if answer.status_code >= 400:
            self.tally.error(f"{label}: HTTP {answer.status_code}")
            raise RuntimeError(label)
        if not vision:
            self.tally.time(label, elapsed)
        return answer, elapsed

    def start(self):
        html = self.request("0 welcome", "GET", "/")[0].text
        self.csrf = load._csrf_token(html)
        answer, _ = self.request("0 start", "POST", "/start", htmx=False,
                                 data={"csrf_token": self.csrf})
        self.token = re.search(r"/r/([^/]+)/step/1", answer.headers["Location"]).group(1)

    def step(self, n):
        return f"/r/{self.token}/step/{n}"


class VisionKiosk(Client):
    """Walks registrations to step 6's verdict, without pauses."""

    def __init__(self, base, tally, stop, photos, measuring: threading.Event):
        super().__init__(base, tally, stop)
        self.photos, self.measuring = photos, measuring
        self.rng = random.Random(id(self))

    def walk(self):
        self.http.cookies.clear()
        if self.device:
            self.http.cookies.set(DEVICE_COOKIE, self.device)
        self.start()
        self.request("1 view", "GET", self.step(1))
        number = "038085" + f"{self.rng.randrange(10**6):06d}"
        html = self.request("1 account", "POST", self.step(1), data={
            "id_type": "cccd", "id_number": number, "phone": "0912 345 678",
            "consent": "y"})[0].text
        package = re.search(r'name="package" value="(\d+)"', html).group(1)
        self.request("2 package", "POST", self.step(2), data={"package": package})
        self.request("3 personal", "POST", self.step(3), data={
            "full_name": "Nguyễn Văn An", "date_of_birth": "05/09/1985", "gender": "Nam",
            "address": "Số 12 Lê Lai, Phường Điện Biên, TP Thanh Hóa",
            "issue_date": "02/10/2023", "email": "an@example.vn"})
        html = self.request("4 provision", "POST", self.step(4))[0].text
        code = re.search(r"«[^»]*?\b(\d{6})\b", html).group(1)
        self.request("5 code", "POST", self.step(5), data={"code": code})
        self.request("5 password", "POST", self.step(5),
                     data={"password": load.PASSWORD, "password_confirm": load.PASSWORD})
        for kind in ("card_front", "card_back", "face"):
            began = time.perf_counter()
            while not self.stop.is_set():
                answer, _ = self.request(f"6 capture {kind}", "POST",
                                         f"/r/{self.token}/step/6/capture/{kind}", vision=True,
                                         files={"image_data": (None, _data_url(self.photos[kind]))})
                if answer.status_code != 503:
                    break
                time.sleep(float(answer.headers["Retry-After"]))  # as camera.js waits
            if self.measuring.is_set():
                self.tally.time(f"6 capture {kind}", time.perf_counter() - began, vision=True)
        if self.measuring.is_set() and not self.stop.is_set():
            with self.tally.lock:
                self.tally.verdicts += 1

    def run(self):
        while not self.stop.is_set():
            try:
                self.walk()
            except Exception as exc:  # reported, the kiosk starts a new customer
                self.tally.error(f"walk: {type(exc).__name__}: {exc}"[:120])
                self.stop.wait(1.0)


class Probe(Client):
    """The requests every kiosk makes all the time, with no vision: the step page, the poll."""

    def run(self):
        self.start()
        while not self.stop.is_set():
            try:
                self.request("probe step page", "GET", self.step(1))
                self.request("probe status", "GET", f"/r/{self.token}/status")
            except Exception as exc:
                self.tally.error(f"probe: {type(exc).__name__}")
            time.sleep(0.1)


def _tree(pid: int) -> list[int]:
    """``pid`` and every process below it (the vision workers are the web workers' children)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
    return found


def _cpu(pid: int) -> dict:
    """CPU seconds so far of each process of the server: {pid: (kind, seconds)}."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for p in _tree(pid):
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
            cmdline = Path(f"/proc/{p}/cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick
        found[p] = ("vision" if b"multiprocessing" in cmdline else "web", seconds)
    return found


def _cpu_used(before: dict, after: dict) -> dict:
    """CPU seconds used between two readings, by web and vision processes (a process started
    in between counts from zero; one that ended in between is lost: none should)."""
    used = {"web_s": 0.0, "vision_s": 0.0}
    for p, (kind, seconds) in after.items():
        used[f"{kind}_s"] += max(0.0, seconds - before.get(p, (kind, 0.0))[1])
    return {k: round(v, 2) for k, v in used.items()}


def _memory(pid: int) -> dict:
    """Peak resident memory (MB) of each web and vision process of the server now."""
    found = {"web_mb": [], "vision_mb": []}
    for p in _tree(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
            cmdline = Path(f"/proc/{p}/cmdline").read_bytes()
        except OSError:
            continue
        peak = re.search(r"VmHWM:\s+(\d+) kB", status)
        if peak:
            kind = "vision_mb" if b"multiprocessing" in cmdline else "web_mb"
            found[kind].append(round(int(peak.group(1)) / 1024, 1))
    return found


def kiosk_path(mode: str, args, photos, workdir: Path) -> dict:
    log(f"== VISION_WORKERS={mode} on {args.server}")
    db = load.Database("sqlite", ROOT, workdir)
    # what gunicorn.conf.py says to the app (waitress is one web process)
    processes = args.workers if args.server == "gunicorn" else 1
    env = {**db.env, "KIOSK_VISION_WORKERS": mode, "WEB_CONCURRENCY": str(processes),
           "KIOSK_THREADS": str(args.threads)}
    server = load.Server(args.server, ROOT,
                         "wsgi" if args.server == "gunicorn" else "bench_vision_pool",
                         env, argparse.Namespace(workers=args.workers, threads=args.threads,
                                                 keepalive=75,
                                                 waitress_threads=args.threads))
    Client.device = enrolled_device(server.base, db.env)
    tally, stop, measuring = Tally(), threading.Event(), threading.Event()
    kiosks = [VisionKiosk(server.base, tally, stop, photos, measuring)
              for _ in range(args.vision_kiosks)]
    probes = [Probe(server.base, tally, stop) for _ in range(args.probes)]
    threads = [threading.Thread(target=c.run, daemon=True) for c in kiosks + probes]
    try:
        for thread in threads:
            thread.start()
        time.sleep(args.warmup)  # models loaded, caches warm (not measured)
        with tally.lock:
            tally.non_vision.clear(), tally.by_label.clear(), tally.photos.clear()
            tally.busy = 0
        cpu0 = _cpu(server.proc.pid)
        measuring.set()
        time.sleep(args.seconds)
        cpu1 = _cpu(server.proc.pid)
        memory = _memory(server.proc.pid)
        stop.set()
        for thread in threads:
            thread.join(200)
    finally:
        server.stop()
        db.drop()
    labels = {label: _percentiles(v) for label, v in sorted(tally.by_label.items())}
    return {"mode": mode, "server": args.server, "seconds": args.seconds,
            "non_vision": _percentiles(tally.non_vision),
            "photo_until_accepted": _percentiles(tally.photos),
            "busy_answers": tally.busy, "registrations_to_verdict": tally.verdicts,
            "errors": tally.errors, "by_label": labels,
            "cpu": _cpu_used(cpu0, cpu1), "peak_rss": memory}


def console_path(opens: int, workdir: Path) -> dict:
    """The clerk's case in process: stored findings against the old per-open decode."""
    from sqlalchemy import select

    from kiosk.core.extensions import db
    from kiosk.core.models import Evidence
    from kiosk.services.ekyc import EXTENSION_KEY
    from tests.app_factory import make_app
    from tests.kiosk_driver import KioskDriver
    from tests.staff_console import Clerk

    photos = real_photos()
    app = make_app(workdir / "console", VISION_WORKERS=0)
    try:  # where only an enrolled kiosk starts registrations, the test kiosk's browser
        from tests.app_factory import kiosk_client
    except ImportError:
        kiosk_client = None
    kiosk = KioskDriver(kiosk_client(app) if kiosk_client else app.test_client())
    kiosk.walk_to(6)
    for kind in ("card_front", "card_back", "face"):
        kiosk.capture(kind, photos[kind])
    reg = kiosk.registration()
    engine = app.extensions[EXTENSION_KEY]
    calls = []
    for name in ("read_card", "card_portrait_jpeg", "compare"):
        real = getattr(engine, name)
        setattr(engine, name, lambda *a, _r=real, _n=name, **k: (calls.append(_n), _r(*a, **k))[1])
    clerk = Clerk(app)
    with app.app_context():
        rows = {r.kind: (r.id, r.content) for r in db.session.scalars(
            select(Evidence).where(Evidence.registration_id == reg.id))}

    def open_case():
        clerk.html(f"/staff/review/{reg.number}")
        clerk.get(f"/staff/r/{reg.number}/evidence/{rows['card_front'][0]}/portrait")
        for evidence_id, _ in rows.values():
            clerk.get(f"/staff/r/{reg.number}/evidence/{evidence_id}")

    def measure(fn, n):
        walls, cpus = [], []
        for _ in range(n):
            w, c = time.perf_counter(), time.process_time()
            fn()
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
        return {"wall": _percentiles(walls), "cpu_ms_mean": round(1000 * sum(cpus) / n, 1)}

    def old_decode():  # what the review did on each open before: read both sides, cut again
        for kind in ("card_front", "card_back"):
            engine.read_card(rows[kind][1])
        engine.card_portrait_jpeg(rows["card_front"][1])

    open_case()  # warm (templates, the first portrait already stored)
    calls.clear()
    stored = measure(open_case, opens)
    stored["engine_calls"] = len(calls)
    decode = measure(old_decode, opens)

    def clear_findings():
        with app.app_context():
            for row in db.session.scalars(select(Evidence).where(
                    Evidence.registration_id == reg.id)):
                row.findings = row.preview = row.portrait = None
            db.session.commit()

    firsts = []
    for _ in range(min(opens, 3)):
        clear_findings()
        firsts.append(measure(open_case, 1)["wall"]["max_ms"])
    return {"stored": stored, "decode_before": decode,
            "first_open_of_old_row_ms": firsts}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=20)
    parser.add_argument("--vision-kiosks", type=int, default=4)
    parser.add_argument("--probes", type=int, default=4)
    parser.add_argument("--server", choices=("gunicorn", "waitress"), default="gunicorn")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--modes", default="0,auto")
    parser.add_argument("--console-opens", type=int, default=5)
    args = parser.parse_args(argv)
    photos = real_photos()
    report = {"machine": load.machine(), "args": vars(args), "kiosk_path": [],
              "console_path": None}
    with tempfile.TemporaryDirectory(prefix="bench-pool-") as tmp:
        for mode in args.modes.split(","):
            if mode:
                report["kiosk_path"].append(kiosk_path(mode, args, photos, Path(tmp)))
        if args.console_opens:
            report["console_path"] = console_path(args.console_opens, Path(tmp))
    json.dump(report, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


def create():
    """waitress's ``--call`` factory (bench/load.py's Server asks for ``<module>:create``)."""
    from kiosk import create_app

    return create_app()


if __name__ == "__main__":
    sys.exit(main())
