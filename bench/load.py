"""Load benchmark: N simulated kiosks walking whole registrations against a real server.

    .venv/bin/python bench/load.py --kiosks 10,50,100 > load.json

Every kiosk is a thread with its own cookies (its own browser) that walks a whole
registration the way the kiosk's htmx screens do: welcome, start, steps 1–9 (19 requests,
step 6 = three photos and the clerk's confirmation, the done screen with its two QR codes).
Step 6's face comparison is scripted (bench/load_app.py: "review" at once, then the clerk
confirms), so the figures are the web and database path, not OpenCV. Image checks, argon2id of
the clerk's password, the password and PIN rules (sent to the sandbox backend, never stored)
and all PDFs are real.

Modes: ``paced`` (a customer reads and types: a random pause of --pause seconds before every
action) and ``stress`` (no pauses). Servers: gunicorn (gunicorn.conf.py, workers = cores) and
waitress (as scripts/run.sh). Databases: SQLite in a fresh instance folder, PostgreSQL in a
fresh database on the local server (dropped afterwards). ``--codes`` runs other commits of the
kiosk in the same run (exported with git archive), e.g. ``--codes this,6a83500`` for today's
main. Baseline: a one-template Flask app (bench/baseline_app.py) under the same server,
kiosk count and pacing.

``--vision real``: the server runs the real eKYC engine (bench/load_app.py holds only its
decision at «review», so every walk still goes through the clerk), and each walk sends what a
kiosk's camera sends: a drawn chip CCCD front and back (tests/support/synthetic.py) carrying the
walk's own identity — the data the walk types — and a face photo of ../shared/testdata/faces
(evaluation split, read from there at run time; $KIOSK_FACE_DATA moves it) as the card's
portrait, another photo of the same person in a 1280×720 webcam frame as the face, each a JPEG
of quality 92 as camera.js shoots it, every walk its own pictures (nothing the server keeps
from one walk helps the next), and ``--previews`` preview frames before each card photo (as
guidance.js posts them, each with the corners the last answer gave: the same picture again, so
every frame after the first finds the card where it was, the best case of a card held still;
the photo goes with the last answer's corners, as the camera form sends them). The summary then reports CPU seconds per registration (the server's
process tree, from /proc), vision and non-vision request times, and each worker's memory.
``--clerk console``: the clerk works each case from the console's queue (the review page with
the card portrait, then approve) on a second server process over the same database, so the
console's CPU per registration is reported apart (``console``).

Loops are bounded: each kiosk does --registrations (paced) or --stress-registrations walks and
stops; --max-seconds ends a configuration (unfinished walks are reported, not hidden). Only
127.0.0.1 is used. JSON on stdout; progress on stderr.

``--spread``: every request on a new connection. A kiosk otherwise keeps one connection, and
so one gunicorn web process; behind nginx (docs/deploy.md) its requests reach any web process,
since nginx shares its upstream connections among all clients. Each web process has its own
vision pool, so this is what shows a job that lands where the photos it needs were not read.

``--upstream N``: all kiosks share N kept-alive connections, as nginx's ``keepalive N`` upstream
pool does (docs/deploy.md keeps 16): a request takes any idle one, a connection is opened when
none is idle and closed after use when N are already idle. Requests reach either web process,
as with ``--spread``, without a new connection each time. ``--spread`` is the harsher of the
two (every request pays gunicorn's accept and close); ``--upstream 16`` is the deployment the
docs describe. The baseline app is walked the same way.
"""
from __future__ import annotations

