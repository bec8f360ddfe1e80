"""The photo a card camera form takes carries where its preview frames found the card, in the
photo's own pixels: the server judges frames with their long side at most 1280 px, camera.js
shoots the camera's native frame, and the read of that photo looks for the card there first."""
from __future__ import annotations

import numpy as np
import pytest

from .conftest import write_fake_camera
from .flows import expect_camera_ready, walk_to_step6

pytestmark = pytest.mark.browser

# camera.js asks for 1280×720, which a landscape camera gives (scaled). A camera that gives
# more, its full frame forced here, has photos 1.25 times the frames the server judges: a
# 1600×900 one, and a 900×1600 one on its side (judged at 720×1280).
FORCE_FULL_FRAME = """(() => {
  const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (c) => real(c && c.video ? {...c,
      video: {...(typeof c.video === 'object' ? c.video : {}),
              width: {exact: %d}, height: {exact: %d}}} : c);
})();"""
SIZES = {"landscape": (1600, 900), "portrait": (900, 1600)}


@pytest.fixture
def camera_file(tmp_path, request):
    # a light card shape with a few dark lines on a grey desk: small as a JPEG (noise is not,
    # and the photo must stay under the test app's upload limit)
    width, height = SIZES[request.node.callspec.params["camera"]]
    still = np.full((height, width, 3), 90, np.uint8)
    still[height // 4:height * 3 // 4, width // 5:width * 4 // 5] = 230
    for y in range(height // 4 + 60, height * 3 // 4 - 40, 50):
        still[y:y + 8, width // 2:width * 3 // 4] = 40
    path = tmp_path / "camera.mjpeg"
    write_fake_camera(path, [still] * 4)
    return path


@pytest.mark.parametrize("camera, forced, hint, video", [
    ("landscape", False, "240.0,160.0,1040.0,160.0,1040.0,560.0,240.0,560.0,2", (1280, 720)),
    ("landscape", True, "300.0,200.0,1300.0,200.0,1300.0,700.0,300.0,700.0,2", (1600, 900)),
    ("portrait", True, "300.0,200.0,1300.0,200.0,1300.0,700.0,300.0,700.0,2", (900, 1600)),
])
def test_the_photo_carries_the_last_frames_card_corners_in_its_own_pixels(
        live_app_factory, browser_page, camera, forced, hint, video):
    from kiosk.services.ekyc import EXTENSION_KEY
    from tests.support.fake_ekyc import PreviewAdvice

    app = live_app_factory(fake_vision=True)
    page = browser_page
    if forced:
        page.add_init_script(FORCE_FULL_FRAME % SIZES[camera])
    fake = app.extensions[EXTENSION_KEY]
    walk_to_step6(page, app)
    # every frame is good and answers where the card is (the server's track: 8 corners' numbers
    # in the pixels of the frame as judged, then how many frames in a row were followed)
    fake.script(card={"card_found": True, "sides": ["front"]},
                advice=PreviewAdvice(ok=True, issues=(), messages=(), qr_text=None,
                                     track="240.0,160.0,1040.0,160.0,1040.0,560.0,240.0,560.0,2"))
    expect_camera_ready(page)
    page.wait_for_selector("#capture-card_front.done img", timeout=60_000)
    reads = [kwargs for name, kwargs in list(fake.calls) if name == "read_card"]
    assert reads and reads[0]["hint"] == hint
    size = page.evaluate("(() => { const v = document.querySelector('video[data-camera-video]');"
                         " return [v.videoWidth, v.videoHeight]; })()")
    assert tuple(size) == video
    assert page.js_errors == []
