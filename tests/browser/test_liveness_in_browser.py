"""The liveness challenge in a real browser: a still photo in front of the camera fails."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from ..faces_data import face_data_dir, load
from .conftest import write_fake_camera
from .flows import SLOW, expect_camera_ready, walk_to_step6

pytestmark = pytest.mark.browser


@pytest.fixture
def camera_file(tmp_path):
    face_data_dir()
    photo = load("megawati_sukarnoputri/5.jpg")
    if photo.ndim == 2:
        photo = cv2.cvtColor(photo, cv2.COLOR_GRAY2BGR)
    frame = np.full((480, 640, 3), 110, np.uint8)
    scale = 400 / photo.shape[0]
    small = cv2.resize(photo[:, :, :3], None, fx=scale, fy=scale)
    x = (640 - small.shape[1]) // 2
    frame[40:40 + small.shape[0], x:x + small.shape[1]] = small[:, : 640 - x]
    path = tmp_path / "still.mjpeg"
    write_fake_camera(path, [frame] * 30)
    return path


def _upload(page, kind_label, tmp_path, seed):
    """A scanned page for one card photo: only the way to the face's challenge. A smooth
    picture (no card on it) is kept as labelled; noise would cost the real engine seconds of
    searching for a card, which this test is not about."""
    image = tmp_path / f"scan-{seed}.jpg"
    y, x = np.mgrid[0:600, 0:900]
    shade = ((x * (seed + 1) + y * (4 - seed)) // 7 % 96 + 80).astype(np.uint8)
    cv2.imwrite(str(image), cv2.merge([shade, shade // 2 + 60, shade]))
    page.locator("details.upload-fallback summary").click()
    page.set_input_files("input[name=image_file]", str(image))
    page.get_by_role("button", name="Tải ảnh lên").click()
    try:
        page.wait_for_selector(f"#capture-{kind_label}.done img", timeout=SLOW)
    except PlaywrightTimeout:
        said = page.locator("#wizard .notice, [data-request-error], [data-camera-status]")
        raise AssertionError(f"{kind_label} not stored; the screen says: "
                             f"{said.all_inner_texts()}") from None


def test_still_photo_fails_the_liveness_challenge(live_app, browser_page, tmp_path):
    page = browser_page
    walk_to_step6(page, live_app)
    _upload(page, "card_front", tmp_path, 1)  # the document-scanner path
    _upload(page, "card_back", tmp_path, 2)
    expect_camera_ready(page, "form[data-liveness-form]")
    # what the customer is shown while it works: the states and the status line, as they come
    page.evaluate("""() => {
      window.__livenessSeen = [];
      const form = document.querySelector('form[data-liveness-form]');
      const status = form.querySelector('[data-camera-status]');
      const bar = form.querySelector('progress[data-liveness-progress]');
      new MutationObserver(() => window.__livenessSeen.push(
        [form.getAttribute('data-liveness-state'), status.textContent, !bar.hidden]))
        .observe(form, {attributes: true, subtree: true, childList: true, characterData: true});
    }""")
    page.get_by_role("button", name="Bắt đầu").click()
    expect(page.locator("[data-liveness-prompt]")).not_to_be_empty(timeout=15_000)
    error = page.locator("form[data-liveness-form] [data-error]")
    expect(error).to_be_visible(timeout=SLOW)
    expect(error).to_contain_text("thử lại")
    seen = page.evaluate("() => window.__livenessSeen || []")
    # the recording was sent with its progress shown (n/N), then judged under «Đang kiểm tra…»
    assert any(state == "sending" and "Đang gửi hình…" in text and "/" in text and shown
               for state, text, shown in seen), seen[-5:]
    assert any(state == "judging" and text.startswith("Đang kiểm tra…") and shown
               for state, text, shown in seen), seen[-5:]
    expect(page.locator("#capture-face img")).to_have_count(0)
    assert page.js_errors == [], "\n".join(page.js_errors)