import argparse
import contextlib
import html as htmllib
import json
import os
import platform
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
STAFF = ("bench.clerk", "Bench@2026x")
PASSWORD = "Hoa@1234"
PIN = "908172"
# Steps where the real kiosk runs vision (scripted here, but kept apart in the summary).
VISION_STEPS = {"6 capture card_front", "6 capture card_back", "6 capture face", "6 preview"}
PG_SERVER = os.environ.get("KIOSK_TEST_POSTGRES",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ---- the kiosk's requests ------------------------------------------------------------------

def _jpeg(seed: int) -> bytes:
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return buf.tobytes()


def _signature_png() -> bytes:
    import cv2
    import numpy as np

    image = np.full((200, 600), 255, np.uint8)
    cv2.line(image, (40, 150), (560, 60), 0, 6)
    cv2.line(image, (60, 60), (300, 170), 0, 5)
    return cv2.imencode(".png", image)[1].tobytes()


def _data_url(mime: str, data: bytes) -> str:
    import base64

    return f"data:{mime};base64," + base64.b64encode(data).decode()


PHOTOS = {kind: _data_url("image/jpeg", _jpeg(i)) for i, kind in
          enumerate(("card_front", "card_back", "face"))}
SIGNATURE = _data_url("image/png", _signature_png())

# What the scripted walk types (its photos carry nothing to compare it with).
PERSON = {"full_name": "Nguyễn Văn An", "date_of_birth": "05/09/1985", "gender": "Nam",
          "address": "Số 12 Lê Lai, Phường Điện Biên, TP Thanh Hóa", "issue_date": "20/04/2021"}


class RealPhotos:
    """``--vision real``: one walk's pictures and the identity they show, drawn in advance
    (the client's drawing is not the server's CPU). Thread-safe; each walk takes its own."""

    def __init__(self, count: int, seed: int):
        sys.path[:0] = [str(ROOT), str(HERE)]
        from profile_vision import pairs

        self.people = pairs("evaluation")
        self.lock = threading.Lock()
        self.sets = [self._draw(seed * 1000 + i) for i in range(count)]
        self.next = 0

    def _draw(self, seed: int) -> dict:
        from datetime import date

        import cv2
        import numpy as np
        from profile_vision import jpeg, webcam_frame

        from tests.support.synthetic import (
            place_in_scene,
            random_holder,
            render_back,
            render_card_front,
        )

        rng = np.random.default_rng(seed)
        card_file, face_file = self.people[seed % len(self.people)]
        # issued 2023: valid whatever day the bench runs (a 1985-born's 2021 card expired at 40)
        fields = {**random_holder(rng), "id_number": "038085" + f"{seed % 10**6:06d}",
                  "old_id_number": None, "full_name": PERSON["full_name"],
                  "date_of_birth": date(1985, 9, 5), "gender": "Nam",
                  "address": PERSON["address"], "issue_date": date(2023, 10, 2)}
        scene = dict(rotation_deg=3.0, perspective=(4.0, 3.0), blur=0.4, noise=1.5, light=0.1,
                     brightness=0.95, occluder=False)
        portrait = cv2.imread(str(card_file), cv2.IMREAD_COLOR)
        front, _ = place_in_scene(render_card_front(fields, portrait, seed=seed), (1280, 720),
                                  seed, **scene)
        back, _ = place_in_scene(render_back(fields, seed=seed), (1280, 720), seed + 1, **scene)
        face = webcam_frame(cv2.imread(str(face_file), cv2.IMREAD_COLOR))
        return {
            "photos": {"card_front": _data_url("image/jpeg", jpeg(front)),
                       "card_back": _data_url("image/jpeg", jpeg(back)),
                       "face": _data_url("image/jpeg", jpeg(face))},
            "frames": {"card_front": jpeg(front), "card_back": jpeg(back)},
            "id_number": fields["id_number"],
            "person": {**PERSON, "issue_date": "02/10/2023"},
        }

    def take(self) -> dict:
        with self.lock:
            found = self.sets[self.next % len(self.sets)]
            self.next += 1
            return found


def _csrf_token(html: str) -> str:
    """The page's CSRF token: the form field, or the meta tag older checkouts used."""
    found = (re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', html)
             or re.search(r'"X-CSRFToken":\s*"([^"]+)"', html)
             or re.search(r'name="csrf-token" content="([^"]+)"', html))
    return found.group(1)


# Per-registration resources a screen embeds: images (photos; document page images in older
# code), the PDF the document viewer draws (data-doc-src), an <iframe>/<object> PDF in older code.
# An element htmx keeps across a swap (hx-preserve, by its id): the browser does not load it again.
PRESERVED = re.compile(r'<[a-z]+\b(?=[^>]*\bhx-preserve\b)[^>]*?\bid="([^"]+)"'
                       r'|<[a-z]+\b(?=[^>]*\bid="([^"]+)")[^>]*?\bhx-preserve\b')
EMBEDDED = re.compile(r'<(?:img|iframe|embed)\b[^>]*?\bsrc="(/r/[^"]+)"|<object\b[^>]*?\bdata="(/r/[^"]+)"'
                      r'|\bdata-doc-src="(/r/[^"]+)"')


class StepFailed(Exception):
    pass


class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.samples: list[str] = []
        self.finished = 0
        self.unfinished = 0
        self.busy: dict[str, int] = defaultdict(int)  # «Máy đang bận» answers, retried

    def busy_answer(self, label: str):
        with self.lock:
            self.busy[label] += 1

    def timing(self, label: str, seconds: float):
        with self.lock:
            self.times[label].append(seconds)

    def error(self, label: str, why: str):
        with self.lock:
            self.errors[label] += 1
            if len(self.samples) < 10:
                self.samples.append(f"{label}: {why}"[:300])


def enroll_kiosk(base: str, code: str | None) -> str | None:
    """Redeem the seeded kiosk's one-time code as the kiosk's browser would; the device cookie
    it sets is then carried by every simulated kiosk (one enrolled kiosk PC, many browsers:
    what the server checks per request is the same indexed look-up)."""
    if code is None:
        return None
    with requests.Session() as http:
        page = http.get(f"{base}/kiosk/enroll", params={"code": code}, timeout=30)
        answer = http.post(f"{base}/kiosk/enroll", timeout=30, allow_redirects=False,
                           data={"code": code, "csrf_token": _csrf_token(page.text)},
                           headers={"Origin": base})
        token = answer.cookies.get(KIOSK_COOKIE)
        if not token:
            raise RuntimeError(f"kiosk enrollment refused: HTTP {answer.status_code}")
        return token


KIOSK_COOKIE = "kiosk_device"


class Kiosk:
    """One kiosk browser (its own cookies) walking registrations."""

    device_token: str | None = None  # set once per configuration by enroll_kiosk
    spread = False  # --spread: a new connection per request (a proxy's pooled upstreams)
    upstream = 0  # --upstream N: every kiosk shares N kept-alive connections (nginx's keepalive)
    _shared: requests.adapters.HTTPAdapter | None = None

    @classmethod
    def shared_connections(cls) -> requests.adapters.HTTPAdapter:
        """The connections every kiosk shares under --upstream: at most ``upstream`` kept idle,
        more opened when all are busy (nginx's keepalive caps the idle ones, not the open)."""
        if cls._shared is None:
            cls._shared = requests.adapters.HTTPAdapter(pool_connections=4,
                                                        pool_maxsize=cls.upstream,
                                                        pool_block=False)
        return cls._shared

    def __init__(self, base: str, results: Results, rng: random.Random, pause, hard_deadline):
        self.base, self.results, self.rng = base, results, rng
        self.pause, self.hard_deadline = pause, hard_deadline
        self.http = requests.Session()
        if self.upstream:
            self.http.mount("http://", self.shared_connections())
        if self.device_token:
            self.http.cookies.set(KIOSK_COOKIE, self.device_token, domain="127.0.0.1")
        self.csrf = None
        self.on_screen: set[str] = set()  # ids of hx-preserve elements the screen shows
        self.clerk: Clerk | None = None  # None: the clerk confirms on the kiosk (step 6 form)
        self.real_photos: RealPhotos | None = None  # None: the scripted photos (PHOTOS)
        self.previews = 0  # preview frames posted before each card photo (--vision real)

    def _think(self):
        if self.pause:
            time.sleep(self.rng.uniform(*self.pause))

    def call(self, label, method, path, think=True, expect_next=None, htmx=True,
             missing_ok=False, **kw):
        if think:
            self._think()
        if time.monotonic() > self.hard_deadline:
            raise TimeoutError("configuration time is up")
        # a GET without HX-Request loads a whole page: nothing stays from the screen before
        whole_page = method == "GET" and not (kw.get("headers") or {}).get("HX-Request")
        response = self.send(label, method, path, expect_next, htmx, missing_ok, **kw)
        if "html" in response.headers.get("Content-Type", ""):
            if whole_page:
                self.on_screen = set()
            self._embedded(response.text)
        return response

    def send(self, label, method, path, expect_next=None, htmx=True, missing_ok=False, **kw):
        """One request, timed and checked (what profile_walk.py measures per label)."""
        headers = kw.pop("headers", {})
        if self.spread:
            headers.setdefault("Connection", "close")
        if method == "POST":
            headers.setdefault("X-CSRFToken", self.csrf or "")
            if htmx:
                headers.setdefault("HX-Request", "true")
        start = time.perf_counter()
        while True:
            try:
                response = self.http.request(method, self.base + path, headers=headers,
                                             allow_redirects=False, timeout=120, **kw)
            except requests.RequestException as exc:
                self.results.error(label, type(exc).__name__)
                raise StepFailed(label) from exc
            # «Máy đang bận» (the vision pool's queue is full): the kiosk's browser sends the
            # same photo again after Retry-After, and so does this one. The step's time is
            # what the customer waited, retries included; the answers are counted apart.
            wait = response.headers.get("Retry-After")
            if (response.status_code != 503 or not wait or not wait.isdigit()
                    or time.perf_counter() - start > 120):
                break
            self.results.busy_answer(label)
            time.sleep(int(wait))
        self.results.timing(label, time.perf_counter() - start)
        if response.status_code == 404 and missing_ok:
            return response  # a browser shows an empty frame (e.g. no portrait found)
        if response.status_code >= 400:
            snippet = re.sub(r"\s+", " ", response.text[:200])
            self.results.error(label, f"HTTP {response.status_code} {snippet}")
            raise StepFailed(label)
        if expect_next is not None:
            moved = response.headers.get("HX-Push-Url", "") + response.headers.get("HX-Redirect", "")
            if expect_next not in moved:
                # what the screen says (its first alert), so that a refusal can be told apart
                said = re.search(r'role="alert"[^>]*>\s*([^<]{1,160})', response.text)
                self.results.error(label, f"not accepted (stayed; wanted {expect_next})"
                                   + (f": {said.group(1).strip()}" if said else ""))
                raise StepFailed(label)
        return response

    def _embedded(self, html: str):
        """What a browser loads with the screen: the images and documents it generates per
        registration (the PDF the document viewer draws — every page is in it; the photos just
        taken; document page images in older code, every page, as the customer scrolls;
        static files and the app-store QR codes are the same for everyone and cached)."""
        # Lazy images in a closed <details> are not loaded until the customer opens it.
        html = re.sub(r"<details(?![^>]*\bopen\b).*?</details>", "", html, flags=re.S)
        # htmx keeps an hx-preserve element that was on the screen (same id) instead of the
        # new copy: its picture is not loaded again.
        # (Kept only from the screen just before: a partial that swaps something else in
        # between makes the next screen fetch them all again, which may count a fetch too many,
        # never one too few.)
        preserved = {a or b for a, b in PRESERVED.findall(html)}
        kept, self.on_screen = self.on_screen & preserved, preserved
        for found in EMBEDDED.finditer(html):
            element = re.search(r'\bid="([^"]+)"', found.group(0))
            if element is not None and element.group(1) in kept:
                continue
            src = found.group(1) or found.group(2) or found.group(3)
            label = ("document pdf" if src.endswith(".pdf") else
                     "page image" if "/document/" in src else "photo")
            self.call(label, "GET", src.replace("&amp;", "&"), think=False, missing_ok=True)

    def begin_session(self) -> str:
        """How a kiosk's customer session begins: the welcome screen, then «Bắt đầu». Returns
        step 1's address. The one place to change when a kiosk must first be enrolled (a
        one-time code redeemed before /start works)."""
        html = self.call("0 welcome", "GET", "/").text
        self.csrf = _csrf_token(html)
        r = self.call("0 start", "POST", "/start", data={"csrf_token": self.csrf}, htmx=False)
        return r.headers["Location"]

    def register(self, serial: int):
        shots = self.real_photos.take() if self.real_photos is not None else None
        step1 = self.begin_session()
        token = re.search(r"/r/([^/]+)/step/1", step1).group(1)
        self.call("1 view", "GET", step1, think=False)

        def step(n):
            return f"/r/{token}/step/{n}"

        id_number = (shots["id_number"] if shots is not None
                     else "038085" + f"{self.rng.randrange(10**6):06d}")
        person = shots["person"] if shots is not None else PERSON
        photos = shots["photos"] if shots is not None else PHOTOS
        html = self.call("1 account", "POST", step(1), expect_next="/step/2", data={
            "id_type": "cccd", "id_number": id_number, "phone": "0912 345 678",
            "consent": "y"}).text
        package = re.search(r'name="package" value="(\d+)"', html).group(1)
        self.call("2 package", "POST", step(2), expect_next="/step/3", data={"package": package})
        html = self.call("3 personal", "POST", step(3), expect_next="/step/4", data={
            **person, "email": f"kiosk{serial}@example.vn"}).text
        html = self.call("4 provision", "POST", step(4), expect_next="/step/5").text
        code = re.search(r"«[^»]*?\b(\d{6})\b", html)
        if code is None:
            self.results.error("4 provision", "no sandbox code on the screen")
            raise StepFailed("4 provision")
        self.call("5 code", "POST", step(5), data={"code": code.group(1)})
        html = self.call("5 password", "POST", step(5), expect_next="/step/6",
                         data={"password": PASSWORD, "password_confirm": PASSWORD}).text
        for kind in ("card_front", "card_back", "face"):
            track = None
            if shots is not None and kind in shots["frames"]:
                # where guidance.js posts them: the camera form's own address (which may say
                # which photo is being taken), else the one every version answers
                found = re.search(r'data-guidance-url="([^"]+)"', html)
                url = htmllib.unescape(found.group(1)) if found else f"/r/{token}/guidance"
                # guidance.js sends back where the last answer found the card
                for _ in range(self.previews):  # guidance.js: a frame every 300 ms
                    answer = self.call(
                        "6 preview", "POST", url, think=False,
                        data={"track": track} if track else None,
                        files={"frame": ("frame.jpg", shots["frames"][kind], "image/jpeg")})
                    track = (answer.json() or {}).get("track")
            # as camera.js posts it: a text field of a multipart form, with the form's other
            # fields; where the page has a [data-card-track] field, guidance.js left the last
            # answer's corners in it (the photo is the frames' size here: no scaling)
            fields = {"image_data": (None, photos[kind])}
            if track and "data-card-track" in html:
                fields["track"] = (None, track)
            html = self.call(f"6 capture {kind}", "POST", f"/r/{token}/step/6/capture/{kind}",
                             files=fields).text
        if self.clerk is None:  # the clerk walks over and confirms on the kiosk's screen
            self.call("6 clerk confirms", "POST", step(6), expect_next="/step/7", data={
                "staff_username": STAFF[0], "staff_password": STAFF[1], "verdict": "confirm"})
        else:  # the kiosk waits; the clerk approves from the console's review queue
            number = re.search(r"Mã hồ sơ: <strong>([^<]+)</strong>", html)
            if number is None:
                self.results.error("6 capture face", "not waiting for a clerk")
                raise StepFailed("6 capture face")
            self.clerk.approve(number.group(1), think=self._think)
            moved = self.call("6 waiting (poll)", "GET", f"/r/{token}/help", think=False,
                              headers={"HX-Request": "true"})
            if "/step/7" not in moved.headers.get("HX-Redirect", ""):
                self.results.error("6 waiting (poll)", "still waiting after the approval")
                raise StepFailed("6 waiting (poll)")
            self.call("7 view", "GET", step(7), think=False, htmx=False)
        self.call("7 contract", "POST", step(7), expect_next="/step/8",
                  data={"signature": SIGNATURE})
        self.call("8 pin", "POST", step(8), expect_next="/step/9",
                  data={"pin": PIN, "pin_confirm": PIN})
        # the certificate's information first («Thông tin này đúng»), then the acceptance
        self.call("9 certificate", "POST", step(9), data={"certificate": "confirm"})
        r = self.call("9 acceptance", "POST", step(9), expect_next="/done",
                      data={"signature": SIGNATURE})
        self.call("10 done", "GET", r.headers["HX-Redirect"], think=False)

    def run(self, walks: int, serial0: int):
        for i in range(walks):
            try:
                self.register(serial0 + i)
                with self.results.lock:
                    self.results.finished += 1
            except StepFailed:
                self.http.cookies.clear()  # the next walk starts as a fresh customer
            except TimeoutError:
                with self.results.lock:
                    self.results.unfinished += 1
                return
            except Exception as exc:  # a bug in this script must show, not hang the run
                self.results.error("client", repr(exc))


class Clerk:
    """The clerk at the console, signed in once: approves the registrations the machine sent
    to review, one at a time (one clerk for the whole office)."""

    def __init__(self, base: str, results: Results, hard_deadline: float):
        self.http = Kiosk(base, results, random.Random(0), None, hard_deadline)
        self.lock = threading.Lock()
        self.signed_in = False

    def approve(self, number: str, think):
        think()  # the clerk sees the case in the queue and looks at the photos
        with self.lock:
            console = self.http
            if not self.signed_in:
                console.csrf = _csrf_token(console.call("clerk login", "GET", "/staff/login").text)
                console.call("clerk login", "POST", "/staff/login", htmx=False, data={
                    "csrf_token": console.csrf, "username": STAFF[0], "password": STAFF[1]})
                self.signed_in = True
            html = console.call("clerk opens case", "GET", f"/staff/review/{number}").text
            console.csrf = _csrf_token(html)
            console.call("clerk approves", "POST", f"/staff/review/{number}/approve",
                         htmx=False, data={"csrf_token": console.csrf})


class BaselineClient(Kiosk):
    """The same pacing and request count against the one-template app."""

    def register(self, serial: int):
        for i in range(19):
            self.call("baseline", "GET" if i % 2 else "POST", f"/step/{i}",
                      think=i not in (2, 17, 18), htmx=False)


# ---- servers -------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def _descendants(pid: int) -> list[int]:
    """Children, grandchildren…: gunicorn's workers and each worker's vision processes."""
    found, todo = [], [pid]
    while todo:
        kids = _children(todo.pop())
        found += kids
        todo += kids
    return found


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


class Server:
    def __init__(self, kind: str, code_dir: Path, module: str, env: dict, args):
        self.kind, self.port = kind, _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, **env, "PYTHONPATH": f"{code_dir}:{HERE}"}
        if (ROOT / "models").is_dir():
            # the face models scripts/setup.sh installed (pinned by hash): an exported commit
            # has none of its own, and without them its face comparison fails at once
            env.setdefault("KIOSK_FACE_MODELS_DIR", str(ROOT / "models"))
        if kind == "gunicorn":
            cmd = [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                   "--bind", f"127.0.0.1:{self.port}", "--workers", str(args.workers),
                   # no access log, as gunicorn.conf.py has it (the app logs each request
                   # itself): gunicorn formatting a line per request for /dev/null is CPU
                   # no deployment spends
                   *(["--threads", str(args.threads)] if args.threads else []),
                   "--keep-alive", str(args.keepalive),
                   f"{module}:app"]
        else:
            cmd = [str(BIN / "waitress-serve"), "--host", "127.0.0.1", "--port", str(self.port),
                   "--threads", str(args.waitress_threads), "--call", f"{module}:create"]
        # Closed in stop(): the server writes to it for the whole configuration.
        self.log = tempfile.NamedTemporaryFile("w+", prefix=f"load-{kind}-", suffix=".log")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, cwd=code_dir, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(self.base + "/", timeout=5)
                break
            except requests.RequestException:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.3)
        else:
            self.stop()
            raise RuntimeError(f"{kind} did not start")
        if self.proc.poll() is not None:
            self.log.seek(0)
            raise RuntimeError(f"{kind} exited: {self.log.read()[-2000:]}")
        self.workers = _children(self.proc.pid) if kind == "gunicorn" else [self.proc.pid]

    def cpu_seconds(self) -> float:
        """CPU of the whole process tree: the master, its workers, their vision processes (the
        photo analysis runs there), and any of them that already exited (reaped: counted in
        its parent's cutime/cstime)."""
        return sum(self.cpu_seconds_by_role().values())

    def cpu_seconds_by_role(self) -> dict[str, float]:
        """The same CPU split: ``web`` (the master and the processes serving requests) and
        ``vision`` (the web processes' own children: the vision pool)."""
        tick = os.sysconf("SC_CLK_TCK")
        web = [self.proc.pid, *(_children(self.proc.pid) if self.kind == "gunicorn" else [])]
        vision = [pid for parent in web[1:] or web for pid in _children(parent)]
        totals = {}
        for role, pids in (("web", web), ("vision", vision)):
            ticks = 0
            for pid in pids:
                with contextlib.suppress(OSError):
                    # utime stime cutime cstime: a child's is counted once it is reaped, so
                    # a web process's own share excludes its live vision processes
                    ticks += sum(int(v) for v in _stat(pid)[11:15])
            totals[role] = ticks / tick
        return totals

    def vision_rss_mb(self) -> list[float]:
        """Each vision process's resident memory now (the workers' children), MB."""
        workers = _children(self.proc.pid) if self.kind == "gunicorn" else [self.proc.pid]
        sizes = []
        for worker in workers:
            for pid in _descendants(worker):
                with contextlib.suppress(OSError, StopIteration):
                    status = Path(f"/proc/{pid}/status").read_text()
                    line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
                    sizes.append(round(int(line.split()[1]) / 1024, 1))
        return sizes

    def peak_rss_mb(self, field: str = "VmHWM") -> list[float]:
        """Each worker's peak resident memory (``VmRSS``: its memory now), MB."""
        peaks = []
        for pid in _children(self.proc.pid) if self.kind == "gunicorn" else [self.proc.pid]:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            peaks.append(round(int(re.search(rf"{field}:\s+(\d+)", status).group(1)) / 1024, 1))
        return peaks

    def log_size(self) -> int:
        """Where the server's log ends now (read by name later: the server shares the file
        offset of self.log, which a read through it would move)."""
        return os.path.getsize(self.log.name)

    def access_lines(self, since: int) -> list[dict]:
        """The app's per-request lines (kiosk.access, JSON) written after byte ``since``."""
        found = []
        with open(self.log.name, "rb") as f:
            f.seek(since)
            for raw in f:
                if b'"kiosk.access"' not in raw:
                    continue
                with contextlib.suppress(ValueError):
                    found.append(json.loads(raw))
        return found

    def log_tail(self, lines: int = 15) -> list[str]:
        """The server's last log lines (kept in the report when a configuration had errors)."""
        with open(self.log.name, encoding="utf-8", errors="replace") as f:
            return [line.rstrip()[:300] for line in f.read().splitlines()[-lines:]]

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


