"""Find the outline of a card in a camera frame and straighten it (the portrait inside it:
:mod:`kiosk.vision.card_portrait`).

Pure functions on numpy arrays (no Flask). Geometry conventions:

* Corners are a float32 array of shape (4, 2), in frame pixels (x, y), ordered
  top-left, top-right, bottom-right, bottom-left **of the card as it reads** (the TL→TR edge is
  a long edge). The outline alone cannot tell a card upside down from one the right way up:
  :func:`find_card` turns the ordering when the QR code's dense texture is clearly at the
  bottom left (:func:`orient_corners`), and otherwise returns the ordering closest to upright;
  the QR reader (``qr.decode_card_qr``) also tries the card both ways up, and
  :func:`rotate_corners` turns an ordering.
* The canonical front is :data:`CARD_SIZE` = 856×540 pixels, i.e. the ID-1 format
  (85.6 × 54 mm) at 10 px/mm. The layout boxes below are in these canonical pixels; the
  synthetic card generator (``synthetic.py``) draws with the same boxes.

Detection (:func:`find_card`) works on a copy downscaled to :data:`DETECT_SIDE` pixels on the
long side:

1. candidate outlines: contours of the Canny edges, of the regions those edges enclose (with
   thin attachments opened away), of the bright (Otsu) areas and of the pale, colourless areas;
2. each candidate: convex hull → ``approxPolyDP`` to four vertices (Visvalingam reduction, then
   ``minAreaRect``, as fallbacks) → shape check (aspect 85.6/54 ≈ 1.585 within what perspective
   allows, convex, angles 50–130°) → the four sides refitted to the outline points with a robust
   line fit and intersected (rounded corners, a thumb over an edge);
3. every side must be a real grey-level step along most of its length; one or two adjacent
   sides that are not (the card merged with a paper of nearly its shade) are re-placed where the
   aspect ratio predicts them;
4. the quad must lie in the frame and have a busy (QR-like) corner, which tells a CCCD front
   from a sheet of paper; the best by area × fit × aspect × edge support wins;
5. its sides are refined on the full-resolution image (strongest step within a few pixels),
   and the ordering is turned if the QR code is at the bottom left.

Median corner error on the synthetic scenes: under 1 px (640×480 and 1280×720 frames).
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from kiosk.vision import pixel_stats

CARD_SIZE = (856, 540)  # (width, height) of the canonical front, 10 px per mm
CARD_ASPECT = 85.6 / 54.0  # ≈ 1.585 (ISO/IEC 7810 ID-1)

# Layout of the chip CCCD front (canonical pixels, (x0, y0, x1, y1)).
PORTRAIT_BOX = (36, 178, 236, 428)  # 20 × 25 mm photo on the left, below the emblem
QR_BOX = (640, 22, 832, 214)  # the QR symbol itself (no quiet zone), ~19 mm, top right
QR_SEARCH_BOX = (556, -14, 870, 300)  # where the QR reader looks: QR_BOX + generous margins

DETECT_SIDE = 480  # long side of the downscaled grey image used for detection
_MIN_AREA_FRACTION = 0.03  # smaller candidates are noise (the guidance says "too far" above this)
_ASPECT_RANGE = (1.22, 2.05)  # measured side ratio allowed under perspective
_MIN_SIDE_SUPPORT = 0.55  # every side must be an edge for at least this share of its length
_MIN_MEAN_SUPPORT = 0.7  # … and the four sides on average for this share
_REPAIR_OTHERS = 0.6  # a side is re-placed only when the other sides are at least this good
_REPAIRED_OTHERS = 0.8  # after re-placing, the sides kept must be this good
_REPAIRED_SIDE = 0.3  # … and a re-placed side at least this (a faint edge on a paper)
_QR_CONTRAST = 0.18  # grey-level std / mean in the QR corner of a plausible CCCD front
_ORIENT_MIN_TEXTURE = 0.035  # QR-like texture needed to call a card upside down (a portrait
# or print scores < 0.03, a readable QR 0.08–0.3 on the synthetic scenes)


def to_gray(image: np.ndarray) -> np.ndarray:
    """uint8 grey from grey, BGR or BGRA."""
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def to_bgr(image: np.ndarray) -> np.ndarray:
    """uint8 BGR from grey, BGR or BGRA."""
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


# ----------------------------------------------------------------------------- corners


def order_corners(points: np.ndarray) -> np.ndarray:
    """Order four points TL, TR, BR, BL so that TL→TR is a long side pointing most to the right.

    Works for any in-plane rotation up to ±90° (beyond that the card is upside down, which only
    the QR code can tell).
    """
    # Plain floats: the outline search orders a few hundred quads a frame, and numpy's per-call
    # overhead on four points cost more than the arithmetic.
    pts = np.asarray(points, dtype=np.float32).reshape(4, 2)
    xy = pts.tolist()
    cx, cy = sum(p[0] for p in xy) / 4, sum(p[1] for p in xy) / 4
    # clockwise on screen (y points down)
    order = sorted(range(4), key=lambda i: math.atan2(xy[i][1] - cy, xy[i][0] - cx))
    ring = [xy[i] for i in order]
    best, best_score = 0, -math.inf
    for start in range(4):
        a, b, c = ring[start], ring[(start + 1) % 4], ring[(start + 2) % 4]
        top_x, top_y = b[0] - a[0], b[1] - a[1]
        top_len, side_len = math.hypot(top_x, top_y), math.hypot(c[0] - b[0], c[1] - b[1])
        if top_len < 1e-6:
            continue
        # prefer the long edge as the top, then the one pointing to +x
        score = (1.0 if top_len >= side_len else 0.0) + top_x / top_len * 0.5
        if score > best_score:
            best, best_score = start, score
    return pts[[order[(best + k) % 4] for k in range(4)]]


def rotate_corners(corners: np.ndarray, quarter_turns: int) -> np.ndarray:
    """The same quadrilateral with its ordering turned: 2 = the card is upside down."""
    return np.roll(np.asarray(corners, np.float32).reshape(4, 2), -quarter_turns, axis=0)


def card_homography(corners: np.ndarray, size: tuple[int, int] = CARD_SIZE) -> np.ndarray:
    """3×3 matrix mapping frame pixels to canonical card pixels of ``size``."""
    w, h = size
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    return cv2.getPerspectiveTransform(np.asarray(corners, np.float32).reshape(4, 2), dst)


def warp_card(image: np.ndarray, corners: np.ndarray,
              size: tuple[int, int] = CARD_SIZE) -> np.ndarray:
    """The card straightened to ``size`` (default the canonical 856×540 front)."""
    matrix = card_homography(corners, size)
    return cv2.warpPerspective(image, matrix, size, flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)


def warp_region(image: np.ndarray, corners: np.ndarray, box: tuple[float, float, float, float],
                scale: float = 1.0) -> np.ndarray:
    """Canonical-card region ``box`` = (x0, y0, x1, y1) cut straight out of the frame.

    ``scale`` is output pixels per canonical pixel; the region may extend past the card.
    """
    x0, y0, x1, y1 = box
    out_w, out_h = round((x1 - x0) * scale), round((y1 - y0) * scale)
    to_card = card_homography(corners)
    to_region = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale], [0, 0, 1]])
    matrix = to_region @ to_card
    return cv2.warpPerspective(image, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)


def corners_from_qr(qr_points: np.ndarray) -> np.ndarray:
    """Card corners extrapolated from the QR symbol's four corners (TL, TR, BR, BL of the
    symbol as it reads). Less precise than :func:`find_card` (the QR is a fifth of the card's
    width) but enough to crop the portrait when the card outline is hidden."""
    x0, y0, x1, y1 = QR_BOX
    src = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, np.asarray(qr_points, np.float32).reshape(4, 2))
    w, h = CARD_SIZE
    card = np.array([[[0, 0], [w, 0], [w, h], [0, h]]], np.float32)
    return cv2.perspectiveTransform(card, matrix)[0].astype(np.float32)


# ----------------------------------------------------------------------------- detection


def _downscale(image: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    h, w = image.shape[:2]
    factor = min(1.0, side / max(h, w))
    if factor >= 1.0:
        return image, 1.0
    small = cv2.resize(image, (round(w * factor), round(h * factor)), interpolation=cv2.INTER_AREA)
    return small, factor


def _reduce_to_quad(poly: np.ndarray) -> np.ndarray | None:
    """Drop, one at a time, the vertex whose triangle with its neighbours has the smallest
    area (Visvalingam) until four remain: keeps the real corners of a rounded or bumpy outline."""
    pts = [p for p in poly.reshape(-1, 2).astype(np.float64)]
    if len(pts) < 4:
        return None
    while len(pts) > 4:
        n = len(pts)
        areas = []
        for i in range(n):
            u, v = pts[i - 1] - pts[i], pts[(i + 1) % n] - pts[i]
            areas.append(abs(float(u[0] * v[1] - u[1] * v[0])))
        del pts[int(np.argmin(areas))]
    return np.array(pts, np.float32)


def _quad_from_contour(contour: np.ndarray) -> np.ndarray | None:
    hull = cv2.convexHull(contour)
    perimeter = cv2.arcLength(hull, True)
    for eps in (0.015, 0.025, 0.035, 0.05):
        approx = cv2.approxPolyDP(hull, eps * perimeter, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float32)
        if len(approx) < 4:
            break
    return _reduce_to_quad(cv2.approxPolyDP(hull, 0.005 * perimeter, True))


def _quad_shape_ok(quad: np.ndarray) -> tuple[bool, float]:
    """(plausible card?, measured aspect) for an ordered quad."""
    corners = np.asarray(quad, np.float64).reshape(4, 2).tolist()
    (tlx, tly), (trx, try_), (brx, bry), (blx, bly) = corners
    top, bottom = math.hypot(trx - tlx, try_ - tly), math.hypot(brx - blx, bry - bly)
    left, right = math.hypot(blx - tlx, bly - tly), math.hypot(brx - trx, bry - try_)
    if min(top, bottom, left, right) < 8:
        return False, 0.0
    aspect = (top + bottom) / (left + right)
    if not (_ASPECT_RANGE[0] <= aspect <= _ASPECT_RANGE[1]):
        return False, aspect
    # opposite sides of a card seen by a webcam stay within a factor ~1.6 of each other
    if max(top, bottom) / min(top, bottom) > 1.6 or max(left, right) / min(left, right) > 1.6:
        return False, aspect
    if not cv2.isContourConvex(np.asarray(quad, np.float32).reshape(-1, 1, 2)):
        return False, aspect
    for i in range(4):  # interior angles within 50°..130°
        (ax, ay), (bx, by), (cx, cy) = corners[i - 1], corners[i], corners[(i + 1) % 4]
        v1x, v1y, v2x, v2y = ax - bx, ay - by, cx - bx, cy - by
        cos = (v1x * v2x + v1y * v2y) / (math.hypot(v1x, v1y) * math.hypot(v2x, v2y) + 1e-9)
        if abs(cos) > 0.643:
            return False, aspect
    return True, aspect


def _segment_shares(starts: np.ndarray, ends: np.ndarray, gray: np.ndarray, samples: int = 24,
                    offset: float = 3.0, step: float = 9.0) -> np.ndarray:
    """For each segment start→end, the share of points along it (middle 80 %) where the grey
    level steps by at least ``step`` across it (``offset`` px on either side), the same way.

    A true card outline is such a step almost all along (less where a thumb covers it, or
    where the card lies on a paper of the same shade); a quad that merely approximates a blob
    of card + something next to it crosses flat areas."""
    h, w = gray.shape[:2]
    starts = np.asarray(starts, np.float32).reshape(-1, 2)
    d = np.asarray(ends, np.float32).reshape(-1, 2) - starts
    n = np.stack([-d[:, 1], d[:, 0]], axis=1) / (np.hypot(d[:, 0], d[:, 1])[:, None] + 1e-6)
    t = (np.arange(samples, dtype=np.float32) + 0.5) / samples * 0.8 + 0.1
    pts = starts[:, None, :] + d[:, None, :] * t[None, :, None]  # (segments, samples, 2)
    values = []
    for sign in (1.0, -1.0):
        q = np.rint(pts + sign * offset * n[:, None, :]).astype(np.int32)
        xs = np.clip(q[..., 0], 0, w - 1)
        ys = np.clip(q[..., 1], 0, h - 1)
        values.append(gray[ys, xs].astype(np.int16))
    diff = values[0] - values[1]
    # the step must keep its sign (card lighter, or darker, than what is beside it): a line
    # across texture or print steps both ways
    up = np.count_nonzero(diff >= step, axis=1)
    down = np.count_nonzero(diff <= -step, axis=1)
    return np.maximum(up, down).astype(np.float32) / samples


def _side_shares(quad: np.ndarray, gray: np.ndarray) -> list[float]:
    """:func:`_segment_shares` of the four sides of a quad."""
    quad = np.asarray(quad, np.float32).reshape(-1, 2)
    return [float(v) for v in _segment_shares(quad, np.roll(quad, -1, axis=0), gray)]


def _crossing(p1, d1, p2, d2) -> tuple[float, float] | None:
    """Where the line through ``p1`` along ``d1`` meets the one through ``p2`` along ``d2``
    (plain floats), or None when they are parallel. Cramer's rule: the outline search
    intersects a few hundred pairs of lines a frame, and numpy's solver costs ~20 µs a call
    on a 2×2 system."""
    d1x, d1y, d2x, d2y = float(d1[0]), float(d1[1]), float(d2[0]), float(d2[1])
    det = d2x * d1y - d1x * d2y
    if abs(det) < 1e-6:
        return None
    rx, ry = float(p2[0]) - float(p1[0]), float(p2[1]) - float(p1[1])
    s = (d2x * ry - rx * d2y) / det
    return float(p1[0]) + s * d1x, float(p1[1]) + s * d1y


def _intersect(p1, d1, p2, d2) -> np.ndarray | None:
    found = _crossing(p1, d1, p2, d2)
    return None if found is None else np.array(found, np.float64)


def _repair_side(quad: np.ndarray, gray: np.ndarray, side: int) -> np.ndarray | None:
    """Re-place side ``side`` of a quad whose other sides are good: parallel to the opposite
    side, at the distance the card's aspect ratio predicts (±15 %), where the grey level steps
    most along it. For a card lying partly on a paper of nearly its shade, whose outline then
    merges with the paper's."""
    opp = (side + 2) % 4
    a, b = quad[opp], quad[(opp + 1) % 4]
    d = (b - a).astype(np.float64)
    opp_len = float(np.hypot(*d))
    if opp_len < 1e-6:
        return None
    u = d / opp_len
    n = np.array([-u[1], u[0]])
    # which way the card lies from the opposite side
    centre = quad.mean(axis=0)
    if (centre - a) @ n < 0:
        n = -n
    long_side = side % 2 == 0  # sides 0 (top) and 2 (bottom) are the long ones
    expected = opp_len / CARD_ASPECT if long_side else opp_len * CARD_ASPECT
    prev_p, prev_d = quad[side - 1], quad[side] - quad[side - 1]
    next_p, next_d = quad[(side + 1) % 4], quad[(side + 2) % 4] - quad[(side + 1) % 4]
    dists = np.linspace(0.85 * expected, 1.15 * expected, 25)
    # the candidate sides, all 25 at once: each crosses the two neighbouring sides
    starts = a.astype(np.float64)[None, :] + dists[:, None] * n[None, :]
    ends = []
    for p2, d2 in ((prev_p, prev_d), (next_p, next_d)):
        d2x, d2y = float(d2[0]), float(d2[1])
        det = d2x * u[1] - u[0] * d2y
        if abs(det) < 1e-6:  # parallel to a neighbour: no corner (as _crossing)
            return None
        r = np.asarray(p2, np.float64)[None, :] - starts
        along = (d2x * r[:, 1] - r[:, 0] * d2y) / det
        ends.append(starts + along[:, None] * u[None, :])
    shares = _segment_shares(ends[0], ends[1], gray)
    tried = [[float(share), dist, c1, c2]
             for share, dist, c1, c2 in zip(shares, dists, ends[0], ends[1], strict=True)]
    # the outermost clear edge: the print inside the card (portrait frame, QR code) makes edges
    # parallel to the card's own a little further in
    clear = [t for t in tried if t[0] >= 0.7]
    best = max(clear, key=lambda t: t[1]) if clear else max(tried, key=lambda t: t[0])
    best = (best[2], best[3])
    out = quad.copy().astype(np.float32)
    out[side] = best[0]
    out[(side + 1) % 4] = best[1]
    return out


