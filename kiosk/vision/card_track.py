"""Follow a card from one preview frame to the next instead of searching the whole frame again.

While the customer holds the card up, the camera's preview frames come three times a second and
the card moves a few pixels between them. The full search (:func:`card_outline.find_card`:
four masks, every contour fitted and judged) is most of a preview frame's CPU; the sides of
the card the last frame found are found again near where they were for a fraction of it
(bench/bench_preview_tracking.py). The guidance answers the corners with its advice; the
kiosk's browser sends them back with its next frame as the *hint*.

A hint is only a place to look. The quad found near it passes the tests a quad the search
found passes (shape, inside the frame, size, every side a real grey-level step along most of
its length, and the caller's "is this a card" test) and two more: its sides keep the hint's
proportions, and no side has an edge as sharp as itself just beyond it (print inside the card
taken for its edge). A hint that is stale, wrong or made up costs a few milliseconds, and the
full search runs as without one. The hint decides only where the corners are looked for
first: the advice and the QR code are computed from the frame with the corners found. A quad
followed frame after frame is checked by the full search every few frames (FOLLOW_AT_MOST).

Pure functions on numpy arrays (no Flask).
"""
from __future__ import annotations

import re
from typing import NamedTuple

import cv2
import numpy as np

from kiosk.vision import card_outline as co

# How far a side may have moved since the last frame, as a share of the searched copy's long
# side: 0.03 of 400 px is 12 px there, ~38 px in a 1280 px frame — a hand's drift in a third of
# a second. A card moved further is found by the full search.
_MOVE_SHARE = 0.03
_STILL = 3.0  # px of the searched copy (~10 px of a 1280 px frame): a card held still
HINT_MAX_TEXT = 200  # "x,y,…,n" of 9 numbers with one decimal: far less
_NUMBER = re.compile(r"-?\d{1,6}(\.\d{1,3})?")
# A quad found near the hint becomes the next frame's hint. Had the tracker settled on a wrong
# quad that passes every test (print inside the card, 16–47 px off on the drawn frames), it
# would keep it while the card is held still; so after this many frames followed in a row the
# next one is searched whole, and the search's quad is followed from there.
FOLLOW_AT_MOST = 4


class Hint(NamedTuple):
    corners: np.ndarray  # 4×2 float32, pixels of the frame as judged
    followed: int  # frames in a row whose card was found near the last one's


def parse_hint(text: object, width: int, height: int) -> Hint | None:
    """The hint a browser sent back, "x1,y1,…,x4,y4,n" (:func:`format_hint`), or None when the
    text is not eight plain numbers within (a little beyond) a ``width``×``height`` frame and a
    count."""
    if not isinstance(text, str) or not text or len(text) > HINT_MAX_TEXT:
        return None
    parts = text.split(",")
    if len(parts) != 9 or not all(_NUMBER.fullmatch(p) for p in parts):
        return None
    values = [float(p) for p in parts]
    corners = np.array(values[:8], np.float32).reshape(4, 2)
    margin = 0.1 * max(width, height)
    if ((corners[:, 0] < -margin) | (corners[:, 0] > width + margin)
            | (corners[:, 1] < -margin) | (corners[:, 1] > height + margin)).any():
        return None
    if not values[8].is_integer() or values[8] < 0:
        return None
    return Hint(corners, int(values[8]))


def corners_to_follow(given: Hint | None) -> np.ndarray | None:
    """The corners to look near first, from a parsed hint (:func:`parse_hint`): None when there
    is none, or when the frames before it were already followed ``FOLLOW_AT_MOST`` times in a
    row (then the frame is searched whole)."""
    if given is None or given.followed >= FOLLOW_AT_MOST:
        return None
    return given.corners


def format_hint(corners: np.ndarray | None, followed: int = 0) -> str | None:
    """The hint as the browser keeps it: the corners with one decimal, then how many frames in
    a row were followed (None: no card)."""
    if corners is None:
        return None
    xy = ",".join(f"{v:.1f}" for v in np.asarray(corners, np.float32).reshape(-1))
    return f"{xy},{min(int(followed), 999)}"


# A card turns and tilts a little between two frames a third of a second apart; its sides keep
# their proportions within this share. A quad whose proportions changed more is partly print
# (one side moved onto the portrait's edge, say), not the card moved.
_SHAPE_CHANGE = 0.12