# ---- databases -----------------------------------------------------------------------------

class Database:
    """A fresh database for one configuration, migrated and seeded by the code under test."""

    def __init__(self, kind: str, code_dir: Path, workdir: Path):
        self.kind, self.admin, self.name = kind, None, None
        self.instance = workdir / f"instance-{secrets.token_hex(3)}"
        self.instance.mkdir()
        if kind == "sqlite":
            self.url = f"sqlite:///{self.instance / 'kiosk.sqlite'}"
        else:
            import sqlalchemy as sa

            self.admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
            self.name = "kiosk_bench_" + secrets.token_hex(4)
            with self.admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
            self.url = sa.engine.make_url(PG_SERVER).set(database=self.name).render_as_string(
                hide_password=False)
        self.env = {"KIOSK_INSTANCE_PATH": str(self.instance), "DATABASE_URL": self.url}
        env = {**os.environ, **self.env, "PYTHONPATH": str(code_dir)}
        flask = [str(BIN / "flask"), "--app", "kiosk"]
        subprocess.run([*flask, "init"], cwd=code_dir, env=env, check=True,
                       capture_output=True)
        subprocess.run([*flask, "create-staff", STAFF[0], "--full-name", "Nhân viên thử",
                        "--password-stdin"], input=STAFF[1] + "\n", text=True, cwd=code_dir,
                       env=env, check=True, capture_output=True)
        # Code that serves only enrolled kiosks: a one-time code for the seeded kiosk, redeemed
        # once over HTTP when the server is up (enroll_kiosks). Older code has no such command.
        made = subprocess.run([*flask, "kiosks", "enroll-code", "quay-01"], cwd=code_dir,
                              env=env, capture_output=True, text=True)
        found = re.search(r"code=([A-Za-z0-9]+)", made.stdout) if made.returncode == 0 else None
        self.enroll_code = found.group(1) if found else None

    def drop(self):
        if self.admin is not None:
            import sqlalchemy as sa

            with self.admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self.admin.dispose()


