"""Find the chip CCCD card in a camera frame, straighten it, and locate its portrait.

Pure functions on numpy arrays (no Flask). Geometry conventions:

* Corners are a float32 array of shape (4, 2), in frame pixels (x, y), ordered
  top-left, top-right, bottom-right, bottom-left **of the card as it reads** (the TL→TR edge is
  a long edge). From the outline alone a card upside down cannot be told from one the right way
  up, so :func:`find_card` returns the ordering in which the card is closest to upright; the QR
  reader (``qr.decode_card_qr``) settles the orientation and :func:`rotate_corners` turns the
  ordering.
* The canonical front is :data:`CARD_SIZE` = 856×540 pixels, i.e. the ID-1 format
  (85.6 × 54 mm) at 10 px/mm. The layout boxes below are in these canonical pixels; the
  synthetic card generator (``synthetic.py``) draws with the same boxes.

Detection works on a grey copy downscaled to :data:`DETECT_SIDE` pixels on the long side: edge
and brightness contours → convex hull → ``approxPolyDP`` to four vertices (``minAreaRect`` as a
fallback), aspect check against 85.6/54 ≈ 1.585, then the four sides are refitted to the edge
points with a robust line fit and intersected (this copes with the rounded card corners and with
a thumb over an edge).
"""
from __future__ import annotations

import math

import cv2
import numpy as np

CARD_SIZE = (856, 540)  # (width, height) of the canonical front, 10 px per mm
CARD_ASPECT = 85.6 / 54.0  # ≈ 1.585 (ISO/IEC 7810 ID-1)

# Layout of the chip CCCD front (canonical pixels, (x0, y0, x1, y1)).
PORTRAIT_BOX = (36, 178, 236, 428)  # 20 × 25 mm photo on the left, below the emblem
QR_BOX = (670, 26, 830, 186)  # the QR symbol itself (no quiet zone), top right
QR_SEARCH_BOX = (586, -12, 868, 272)  # where the QR reader looks: QR_BOX + generous margins
HEADER_BOTTOM = 160

DETECT_SIDE = 480  # long side of the downscaled grey image used for detection
_MIN_AREA_FRACTION = 0.03  # smaller candidates are noise (the guidance says "too far" above this)
_ASPECT_RANGE = (1.22, 2.05)  # measured side ratio allowed under perspective


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
    pts = np.asarray(points, dtype=np.float32).reshape(4, 2)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # clockwise on screen (y points down)
    best, best_score = 0, -math.inf
    for start in range(4):
        a, b, c = pts[start], pts[(start + 1) % 4], pts[(start + 2) % 4]
        top, side = b - a, c - b
        top_len, side_len = float(np.hypot(*top)), float(np.hypot(*side))
        if top_len < 1e-6:
            continue
        # prefer the long edge as the top, then the one pointing to +x
        score = (1.0 if top_len >= side_len else 0.0) + top[0] / top_len * 0.5
        if score > best_score:
            best, best_score = start, score
    return np.roll(pts, -best, axis=0).astype(np.float32)


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


