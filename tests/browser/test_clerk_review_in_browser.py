"""The clerk decides on step 6 at the console while the kiosk waits, at each of the kiosk's
screens: the review page shows the evidence the clerk decides on (the portrait cut upright, the
card photo beside it, the face photo, the distance on its scale, the true reason), and a
rejection ends the kiosk's automatic tries: the customer reads that the kiosk cannot continue,
is offered «Gọi nhân viên», and no photo is taken or stored again while the kiosk keeps polling.

The eKYC engine is the scripted fake: the tests are about what the two screens show, and a
"review" answer with a known distance is what puts the case in front of the clerk."""
from __future__ import annotations

from urllib.parse import urlsplit

import cv2
import numpy as np
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from .flows import clerk_page, shoot, walk_to_step6
from .screens import in_view

pytestmark = pytest.mark.browser

POLL_S = 2  # the kiosk's status poll, short so that "several intervals" is a few seconds


def _upright_portrait() -> bytes:
    """What the engine cuts from the card: taller than wide, as a portrait stands."""
    img = np.full((160, 120, 3), 200, np.uint8)
    cv2.circle(img, (60, 60), 30, (80, 80, 80), -1)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


def _stored(app) -> dict[str, int]:
    from kiosk.core.extensions import db
    from kiosk.core.models import Evidence

    with app.app_context():
        rows = db.session.execute(select(Evidence.kind, func.count()).group_by(Evidence.kind))
        return dict(rows.all())


def _image_size(page, selector):
    return page.evaluate("""(sel) => { const img = document.querySelector(sel);
      return img && img.complete ? [img.naturalWidth, img.naturalHeight] : null; }""", selector)


@pytest.mark.parametrize("screen", ["portrait", "landscape", "small"])
def test_the_clerk_decides_on_good_evidence_and_a_rejection_ends_the_automatic_tries(
        live_app_factory, browser_page, screen):
    from kiosk.services.ekyc import EXTENSION_KEY

    app = live_app_factory(fake_vision=True, KIOSK_STATUS_POLL_SECONDS=POLL_S)
    app.extensions[EXTENSION_KEY].script(decision="review", portrait=_upright_portrait())
    kiosk, url = browser_page, app.config["LIVE_URL"]

    walk_to_step6(kiosk, app)
    clerk = clerk_page(kiosk, url)
    for kind in ("card_front", "card_back", "face"):
        shoot(kiosk, kind)
    expect(kiosk.locator("#waiting-for-clerk")).to_contain_text("Đang chờ nhân viên hỗ trợ")
    # no loop: one stored photo per side for this attempt
    assert _stored(app) == {"card_front": 1, "card_back": 1, "face": 1}

    # (2) The console's board shows the waiting customer; the review page shows the evidence.
    expect(clerk.locator("#board .queue-panel tr.is-waiting")).to_have_count(1, timeout=30_000)
    clerk.locator("#board .queue-panel tr.is-waiting a:has-text('Xem xét')").click()
    expect(clerk.locator("h1")).to_contain_text("Xem xét hồ sơ")
    for evidence in ("portrait", "card_front", "face"):
        expect(clerk.locator(f"img[data-evidence={evidence}]")).to_be_visible()
    portrait = _image_size(clerk, "img[data-evidence=portrait]")
    card = _image_size(clerk, "img[data-evidence=card_front]")
    assert portrait and portrait[1] > portrait[0], portrait  # upright
    assert card and card[0] > 0
    # the portrait and the card photo stand side by side, not one under the other
    p_box = clerk.locator("img[data-evidence=portrait]").bounding_box()
    c_box = clerk.locator("img[data-evidence=card_front]").bounding_box()
    assert c_box["x"] > p_box["x"] + p_box["width"] - 1 and abs(c_box["y"] - p_box["y"]) < 50
    expect(clerk.locator("svg.distance-scale")).to_have_attribute("data-zone", "review")
    expect(clerk.locator("svg.distance-scale path")).to_have_count(1)  # the distance's mark
    reasons = clerk.locator("ul.reasons li")
    expect(reasons.first).to_be_visible()
    assert clerk.locator("ul.reasons li[data-reason]").count() == reasons.count()

    # (5) The clerk rejects: the kiosk says it cannot continue there and offers the clerk.
    clerk.select_option("select[name=reason]", "face_unclear")
    clerk.click("#reject")
    expect(clerk.locator("#review .notice.success")).to_contain_text("Đã từ chối")
    rejected = kiosk.locator("[data-result=staff_rejected]")
    expect(rejected).to_be_visible(timeout=30_000)
    expect(rejected).to_contain_text("Máy không chụp thêm ảnh cho hồ sơ này")
    help_button = rejected.get_by_role("button", name="Gọi nhân viên")
    expect(help_button).to_be_visible()
    assert in_view(kiosk, "[data-result=staff_rejected] [data-help-reason=kyc_rejected]")
    expect(kiosk.locator("#waiting-for-clerk")).to_have_count(0)
    expect(kiosk.locator("form[data-camera-form], [data-liveness-form]")).to_have_count(0)

    # No new automatic try over several of the kiosk's polls: no capture, no guidance, no photo.
    tries: list[str] = []
    polls: list[str] = []
    kiosk.on("request", lambda r: (
        tries.append(r.url) if "/capture" in r.url or urlsplit(r.url).path.endswith("/guidance")
        else polls.append(r.url) if r.url.endswith("/status") else None))
    for _ in range(60):
        if len(polls) >= 3:
            break
        kiosk.wait_for_event("requestfinished", timeout=30_000)
    assert len(polls) >= 3, polls
    assert tries == []
    assert _stored(app) == {"card_front": 1, "card_back": 1, "face": 1}
    expect(rejected).to_be_visible()  # the polls left the message in place

    assert kiosk.js_errors == [] and clerk.js_errors == [], kiosk.js_errors + clerk.js_errors
    clerk.context.close()
