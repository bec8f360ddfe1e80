"""Quét CCCD in a real browser: the fake camera shows a card; guidance shoots by itself."""
from __future__ import annotations

import os
from datetime import date

import pytest
from playwright.sync_api import expect

from ..faces_data import face_data_dir, load
from .flows import open_card_scan

pytestmark = pytest.mark.browser


@pytest.fixture
def camera_file(tmp_path):
    from tests.support.synthetic import fake_camera_mjpeg, place_in_scene, render_card_front

    face_data_dir()
    fields = {
        "id_number": "038085012345", "old_id_number": None, "full_name": "Nguyễn Văn An",
        "date_of_birth": date(1985, 9, 5), "gender": "Nam", "nationality": "Việt Nam",
        "place_of_origin": "Thanh Hóa", "address": "Số 12 Lê Lai, Phường Điện Biên, TP Thanh Hóa",
        "issue_date": date(2023, 10, 2), "expiry_date": None,
    }
    card = render_card_front(fields, load("megawati_sukarnoputri/4.jpg"), seed=5)
    frames = [place_in_scene(card, (1280, 720), i, rotation_deg=2.0 + i * 0.3, perspective=(3.0, 2.0),
                             blur=0.4, noise=1.5, light=0.1, brightness=0.95, occluder=False,
                             jpeg_quality=92)[0] for i in range(6)]
    path = tmp_path / "card.mjpeg"
    fake_camera_mjpeg(path, frames, fps=5)
    return path


def test_holding_the_card_up_fills_the_form(live_app, browser_page):
    page = browser_page
    open_card_scan(page, live_app)
    # No button pressed: the guidance sees a good card three times and shoots by itself.
    expect(page.locator(".notice.success")).to_contain_text("Đã đọc thẻ CCCD", timeout=30000)
    assert page.input_value("#id_number") == "038085012345"
    if os.environ.get("KIOSK_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["KIOSK_SCREENSHOTS"], "scan-done.png"))
    assert page.js_errors == []