# ---- one configuration ---------------------------------------------------------------------

def _percentiles(values: list[float]) -> dict:
    ordered = sorted(values)

    def pick(q):
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {"n": len(ordered), "p50_ms": pick(0.50), "p95_ms": pick(0.95),
            "max_ms": round(ordered[-1] * 1000, 1)}


def server_side(lines: list[dict], top: int = 12) -> dict:
    """The server's own view of the same requests, from its access lines: time in the app and
    the CPU of the request's thread, per endpoint (the slowest by p95 first). Far more wall than
    CPU at the p95 means the request waited (another thread holding the GIL, the database, a
    connection); the client's figures add the network and the client's own scheduling."""
    by_endpoint: dict[str, list[tuple[float, float | None]]] = defaultdict(list)
    for line in lines:
        if line.get("group") == "static":
            continue
        key = f'{line.get("method")} {line.get("endpoint")}'
        cpu = line.get("cpu_ms")  # absent in code older than the field
        by_endpoint[key].append((float(line.get("duration_ms") or 0) / 1000,
                                 float(cpu) / 1000 if cpu is not None else None))
    summary = {}
    for key, pairs in by_endpoint.items():
        cpus = [c for _, c in pairs if c is not None]
        summary[key] = {"wall": _percentiles([w for w, _ in pairs]),
                        "cpu": _percentiles(cpus) if cpus else None}
    ranked = sorted(summary.items(), key=lambda kv: -kv[1]["wall"]["p95_ms"])
    return dict(ranked[:top])


