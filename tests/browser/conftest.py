"""A live kiosk on 127.0.0.1 and Debian's chromium driven by Playwright, with a fake camera."""
from __future__ import annotations

import os
import shutil
import threading

import cv2
import numpy as np
import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests.app_factory import KIOSK_COOKIE, KIOSK_DEVICE_TOKEN, make_app

CHROMIUM = os.environ.get("KIOSK_CHROMIUM", "/usr/bin/chromium")

# expect() retries for 5 s by default; on a loaded machine a server round trip and a swap can
# take longer. A generous default costs time only when the expected state never comes.
expect.set_options(timeout=20_000)


def _require_chromium():
    if shutil.which(CHROMIUM) or os.path.exists(CHROMIUM):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"chromium not found at {CHROMIUM}; scripts/setup.sh --test installs it")
    pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium)")


def write_fake_camera(path, frames: list[np.ndarray]) -> None:
    """Chromium's --use-file-for-fake-video-capture reads an MJPEG file of JPEG frames."""
    with open(path, "wb") as fh:
        for frame in frames:
            ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
            assert ok
            fh.write(buf.tobytes())


def default_camera_frames(count=10) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    frames = []
    for i in range(count):
        frame = np.full((480, 640, 3), 90, np.uint8)
        cv2.rectangle(frame, (120, 110), (520, 370), (235, 230, 220), -1)  # a card-like shape
        # a small label: a blank card shape is not a card to the guidance (a bigger, bolder label
        # sat at its print-density limit, and OpenCV 4 and 5 judged it differently), so these
        # frames never shoot by themselves: the tests press «Chụp ảnh»
        cv2.putText(frame, f"frame {i}", (140, 150), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (20, 20, 20), 1)
        frame = cv2.add(frame, rng.integers(0, 12, frame.shape, dtype=np.uint8))
        frames.append(frame)
    return frames


@pytest.fixture
def live_app_factory(tmp_path):
    """Start a kiosk on 127.0.0.1 with config overrides; stopped at the end of the test."""
    servers = []

    def start(**overrides):
        app = make_app(tmp_path, **overrides)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        app.config["LIVE_URL"] = f"http://127.0.0.1:{server.server_port}"
        return app

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def live_app(live_app_factory):
    return live_app_factory()


@pytest.fixture
def camera_file(tmp_path):
    path = tmp_path / "cam.mjpeg"
    write_fake_camera(path, default_camera_frames())
    return path


# The kiosk's screens: a portrait totem, a landscape counter screen, and a small laptop-size one.
SCREENS = {
    "portrait": {"width": 1080, "height": 1920},
    "landscape": {"width": 1920, "height": 1080},
    "small": {"width": 1366, "height": 768},
}


@pytest.fixture
def screen():
    """The viewport of a test; tests that cover both orientations parametrize this fixture."""
    return "small"


@pytest.fixture
def browser_page(tmp_path, camera_file, screen):
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-video-capture={camera_file}",
            ],
        )
        context = browser.new_context(viewport=SCREENS[screen], locale="vi-VN")
        context.grant_permissions(["camera"])
        # The enrolled test kiosk's device cookie (every test app enrolls quay-01 with it):
        # cookies ignore the port, so it holds for whichever live server the test starts.
        context.add_cookies([{"name": KIOSK_COOKIE, "value": KIOSK_DEVICE_TOKEN,
                              "domain": "127.0.0.1", "path": "/", "httpOnly": True,
                              "sameSite": "Strict"}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # Any console error fails the test: a CSP violation (an inline style swapped in by htmx,
        # say) is only ever reported there.
        page.on("console", lambda msg: errors.append(f"console: {msg.text}")
                if msg.type == "error" else None)
        page.js_errors = errors
        page.screen_name = screen
        yield page
        if os.environ.get("KIOSK_SCREENSHOTS"):  # the last screen, to see why a test stopped
            page.screenshot(path=os.path.join(os.environ["KIOSK_SCREENSHOTS"], "zz-last.png"))
        context.close()
        browser.close()
