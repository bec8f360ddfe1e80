"""Every screen a customer meets: a screenshot kept as a test artifact and an axe-core check.

Screenshots go to ``$KIOSK_SCREENSHOTS`` or, by default, ``test-artifacts/screens/`` at the
repository root (git-ignored), one folder per screen size: ``<size>/<name>.png`` is exactly what
the customer sees (the viewport, not the whole scrollable page).
"""
from __future__ import annotations

import os
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("KIOSK_SCREENSHOTS") or ROOT / "test-artifacts" / "screens")
BLOCKING = {"serious", "critical"}

_axe = Axe()


def shot(page, name: str) -> Path:
    folder = SHOTS / getattr(page, "screen_name", "default")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def blocking_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    results = _axe.run(page)
    found = []
    for v in results.response["violations"]:
        if v.get("impact") in BLOCKING:
            targets = [", ".join(n["target"]) for n in v["nodes"][:3]]
            found.append(f"{v['impact']} {v['id']}: {v['help']} — {targets}")
    return found


class Screens:
    """Walks along with a test: ``screens(page, "05-password")`` keeps a screenshot and notes
    the axe problems; ``screens.assert_clean()`` at the end fails on any of them, so one run
    shows every screen even when an early one has a problem."""

    def __init__(self):
        self.problems: list[str] = []

    def __call__(self, page, name: str) -> None:
        settled(page)  # the picture and the check of what the customer sees, not a half swap
        shot(page, name)
        self.problems += [f"{name}: {p}" for p in blocking_violations(page)]

    def assert_clean(self) -> None:
        assert not self.problems, "\n".join(self.problems)


def settled(page) -> None:
    """htmx has swapped and settled, kiosk.js has moved focus and scrolled (it does so in a
    timeout just after the settle), and no short animation (a camera flash) is still running."""
    from .flows import htmx_settled, wait_for_state

    htmx_settled(page)
    wait_for_state(page, """() => new Promise((resolve) => setTimeout(() => {
      // a finite animation still running; the endless ones (a spinner) are part of the screen
      const running = document.getAnimations().filter((a) => a.playState === 'running' &&
        Number.isFinite(a.effect && a.effect.getComputedTiming().endTime));
      requestAnimationFrame(() => resolve(running.length === 0));
    }, 0))""", what="the screen at rest")


_IN_VIEW = """sel => { const el = document.querySelector(sel); if (!el) return false;
                const r = el.getBoundingClientRect();
                return r.width > 0 && r.top >= 0 && r.left >= 0 &&
                       r.bottom <= innerHeight + 1 && r.right <= innerWidth + 1; }"""


def expect_in_view(page, selector: str, timeout=30_000) -> None:
    """Wait until the element is wholly inside the viewport (a scroll the page does by itself,
    after a swap, has happened)."""
    from .flows import wait_for_state

    wait_for_state(page, _IN_VIEW, selector, timeout, what=f"{selector} wholly in view")


def in_view(page, selector: str) -> bool:
    """The element is wholly inside the viewport (no scrolling needed to see or touch it)."""
    return page.evaluate(_IN_VIEW, selector)


def covered_by_sticky_bar(page, selector: str) -> bool:
    """Some part of the element lies under a sticky action bar (a touch there hits a button)."""
    return page.evaluate(
        """sel => { const el = document.querySelector(sel); if (!el) return false;
                    const r = el.getBoundingClientRect();
                    return [...document.querySelectorAll('.actions')].some(bar => {
                      if (getComputedStyle(bar).position !== 'sticky' || bar.contains(el) ||
                          el.contains(bar)) return false;
                      const b = bar.getBoundingClientRect();
                      return b.top < r.bottom && b.bottom > r.top && b.left < r.right && b.right > r.left;
                    }); }""",
        selector)