def web_cpu_by_endpoint(lines: list[dict], registrations: int, web_cpu_s: float) -> dict | None:
    """Where the web processes' CPU goes, in ms a registration: the request threads' own CPU
    summed per endpoint (the largest first), and ``outside_requests``, what the web processes
    spent beyond all of them (the server's loop, the pool's feeder threads, the garbage
    collector, the master)."""
    if not registrations:
        return None
    totals: dict[str, float] = defaultdict(float)
    for line in lines:
        if line.get("cpu_ms") is None:
            continue
        totals[f'{line.get("method")} {line.get("endpoint")}'] += float(line["cpu_ms"])
    in_requests = sum(totals.values())
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    return {"requests_ms": {k: round(v / registrations, 1) for k, v in ranked},
            "in_requests_ms": round(in_requests / registrations, 1),
            "outside_requests_ms": round((web_cpu_s * 1000 - in_requests) / registrations, 1)}


def _group(results: Results, labels) -> dict | None:
    """p50/p95 over every request of these labels together."""
    values = [x for label, v in results.times.items() if label in labels for x in v]
    return _percentiles(values) if values else None


def drive(server: Server, client_cls, kiosks: int, walks: int, pause, max_seconds: float,
          seed: int, warmup: int = 0, clerk: str = "kiosk", real_photos=None, previews: int = 0,
          console_server: Server | None = None) -> dict:
    """One configuration. ``console_server``: with ``clerk="console"``, the console's own
    server process (same database), whose CPU is reported apart."""
    console_base = (console_server or server).base

    def kiosk_for(results, rng, pause, deadline, console):
        kiosk = client_cls(server.base, results, rng, pause, deadline)
        kiosk.clerk = console
        kiosk.real_photos, kiosk.previews = real_photos, previews
        return kiosk

    # Warm-up walks (not counted): every worker imports, compiles templates, registers fonts.
    # Concurrent, each on its own connection: one keep-alive connection stays on one worker.
    warm = Results()
    warm_console = Clerk(console_base, warm, time.monotonic() + 300) if clerk == "console" else None
    warmers = [threading.Thread(target=kiosk_for(
        warm, random.Random(-seed - i), None, time.monotonic() + 300, warm_console).run,
        args=(1, 10**6 + i)) for i in range(warmup)]
    for t in warmers:
        t.start()
    for t in warmers:
        t.join(300)
    results = Results()
    hard_deadline = time.monotonic() + max_seconds
    roles0, t0 = server.cpu_seconds_by_role(), time.monotonic()
    log_start = server.log_size()
    console_cpu0 = console_server.cpu_seconds() if console_server is not None else 0.0
    threads = []
    console = Clerk(console_base, results, hard_deadline) if clerk == "console" else None
    for k in range(kiosks):
        rng = random.Random(seed * 1000 + k)
        kiosk = kiosk_for(results, rng, pause, hard_deadline, console)
        threads.append(threading.Thread(target=kiosk.run, args=(walks, k * walks), daemon=True))
    # Paced: starts spread over one walk's length, so kiosks are at random steps (customers
    # arrive independently) instead of all reaching the argon2 and PDF steps together.
    spread = 18 * sum(pause) / 2 if pause else 0.0
    for t in threads:
        t.start()
        time.sleep(spread / max(kiosks, 1))
    for t in threads:
        t.join(max(0.0, hard_deadline - time.monotonic()) + 150)
    wall = time.monotonic() - t0
    roles = {role: value - roles0.get(role, 0.0)
             for role, value in server.cpu_seconds_by_role().items()}
    cpu = sum(roles.values())
    console_cpu = console_server.cpu_seconds() - console_cpu0 if console_server is not None else None
    server_log = server.log_tail() if results.errors else []
    requests_done = sum(len(v) for v in results.times.values())
    steps = {label: _percentiles(v) for label, v in sorted(results.times.items())}
    access = server.access_lines(log_start)
    return {
        "registrations": results.finished,
        "unfinished": results.unfinished,
        "errors": sum(results.errors.values()),
        "errors_by_step": dict(results.errors),
        "busy_answers_by_step": dict(results.busy),
        "error_samples": results.samples,
        "requests": requests_done,
        "wall_s": round(wall, 1),
        "registrations_per_min": round(results.finished / wall * 60, 1) if wall else 0,
        "cpu_s": round(cpu, 2),
        "cpu_s_per_registration": round(cpu / results.finished, 3) if results.finished else None,
        "cpu_s_per_registration_by_role": ({role: round(v / results.finished, 3)
                                            for role, v in roles.items()}
                                           if results.finished else None),
        "cpu_ms_per_request": round(cpu / requests_done * 1000, 2) if requests_done else None,
        "all_requests": _percentiles([x for v in results.times.values() for x in v])
        if requests_done else None,
        "steps": steps,
        "non_vision_p95_ms": max((s["p95_ms"] for label, s in steps.items()
                                  if label not in VISION_STEPS), default=None),
        "vision_requests": _group(results, VISION_STEPS),
        "non_vision_requests": _group(results, set(results.times) - VISION_STEPS),
        "worker_peak_rss_mb": server.peak_rss_mb(),
        "worker_rss_mb": server.peak_rss_mb("VmRSS"),
        "vision_process_rss_mb": server.vision_rss_mb(),
        "console": None if console_server is None else {
            "cpu_s": round(console_cpu, 2),
            "cpu_s_per_registration": (round(console_cpu / results.finished, 3)
                                       if results.finished else None),
            "worker_peak_rss_mb": console_server.peak_rss_mb(),
        },
        "server_side": server_side(access),
        "web_cpu_ms_per_registration_by_endpoint": web_cpu_by_endpoint(
            access, results.finished, roles.get("web", 0.0)),
        "server_log_tail": server_log,
    }