def _candidates(small: np.ndarray, small_bgr: np.ndarray | None = None,
                faint_edges: bool = False) -> tuple[list[np.ndarray], np.ndarray]:
    """Contours that may be the card outline (from edges, brightness and colour), and the
    smoothed grey image used to check them. ``faint_edges`` adds the outlines of a Canny pass
    with low fixed thresholds: the brightness-scaled thresholds lose a light card on a light
    desk (edge contrast of 15–30 grey levels at a median of ~200)."""
    blurred = cv2.GaussianBlur(small, (5, 5), 0)
    out: list[np.ndarray] = []
    median = pixel_stats.median(blurred)
    low, high = max(10.0, 0.4 * median), max(30.0, 1.0 * median + 20)
    kernel = np.ones((3, 3), np.uint8)
    edges = cv2.dilate(cv2.Canny(blurred, low, high), kernel)
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    out.extend(contours)
    if faint_edges and high > 40:
        faint = cv2.dilate(cv2.Canny(blurred, 12, 36), kernel)
        contours, _ = cv2.findContours(faint, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
        out.extend(contours)
    # Regions enclosed by edges, with thin attachments opened away: the card's outline often
    # touches the QR code (dilated) or the edge of a paper under it; the filled region of the
    # card minus such lines is the card.
    padded = cv2.copyMakeBorder(edges, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    cv2.floodFill(padded, None, (0, 0), 128)
    enclosed = np.where(padded[1:-1, 1:-1] == 128, 0, 255).astype(np.uint8)
    k = max(5, round(0.016 * max(small.shape)) | 1)
    enclosed = cv2.morphologyEx(enclosed, cv2.MORPH_OPEN,
                                cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    contours, _ = cv2.findContours(enclosed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    out.extend(contours)
    _, bright = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    c = max(7, round(0.025 * max(small.shape)) | 1)
    close_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (c, c))
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, close_kernel)
    bright = cv2.morphologyEx(bright, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    out.extend(contours)
    if small_bgr is not None:
        # the card is light and nearly colourless: separates it from coloured things it touches
        hsv = cv2.cvtColor(cv2.GaussianBlur(small_bgr, (5, 5), 0), cv2.COLOR_BGR2HSV)
        v_cut, _ = cv2.threshold(hsv[:, :, 2], 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        pale = ((hsv[:, :, 1] < 60) & (hsv[:, :, 2] > v_cut)).astype(np.uint8) * 255
        # close over the dark print (the QR code reaches close to the card's edge)
        pale = cv2.morphologyEx(pale, cv2.MORPH_CLOSE, close_kernel)
        pale = cv2.morphologyEx(pale, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
        contours, _ = cv2.findContours(pale, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        out.extend(contours)
    return out, blurred


def _fit_sides(quad: np.ndarray, points: np.ndarray, tol: float) -> np.ndarray:
    """Refit each side of ``quad`` to the outline points near it (middle 80 % of the side, twice,
    the second time closer to the first fit) and intersect neighbouring sides. This puts the
    corners where the straight edges meet (a card's corners are rounded) and ignores a thumb
    over an edge. Keeps the input corner where a fit is impossible."""
    lines = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        d = b - a
        length = float(np.hypot(*d))
        if length < 1e-6:
            return quad
        point, direction = a.astype(np.float32), (d / length).astype(np.float32)
        for band in (tol, tol / 2):
            u = direction
            n = np.array([-u[1], u[0]], np.float32)
            rel = points - point
            t = rel @ u
            t0 = (a - point) @ u
            sel = ((np.abs(rel @ n) <= band) & (t > t0 + 0.1 * length)
                   & (t < t0 + 0.9 * length))
            pts = points[sel]
            if len(pts) < 8:
                break
            vx, vy, x0, y0 = cv2.fitLine(pts, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
            direction = np.array([vx, vy], np.float32)
            if direction @ (d / length) < 0:
                direction = -direction
            point = np.array([x0, y0], np.float32)
        lines.append((point, direction))
    out = np.empty((4, 2), np.float32)
    for i in range(4):
        (p1, d1), (p2, d2) = lines[i - 1], lines[i]
        corner = _crossing(p1, d1, p2, d2)
        # a refit should move a corner a little, not across the card
        near = corner is not None and math.hypot(corner[0] - float(quad[i][0]),
                                                 corner[1] - float(quad[i][1])) <= 4 * tol
        out[i] = corner if near else quad[i]
    return out


def _inside(quad: np.ndarray, w: int, h: int, margin: float = 0.02) -> bool:
    """All corners within the image (give or take ``margin`` of its size): a card cut by the
    frame's edge cannot be located reliably."""
    mx, my = margin * w, margin * h
    return bool(((quad[:, 0] >= -mx) & (quad[:, 0] <= w + mx)
                 & (quad[:, 1] >= -my) & (quad[:, 1] <= h + my)).all())


_CHECK_SIZE = (214, 135)  # a quarter of the canonical card


def _has_qr_corner(gray: np.ndarray, quad: np.ndarray) -> bool:
    """Whether the quad's top-right (or, upside down, bottom-left) corner region is busy like a
    QR code — what tells a CCCD front from a sheet of paper or a book of the same shape."""
    f = _CHECK_SIZE[0] / CARD_SIZE[0]
    small = cv2.warpPerspective(gray, card_homography(quad, _CHECK_SIZE), _CHECK_SIZE,
                                flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    mean = max(float(small.mean()), 1.0)
    x0, y0, x1, y1 = (round(v * f) for v in QR_BOX)
    w, h = _CHECK_SIZE
    for box in (small[y0:y1, x0:x1], small[h - y1:h - y0, w - x1:w - x0]):
        if box.size and float(box.std()) / mean >= _QR_CONTRAST:
            return True
    return False


_ORIENT_SIZE = (428, 270)


def _qr_texture(gray: np.ndarray, quad: np.ndarray) -> tuple[float, float]:
    """How QR-like (dense steps both across and down) the top-right corner box and, for the
    card upside down, the bottom-left one are. ~0.1–0.3 for a readable QR, < 0.03 for the
    portrait or print; 0 for both when the image is too blurred or small to tell."""
    w, h = _ORIENT_SIZE
    f = w / CARD_SIZE[0]
    warp = cv2.warpPerspective(gray, card_homography(quad, _ORIENT_SIZE), _ORIENT_SIZE,
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    lo, hi = pixel_stats.percentiles(warp, (5, 95))
    warp = warp.astype(np.int16)
    threshold = max(6.0, 0.25 * float(hi - lo))
    x0, y0, x1, y1 = (round(v * f) for v in QR_BOX)
    out = []
    for box in (warp[y0:y1, x0:x1], warp[h - y1:h - y0, w - x1:w - x0]):
        across = np.count_nonzero(np.abs(np.diff(box, axis=1)) > threshold) / box.size
        down = np.count_nonzero(np.abs(np.diff(box, axis=0)) > threshold) / box.size
        out.append(float(min(across, down)))
    return out[0], out[1]


def orient_corners(gray: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """The same corners, turned if the QR code (dense texture) is clearly at the bottom left
    — i.e. the card is upside down; unchanged when the image cannot tell."""
    top_right, bottom_left = _qr_texture(gray, corners)
    if bottom_left > max(_ORIENT_MIN_TEXTURE, 4.0 * top_right):
        return rotate_corners(corners, 2)
    return corners


def _any_outline(_blurred, _quad) -> bool:
    """Accept every card-shaped outline (the caller checks what is printed on it)."""
    return True


def find_card_small(small: np.ndarray, small_bgr: np.ndarray | None = None,
                    accept=None, faint_edges: bool = False,
                    min_area_fraction: float = _MIN_AREA_FRACTION,
                    require_qr_corner: bool = True) -> np.ndarray | None:
    """Corners (ordered) of the card in an already downscaled grey image (and its colour
    version, if there is one), or None. ``accept(blurred_grey, quad) -> bool`` decides whether
    a card-shaped outline is a card (default: it has a QR-busy corner, a chip CCCD front, or,
    with ``require_qr_corner=False``, any card-shaped outline: the 2024 front, any back — the
    caller then confirms it is a card by what is on it); the guidance passes a looser check so
    that fronts without a QR and backs are found too. ``faint_edges``: see :func:`_candidates`.
    ``min_area_fraction``: smaller outlines are ignored (the guidance looks for smaller cards,
    to say "come closer" rather than "no card")."""
    h, w = small.shape[:2]
    image_area = float(h * w)
    tol = max(3.0, 0.015 * max(h, w))
    best, best_score = None, 0.0
    contours, blurred = _candidates(small, small_bgr, faint_edges)
    seen: list[np.ndarray] = []
    for contour in contours:
        area = cv2.contourArea(contour)
        if area < min_area_fraction * image_area:
            continue
        quad = _quad_from_contour(contour)
        if quad is None:
            rect = cv2.minAreaRect(contour)
            box_area = rect[1][0] * rect[1][1]
            if box_area <= 0 or cv2.contourArea(cv2.convexHull(contour)) / box_area < 0.9:
                continue
            quad = cv2.boxPoints(rect).astype(np.float32)
        quad = order_corners(quad)
        ok, _ = _quad_shape_ok(quad)
        if not ok:
            continue
        # the edge, brightness and colour masks often give the same outline: judge it once
        if any(np.abs(quad - other).max() < 0.01 for other in seen):
            continue
        seen.append(quad)
        hull_area = cv2.contourArea(cv2.convexHull(contour))
        points = contour.reshape(-1, 2)
        if len(points) > 1500:  # plenty for four line fits
            points = points[:: len(points) // 1500 + 1]
        quad = order_corners(_fit_sides(quad, points.astype(np.float32), tol))
        ok, aspect = _quad_shape_ok(quad)
        if not ok:
            continue
        quad_area = cv2.contourArea(quad)
        fill = min(hull_area, quad_area) / max(hull_area, quad_area)
        shares = _side_shares(quad, blurred)
        # A bad side or two (adjacent) while the others are good: the card merged with
        # something next to it (a paper of nearly its shade); re-place those sides.
        repaired: list[int] = []
        bad_sides = sorted((j for j in range(4) if shares[j] < _MIN_SIDE_SUPPORT),
                           key=lambda j: shares[j])
        fixable = (0 < len(bad_sides) <= 2
                   and (len(bad_sides) == 1 or (bad_sides[0] - bad_sides[1]) % 2 == 1)
                   and all(shares[j] >= _REPAIR_OTHERS for j in range(4) if j not in bad_sides))
        for bad in bad_sides if fixable else ():
            new_quad = _repair_side(quad, blurred, bad)
            if new_quad is None:
                break
            quad, shares = new_quad, _side_shares(new_quad, blurred)
            repaired.append(bad)
        if repaired:
            kept = [shares[j] for j in range(4) if j not in repaired]
            ok, aspect = _quad_shape_ok(order_corners(quad))
            if (not ok or min(kept) < _REPAIRED_OTHERS
                    or min(shares[j] for j in repaired) < _REPAIRED_SIDE):
                continue
            quad = order_corners(quad)
            quad_area, fill = cv2.contourArea(quad), 0.9
            shares = [max(v, _MIN_SIDE_SUPPORT) for v in shares]
            shares = [max(v, _MIN_MEAN_SUPPORT) if i in repaired else v
                      for i, v in enumerate(shares)]
        if fill < 0.8:
            continue
        worst, support = min(shares), sum(shares) / 4
        if worst < _MIN_SIDE_SUPPORT or support < _MIN_MEAN_SUPPORT:
            continue
        if not _inside(quad, w, h) or not (accept or (_has_qr_corner if require_qr_corner
                                                      else _any_outline))(blurred, quad):
            continue
        aspect_fit = math.exp(-((math.log(aspect / CARD_ASPECT) / 0.15) ** 2))
        score = quad_area * fill * (0.5 + 0.5 * aspect_fit) * support
        if score > best_score:
            best, best_score = quad, score
    if best is not None and require_qr_corner:
        best = orient_corners(small, best)
    return best


def refine_corners(gray: np.ndarray, corners: np.ndarray, radius: float) -> np.ndarray:
    """Move each side of the quad onto the strongest grey-level step within ``radius`` px of
    it (at the image's own resolution), refit the sides and intersect them. Undoes most of the
    error of a detection made on a downscaled copy."""
    img = gray.astype(np.float32)
    ts = np.linspace(0.12, 0.88, 32, dtype=np.float32)
    offs = np.arange(-radius, radius + 0.01, 0.5, dtype=np.float32)
    lines = []
    for i in range(4):
        a, b = corners[i], corners[(i + 1) % 4]
        d = b - a
        length = float(np.hypot(*d))
        if length < 1e-6:
            return corners
        n = np.array([-d[1], d[0]], np.float32) / length
        pts = a[None, :] + ts[:, None] * d[None, :]
        xs = pts[:, 0:1] + offs[None, :] * n[0]
        ys = pts[:, 1:2] + offs[None, :] * n[1]
        profile = cv2.remap(img, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        step = np.abs(np.diff(profile, axis=1))
        best = np.argmax(step, axis=1)
        strong = step[np.arange(len(ts)), best] >= 4.0
        if np.count_nonzero(strong) < 8:
            lines.append((a, d / length))
            continue
        shift = (offs[best] + offs[best + 1]) / 2
        edge = pts + shift[:, None] * n[None, :]
        vx, vy, x0, y0 = cv2.fitLine(edge[strong], cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append((np.array([x0, y0], np.float32), np.array([vx, vy], np.float32)))
    out = corners.copy()
    for i in range(4):
        corner = _intersect(lines[i - 1][0], lines[i - 1][1], lines[i][0], lines[i][1])
        if corner is not None and np.hypot(*(corner - corners[i])) <= 3 * radius:
            out[i] = corner
    return out.astype(np.float32)


def find_card(image: np.ndarray, detect_side: int = DETECT_SIDE,
              refine: bool = True, accept=None, faint_edges: bool = False,
              min_area_fraction: float = _MIN_AREA_FRACTION,
              require_qr_corner: bool = True) -> np.ndarray | None:
    """Corners (4×2 float32, TL, TR, BR, BL; frame pixels) of the card in ``image``, or None.
    ``accept``, ``faint_edges``, ``min_area_fraction``, ``require_qr_corner``: see
    :func:`find_card_small`."""
    if image.ndim == 3:
        small_bgr, factor = _downscale(to_bgr(image), detect_side)
        small = to_gray(small_bgr)
    else:
        small, factor = _downscale(image, detect_side)
        small_bgr = None
    corners = find_card_small(small, small_bgr, accept, faint_edges, min_area_fraction,
                              require_qr_corner)
    if corners is None:
        return None
    corners = (corners / factor).astype(np.float32)
    if refine and factor < 0.9:
        corners = refine_corners(to_gray(image), corners, radius=1.5 / factor + 1.0)
    return corners