def _downscale(gray: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    h, w = gray.shape[:2]
    factor = min(1.0, side / max(h, w))
    if factor >= 1.0:
        return gray, 1.0
    small = cv2.resize(gray, (round(w * factor), round(h * factor)), interpolation=cv2.INTER_AREA)
    return small, factor


def _quad_from_contour(contour: np.ndarray) -> np.ndarray | None:
    hull = cv2.convexHull(contour)
    perimeter = cv2.arcLength(hull, True)
    for eps in (0.015, 0.025, 0.035, 0.05, 0.07):
        approx = cv2.approxPolyDP(hull, eps * perimeter, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float32)
        if len(approx) < 4:
            break
    return None


def _quad_shape_ok(quad: np.ndarray) -> tuple[bool, float]:
    """(plausible card?, measured aspect) for an ordered quad."""
    tl, tr, br, bl = quad
    top, bottom = np.linalg.norm(tr - tl), np.linalg.norm(br - bl)
    left, right = np.linalg.norm(bl - tl), np.linalg.norm(br - tr)
    if min(top, bottom, left, right) < 8:
        return False, 0.0
    aspect = (top + bottom) / (left + right)
    if not (_ASPECT_RANGE[0] <= aspect <= _ASPECT_RANGE[1]):
        return False, aspect
    # opposite sides of a card seen by a webcam stay within a factor ~1.6 of each other
    if max(top, bottom) / min(top, bottom) > 1.6 or max(left, right) / min(left, right) > 1.6:
        return False, aspect
    if not cv2.isContourConvex(quad.reshape(-1, 1, 2).astype(np.float32)):
        return False, aspect
    for i in range(4):  # interior angles within 50°..130°
        a, b, c = quad[i - 1], quad[i], quad[(i + 1) % 4]
        v1, v2 = a - b, c - b
        cos = float(v1 @ v2 / (np.linalg.norm(v1) * np.linalg.norm(v2) + 1e-9))
        if abs(cos) > 0.643:
            return False, aspect
    return True, aspect


def _candidates(small: np.ndarray) -> list[np.ndarray]:
    """Contours that may be the card outline, from edges and from brightness."""
    blurred = cv2.GaussianBlur(small, (5, 5), 0)
    out: list[np.ndarray] = []
    median = float(np.median(blurred))
    low = max(10.0, 0.4 * median)
    edges = cv2.Canny(blurred, low, max(30.0, 1.0 * median + 20))
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    out.extend(contours)
    _, bright = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out.extend(contours)
    return out


def _fit_sides(quad: np.ndarray, edges_pts: np.ndarray, tol: float) -> np.ndarray:
    """Refit each side of ``quad`` to the edge points near it (middle 80 % of the side) and
    intersect neighbouring sides. Falls back to the input corner where a fit is impossible."""
    lines = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        d = b - a
        length = float(np.hypot(*d))
        if length < 1e-6 or len(edges_pts) == 0:
            return quad
        u = d / length
        n = np.array([-u[1], u[0]], np.float32)
        rel = edges_pts - a
        t = rel @ u
        dist = np.abs(rel @ n)
        sel = (dist <= tol) & (t > 0.1 * length) & (t < 0.9 * length)
        pts = edges_pts[sel]
        if len(pts) < 10:
            lines.append((a, u))
            continue
        vx, vy, x0, y0 = cv2.fitLine(pts.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append((np.array([x0, y0], np.float32), np.array([vx, vy], np.float32)))
    out = np.empty((4, 2), np.float32)
    for i in range(4):
        (p1, d1), (p2, d2) = lines[i - 1], lines[i]
        mat = np.array([[d1[0], -d2[0]], [d1[1], -d2[1]]], np.float64)
        if abs(np.linalg.det(mat)) < 1e-6:
            out[i] = quad[i]
            continue
        s = np.linalg.solve(mat, (p2 - p1).astype(np.float64))
        corner = p1 + s[0] * d1
        # a refit should move a corner a little, not across the card
        out[i] = corner if np.hypot(*(corner - quad[i])) <= 4 * tol else quad[i]
    return out


def find_card_small(small: np.ndarray) -> np.ndarray | None:
    """Corners (ordered) of the card in an already downscaled grey image, or None."""
    h, w = small.shape[:2]
    image_area = float(h * w)
    best, best_score = None, 0.0
    for contour in _candidates(small):
        area = cv2.contourArea(contour)
        if area < _MIN_AREA_FRACTION * image_area:
            continue
        quad = _quad_from_contour(contour)
        if quad is None:
            rect = cv2.minAreaRect(contour)
            box_area = rect[1][0] * rect[1][1]
            if box_area <= 0 or cv2.contourArea(cv2.convexHull(contour)) / box_area < 0.9:
                continue
            quad = cv2.boxPoints(rect).astype(np.float32)
        quad = order_corners(quad)
        ok, aspect = _quad_shape_ok(quad)
        if not ok:
            continue
        quad_area = cv2.contourArea(quad)
        hull_area = cv2.contourArea(cv2.convexHull(contour))
        fill = min(hull_area, quad_area) / max(hull_area, quad_area)
        if fill < 0.85:
            continue
        aspect_fit = math.exp(-((math.log(aspect / CARD_ASPECT) / 0.15) ** 2))
        score = quad_area * fill * (0.5 + 0.5 * aspect_fit)
        if score > best_score:
            best, best_score = quad, score
    if best is None:
        return None
    edges = cv2.Canny(cv2.GaussianBlur(small, (3, 3), 0), 30, 90)
    ys, xs = np.nonzero(edges)
    pts = np.stack([xs, ys], axis=1).astype(np.float32)
    tol = max(2.0, 0.012 * max(h, w))
    refined = _fit_sides(best, pts, tol)
    return order_corners(refined)


def find_card(image: np.ndarray, detect_side: int = DETECT_SIDE) -> np.ndarray | None:
    """Corners (4×2 float32, TL, TR, BR, BL; frame pixels) of the card in ``image``, or None."""
    gray = to_gray(image)
    small, factor = _downscale(gray, detect_side)
    corners = find_card_small(small)
    if corners is None:
        return None
    return (corners / factor).astype(np.float32)


# ----------------------------------------------------------------------------- portrait

_PORTRAIT_MARGIN = 14  # canonical px around PORTRAIT_BOX, so a slightly-off warp keeps the face


def portrait_region(card: np.ndarray) -> np.ndarray:
    """The portrait area of a canonical 856×540 card image (with a small margin)."""
    if card.shape[1] != CARD_SIZE[0] or card.shape[0] != CARD_SIZE[1]:
        card = cv2.resize(card, CARD_SIZE, interpolation=cv2.INTER_AREA)
    x0, y0, x1, y1 = PORTRAIT_BOX
    m = _PORTRAIT_MARGIN
    return card[max(0, y0 - m): y1 + m, max(0, x0 - m): x1 + m].copy()


def _looks_like_bare_card(image: np.ndarray) -> bool:
    h, w = image.shape[:2]
    return abs(w / h - CARD_ASPECT) / CARD_ASPECT < 0.04


def portrait_crop(image: np.ndarray, corners: np.ndarray | None = None) -> np.ndarray | None:
    """The card's portrait, cut from a camera frame of the card front, or None if no card.

    ``image`` may be a camera frame (the card is found, or ``corners`` given), the canonical
    856×540 warp, or a tight scan of the card (aspect ≈ 1.585, taken as the card itself).
    The crop is taken at 1.5× canonical resolution when the frame holds that much detail.
    Used by ``faces.verify`` as the ``portrait_locator``.
    """
    if image is None or image.size == 0:
        return None
    if corners is None:
        corners = find_card(image)
    if corners is None:
        if not _looks_like_bare_card(image):
            return None
        return portrait_region(to_bgr(image))
    # resolution of the card in the frame, to keep the detail a big card frame holds
    top = float(np.linalg.norm(corners[1] - corners[0]))
    scale = float(np.clip(top / CARD_SIZE[0], 1.0, 1.5))
    x0, y0, x1, y1 = PORTRAIT_BOX
    m = _PORTRAIT_MARGIN
    return warp_region(to_bgr(image), corners, (x0 - m, y0 - m, x1 + m, y1 + m), scale)


def portrait_has_face(crop: np.ndarray) -> bool | None:
    """Whether dlib's HOG detector finds a face in the portrait crop (None: dlib missing).

    Uses the face helper's shared, lazily loaded detector (``models.detect_hog``); the HOG
    detector is built into dlib and needs no weights file.
    """
    if crop is None or crop.size == 0:
        return False
    try:
        from . import models
    except ImportError:  # pragma: no cover - models.py ships with the package
        return None
    rgb = cv2.cvtColor(to_bgr(crop), cv2.COLOR_BGR2RGB)
    # the HOG window is 80 px: bring the crop to ~ 300 px high so a portrait face is ~ 120 px
    factor = 300.0 / rgb.shape[0]
    if abs(factor - 1.0) > 0.1:
        rgb = cv2.resize(rgb, None, fx=factor, fy=factor,
                         interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)
    rgb = np.ascontiguousarray(rgb)
    try:
        for upsample in (0, 1):
            if models.detect_hog(rgb, upsample):
                return True
    except (models.ModelsUnavailable, ImportError):
        return None
    return False
