"""The photo a card camera form takes carries where its preview frames found the card, in the
photo's own pixels: guidance.js judges frames at most 1280 px wide, camera.js shoots the
camera's native frame, and the read of that photo looks for the card there first."""
from __future__ import annotations

import numpy as np
import pytest

from .conftest import write_fake_camera
from .flows import expect_camera_ready, walk_to_step6

pytestmark = pytest.mark.browser

# camera.js asks for 1280×720 (which this camera gives, scaled); a camera that gives more
# (here its full 1600×900, forced below) has its photos 1.25 times the frames guidance.js judges
WIDER_CAMERA = """(() => {
  const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (c) => real(c && c.video ? {...c,
      video: {...(typeof c.video === 'object' ? c.video : {}),
              width: {exact: 1600}, height: {exact: 900}}} : c);
})();"""


@pytest.fixture
def camera_file(tmp_path):
    # a light card shape with a few dark lines on a grey desk: small as a JPEG (noise is not,
    # and the photo must stay under the test app's upload limit)
    still = np.full((900, 1600, 3), 90, np.uint8)
    still[200:700, 300:1300] = 230
    for y in range(260, 660, 50):
        still[y:y + 8, 700:1250] = 40
    path = tmp_path / "wide.mjpeg"
    write_fake_camera(path, [still] * 4)
    return path


@pytest.mark.parametrize("wider, hint", [
    (False, "240.0,160.0,1040.0,160.0,1040.0,560.0,240.0,560.0,2"),
    (True, "300.0,200.0,1300.0,200.0,1300.0,700.0,300.0,700.0,2"),
])
def test_the_photo_carries_the_last_frames_card_corners_in_its_own_pixels(
        live_app_factory, browser_page, wider, hint):
    from kiosk.services.ekyc import EXTENSION_KEY
    from tests.support.fake_ekyc import PreviewAdvice

    app = live_app_factory(fake_vision=True)
    page = browser_page
    if wider:
        page.add_init_script(WIDER_CAMERA)
    fake = app.extensions[EXTENSION_KEY]
    walk_to_step6(page, app)
    # every frame is good and answers where the card is (the server's track: 8 corners' numbers
    # in the frame's pixels, then how many frames in a row were followed)
    fake.script(card={"card_found": True, "sides": ["front"]},
                advice=PreviewAdvice(ok=True, issues=(), messages=(), qr_text=None,
                                     track="240.0,160.0,1040.0,160.0,1040.0,560.0,240.0,560.0,2"))
    expect_camera_ready(page)
    page.wait_for_selector("#capture-card_front.done img", timeout=60_000)
    reads = [kwargs for name, kwargs in list(fake.calls) if name == "read_card"]
    assert reads and reads[0]["hint"] == hint
    width = page.evaluate("document.querySelector('video[data-camera-video]').videoWidth")
    assert width == (1600 if wider else 1280)
    assert page.js_errors == []
