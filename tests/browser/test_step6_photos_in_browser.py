"""Step 6's photos in a real browser: a photo already on the screen stays there when the screen
is swapped after the next capture (htmx's hx-preserve), instead of being fetched again."""
from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

import pytest

from .flows import shoot, wait_for_state, walk_to_step6

pytestmark = pytest.mark.browser

_ALL_SHOWN = """() => {
  const images = [...document.querySelectorAll('img[src*="/evidence/"]')];
  return images.length >= 3 && images.every((image) => image.complete && image.naturalWidth > 0);
}"""


def test_a_photo_on_the_screen_is_not_fetched_again_after_the_next_capture(live_app,
                                                                          browser_page):
    page = browser_page
    walk_to_step6(page, live_app)
    fetched: list[str] = []
    page.on("request", lambda r: "/evidence/" in r.url and fetched.append(urlsplit(r.url).path))
    shoot(page, "card_front")
    # a mark only the element shown now carries: a fresh copy from the server would not
    page.evaluate("document.querySelector('#capture-card_front img').dataset.mark = 'kept'")
    shoot(page, "card_back")
    shoot(page, "face")
    wait_for_state(page, _ALL_SHOWN, what="the three photos shown")
    assert page.get_attribute("#capture-card_front img", "data-mark") == "kept"
    shown = Counter(urlsplit(src).path for src in page.eval_on_selector_all(
        'img[src*="/evidence/"]', "(images) => images.map((image) => image.src)"))
    # each photo fetched at most once for each place the screen shows it (the list, and the
    # side-by-side check once the face is taken): never again for a later capture
    assert len(shown) == 3
    assert all(count <= shown[path] for path, count in Counter(fetched).items()), (fetched, shown)
    assert page.js_errors == []