def export_commit(commit: str, workdir: Path) -> Path:
    """The commit's files in a temporary folder. It runs in this venv, so a package that only
    this checkout added (rl-accel) is hidden from it: today's code as it was shipped."""
    target = workdir / f"code-{commit}"
    target.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    if "rl-accel" not in (target / "setup.cfg").read_text():
        (target / "sitecustomize.py").write_text(
            "import sys\nsys.modules['_rl_accel'] = None  # not a dependency of this commit\n")
    return target


def machine() -> dict:
    info = {"python": platform.python_version(), "cpus": os.cpu_count(),
            "platform": platform.platform()}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu_model"] = re.search(r"model name\s*:\s*(.+)", cpuinfo).group(1)
        mem = Path("/proc/meminfo").read_text()
        info["memory_gb"] = round(int(re.search(r"MemTotal:\s+(\d+)", mem).group(1)) / 2**20, 1)
        info["load_average_at_start"] = os.getloadavg()
    except (OSError, AttributeError):
        pass
    with contextlib.suppress(OSError):
        info["commit"] = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                        capture_output=True, text=True).stdout.strip()
    return info


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kiosks", default="10,50,100", help="comma-separated kiosk counts")
    ap.add_argument("--servers", default="gunicorn,waitress")
    ap.add_argument("--databases", default="sqlite,postgresql")
    ap.add_argument("--modes", default="paced,stress")
    ap.add_argument("--codes", default="this",
                    help="'this' (the checkout bench/ is in) and/or git commits, comma-separated; "
                         "a code named again is walked again (A,B,B,A: a drifting host cancels)")
    ap.add_argument("--pause", default="2,5", help="paced mode: seconds before each action, min,max")
    ap.add_argument("--registrations", type=int, default=1, help="walks per kiosk, paced")
    ap.add_argument("--stress-registrations", type=int, default=2, help="walks per kiosk, stress")
    ap.add_argument("--max-seconds", type=float, default=600, help="cap per configuration")
    ap.add_argument("--baseline-seconds", type=float, default=30, help="cap per baseline run")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="gunicorn workers")
    ap.add_argument("--threads", type=int, default=None,
                    help="gunicorn threads per worker (default: gunicorn.conf.py's: "
                         "$KIOSK_THREADS, else 8 as shipped)")
    ap.add_argument("--waitress-threads", type=int, default=8, help="as scripts/run.sh")
    ap.add_argument("--keepalive", type=int, default=75, help="gunicorn keep-alive seconds")
    ap.add_argument("--spread", action="store_true",
                    help="each request on a new connection, so a kiosk's requests reach any web "
                         "process, as behind nginx (its upstream connections are shared by "
                         "all kiosks); by default a kiosk keeps its connection, and its "
                         "gunicorn worker")
    ap.add_argument("--upstream", type=int, default=0, metavar="N",
                    help="all kiosks share N kept-alive connections, as nginx's upstream "
                         "keepalive pool (docs/deploy.md: 16); not with --spread")
    ap.add_argument("--clerk", default="kiosk,console", help=(
        "step 6: 'kiosk' = the clerk types their password on the kiosk (argon2id per "
        "registration; every commit has it), 'console' = one signed-in clerk approves from the "
        "review queue (commits with the console); comma-separated for both"))
    ap.add_argument("--vision", choices=("scripted", "real"), default="scripted", help=(
        "step 6's vision: 'scripted' (bench/load_app.py) or 'real' (the engine as shipped, "
        "drawn cards and face photos; see the module docstring)"))
    ap.add_argument("--previews", type=int, default=3,
                    help="--vision real: preview frames posted before each card photo")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=4, help="uncounted walks before measuring")
    args = ap.parse_args(argv)
    if args.spread and args.upstream:
        ap.error("--spread and --upstream are two ways to reach the web processes: choose one")
    # how the kiosks reach the server, for the baseline app as for the kiosk
    Kiosk.spread, Kiosk.upstream = args.spread, args.upstream
    # A SIGTERM ends the run through the finally blocks: servers stopped, databases dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    pause = tuple(float(v) for v in args.pause.split(","))

    real = args.vision == "real"
    report = {"machine": machine(), "settings": vars(args), "step6": (
        "real card reading, portrait search and face comparison (decision held at 'review')"
        if real else "scripted card reading and comparison ('review')") + (
        ", then the clerk's confirmation on the kiosk (argon2id) or from the console; image "
        "checks real; the images each screen embeds (document pages, photos) fetched as a "
        "browser does"), "runs": [], "baselines": []}
    workdir = Path(tempfile.mkdtemp(prefix="kiosk-load-"))
    # A code may come more than once: "A,B,B,A" walks each twice, in an order that cancels a
    # host that drifts steadily during the run (each exported once).
    exported: dict[str, Path] = {}
    codes: list[tuple[str, Path]] = []
    for code in args.codes.split(","):
        if code not in exported:
            exported[code] = ROOT if code == "this" else export_commit(code, workdir)
        codes.append((code, exported[code]))
    baselines = {}
    try:
        for mode in args.modes.split(","):
            for n in (int(v) for v in args.kiosks.split(",")):
                for server_kind in args.servers.split(","):
                    key = (server_kind, mode, n)
                    if key not in baselines:
                        log(f"baseline {server_kind} {mode} N={n}")
                        server = Server(server_kind, ROOT, "baseline_app", {}, args)
                        try:
                            result = drive(server, BaselineClient, n, 1000,
                                           pause if mode == "paced" else None,
                                           args.baseline_seconds, args.seed, args.warmup)
                        finally:
                            server.stop()
                        baselines[key] = result
                        report["baselines"].append({"server": server_kind, "mode": mode,
                                                    "kiosks": n, **result})
                    base = baselines[key]
                    for db_kind in args.databases.split(","):
                        for order, code, code_dir, clerk in (
                                (i, c, d, k) for i, (c, d) in enumerate(codes)
                                for k in args.clerk.split(",")
                                if k == "kiosk" or (d / "kiosk/web/staff/review.py").exists()):
                            log(f"kiosk {code} {server_kind} {db_kind} {mode} N={n} clerk={clerk}")
                            walks = (args.registrations if mode == "paced"
                                     else args.stress_registrations)
                            photos = None
                            if real:  # drawn before the servers start: not their CPU
                                photos = RealPhotos(n * walks + args.warmup, args.seed)
                            database = Database(db_kind, code_dir, workdir)
                            env = {**database.env, "KIOSK_BENCH_VISION": args.vision,
                                   # the vision pool's workers build their engine themselves
                                   "KIOSK_VISION_ENGINE_FACTORY": "load_app:" + (
                                       "review_always_engine" if real else "scripted_engine")}
                            server = Server(server_kind, code_dir, "load_app", env, args)
                            console_server = None
                            try:
                                if clerk == "console":
                                    console_server = Server(server_kind, code_dir, "load_app",
                                                            env, args)
                                Kiosk.device_token = enroll_kiosk(server.base,
                                                                  database.enroll_code)
                                result = drive(server, Kiosk, n, walks,
                                               pause if mode == "paced" else None,
                                               args.max_seconds, args.seed, args.warmup,
                                               clerk=clerk, real_photos=photos,
                                               previews=args.previews if real else 0,
                                               console_server=console_server)
                            finally:
                                server.stop()
                                if console_server is not None:
                                    console_server.stop()
                                database.drop()
                            all_req = result["all_requests"]
                            if all_req and base["all_requests"]:
                                result["median_request_vs_baseline"] = round(
                                    all_req["p50_ms"] / base["all_requests"]["p50_ms"], 1)
                            if result["cpu_ms_per_request"] and base["cpu_ms_per_request"]:
                                result["cpu_per_request_vs_baseline"] = round(
                                    result["cpu_ms_per_request"] / base["cpu_ms_per_request"], 1)
                            log(f"  -> {result['registrations']} done, {result['errors']} errors, "
                                f"{result['cpu_s_per_registration']} CPU s/registration, "
                                f"non-vision p95 {result['non_vision_p95_ms']} ms")
                            # ``order``: the code's place in --codes (a code may come twice)
                            report["runs"].append({"code": code, "order": order,
                                                   "server": server_kind,
                                                   "database": db_kind, "mode": mode,
                                                   "clerk": clerk,
                                                   "kiosks": n, **result})
    finally:
        subprocess.run(["rm", "-rf", str(workdir)], check=False)
    json.dump(report, sys.stdout, indent=1, ensure_ascii=False)
    print()
    return 0 if all(run["errors"] == 0 for run in report["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
