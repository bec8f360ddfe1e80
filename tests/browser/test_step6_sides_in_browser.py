"""Step 6 in a real browser with the front held up during the back capture: the kiosk stores the
front once, says (in words and a drawing) to turn the card over, and its automatic shutter waits
instead of shooting the front again every few seconds."""
from __future__ import annotations

from urllib.parse import urlsplit

import numpy as np
import pytest
from sqlalchemy import func, select

from .conftest import write_fake_camera
from .flows import expect_camera_ready, wait_for_state, walk_to_step6
from .screens import in_view

pytestmark = pytest.mark.browser


@pytest.fixture
def camera_file(tmp_path):
    """One still picture: a card held without moving (the frames are identical)."""
    rng = np.random.default_rng(5)
    still = np.full((480, 640, 3), 140, np.uint8)
    still[120:360, 170:470] = rng.integers(0, 255, (240, 300, 3), dtype=np.uint8)
    path = tmp_path / "still.mjpeg"
    write_fake_camera(path, [still] * 6)
    return path


def _stored(app, kind):
    from kiosk.core.extensions import db
    from kiosk.core.models import Evidence

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Evidence)
                                 .where(Evidence.kind == kind))


@pytest.mark.parametrize("screen", ["portrait", "landscape", "small"])
def test_the_front_held_during_the_back_is_stored_once_and_the_page_says_turn_over(
        live_app_factory, browser_page):
    from kiosk.services.ekyc import EXTENSION_KEY
    from tests.support.fake_ekyc import PreviewAdvice

    app = live_app_factory(fake_vision=True)
    page = browser_page
    walk_to_step6(page, app)
    card_posts: list[str] = []
    guidance_posts: list[str] = []
    page.on("request", lambda r: r.method == "POST" and (
        card_posts.append(r.url) if "/step/6/capture/card_" in r.url
        else guidance_posts.append(r.url) if urlsplit(r.url).path.endswith("/guidance")
        else None))
    # every frame looks good and shows the front: the page shoots by itself
    app.extensions[EXTENSION_KEY].script(
        card={"card_found": True, "sides": ["front"]},
        advice=PreviewAdvice(ok=True, issues=(), messages=(), qr_text=None))
    expect_camera_ready(page)
    page.wait_for_selector("#capture-card_front.done img", timeout=60_000)
    page.wait_for_selector("[data-error=wrong_side]", timeout=60_000)  # the front shot as back
    notice = page.locator("[data-error=wrong_side]")
    assert "lật giấy tờ lại" in notice.inner_text()
    assert notice.locator("img[src$='turn-card.svg']").is_visible()
    # the words, the drawing and «Chụp ảnh» fit on the screen without scrolling
    assert in_view(page, "[data-error=wrong_side]") and in_view(page, "[data-camera-shoot]")
    # The shutter holds: many more good frames are judged, none is shot.
    wait_for_state(page, """() => document.querySelector('form[data-capture-held="true"]')""",
                   what="the held shutter")
    shots, seen = len(card_posts), len(guidance_posts)
    for _ in range(60):
        if len(guidance_posts) >= seen + 8:
            break
        page.wait_for_event("requestfinished", timeout=30_000)
    assert len(guidance_posts) >= seen + 8
    assert len(card_posts) == shots
    assert _stored(app, "card_front") == 1 and _stored(app, "card_back") == 0
    assert page.js_errors == []