def _same_shape(quad: np.ndarray, hint: np.ndarray) -> bool:
    """Whether the four sides of ``quad`` have the proportions of ``hint``'s (scale aside)."""
    found = np.hypot(*(np.roll(quad, -1, axis=0) - quad).T)
    before = np.hypot(*(np.roll(hint, -1, axis=0) - hint).T)
    scale = float(found.sum()) / max(float(before.sum()), 1e-6)
    return bool((np.abs(found / np.maximum(scale * before, 1e-6) - 1.0) <= _SHAPE_CHANGE).all())


_BEYOND_STEPS = (0.6, 0.85, 1.1)  # where to look beyond a side: shares of the reach, outwards
# A step is measured between samples this far (px) either side of a line: 1.5, not the search's
# 3, so that only a sharp step counts (the soft edge of a shadow or a desk's shading does not).
_SHARP = 1.5


def _edge_beyond(quad: np.ndarray, gray: np.ndarray, reach: float) -> bool:
    """Whether a side has a line parallel to it, a little further out, that is as much an
    edge as the side itself: then the side may be print inside the card (a coloured band, the
    portrait's frame) that the card's own edge, moved out of reach, left as the strongest step.
    The search would have found the outline; the tracker cannot tell, so it gives up."""
    centre = quad.mean(axis=0)
    shares = co._segment_shares(quad, np.roll(quad, -1, axis=0), gray, offset=_SHARP)
    starts, ends, own = [], [], []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        d = b - a
        n = np.array([-d[1], d[0]], np.float32) / max(float(np.hypot(*d)), 1e-6)
        if float((a - centre) @ n) < 0:  # outwards
            n = -n
        for step in _BEYOND_STEPS:
            starts.append(a + step * reach * n)
            ends.append(b + step * reach * n)
            own.append(shares[i])
    beyond = co._segment_shares(np.array(starts), np.array(ends), gray, offset=_SHARP)
    return any(share >= max(co._MIN_SIDE_SUPPORT, mine - 0.15)
               for share, mine in zip(beyond, own, strict=True))


def track_card(image: np.ndarray, hint: np.ndarray, *, detect_side: int = co.DETECT_SIDE,
               accept=None, min_area_fraction: float = co._MIN_AREA_FRACTION,
               require_qr_corner: bool = True, still_only: bool = False) -> np.ndarray | None:
    """Corners (TL, TR, BR, BL; frame pixels) of the card near ``hint`` (the last frame's
    corners), or None when no quad near it passes :func:`card_outline.find_card_small`'s tests
    and this module's two (then the caller searches the whole frame). ``still_only``: only a
    card held still is followed (its sides within ``_STILL`` of the hint), never one that
    drifted: for a photo, whose read is kept, where a drift may have put a side on print.
    The other arguments are :func:`card_outline.find_card`'s."""
    if image.ndim == 3:
        small, factor = co._downscale(co.to_gray(image), detect_side)
    else:
        small, factor = co._downscale(image, detect_side)
    h, w = small.shape[:2]
    blurred = cv2.GaussianBlur(small, (5, 5), 0)  # as the search's candidates are judged
    hint_small = co.order_corners(np.asarray(hint, np.float32).reshape(4, 2) * factor)
    if not co._quad_shape_ok(hint_small)[0]:
        return None
    test = accept or (co._has_qr_corner if require_qr_corner else co._any_outline)
    reach = max(4.0, _MOVE_SHARE * max(h, w))
    # A card held still (the frames before the photo is taken) is where it was: its sides are
    # looked for close by first, where no other edge competes. A card that moved is looked
    # for as far as a hand drifts. Either way a side found may be print inside the card whose
    # edge moved out of reach, so a side with a line as strong as itself beyond it is not
    # taken (_edge_beyond; the soft edge of a shadow is no such line).
    for radius in (_STILL,) if still_only else (_STILL, reach):
        quad = hint_small
        for r in (radius, 2.0):  # each side onto the strongest step near it, then closer
            quad = co.refine_corners(blurred, quad, radius=r)
        quad = co.order_corners(quad)
        if (co._quad_shape_ok(quad)[0] and co._inside(quad, w, h)
                and _same_shape(quad, hint_small)
                and cv2.contourArea(quad) >= min_area_fraction * float(h * w)):
            shares = co._side_shares(quad, blurred)
            if (min(shares) >= co._MIN_SIDE_SUPPORT and sum(shares) / 4 >= co._MIN_MEAN_SUPPORT
                    and not _edge_beyond(quad, blurred, reach)
                    and test(blurred, quad)):
                break
    else:
        return None
    if require_qr_corner:
        quad = co.orient_corners(small, quad)
    corners = (quad / factor).astype(np.float32)
    if factor < 0.9:
        corners = co.refine_corners(co.to_gray(image), corners, radius=1.5 / factor + 1.0)
    return corners
