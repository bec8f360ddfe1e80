"""Per-frame quality check of a webcam frame of an ID card → what to tell the customer.

``analyse_frame(frame)`` runs on every preview frame (target ≤ 33 ms median for 640×480 on a
2-core kiosk PC; measured by ``bench/bench_guidance.py``), so it finds the card on a downscaled
grey copy and computes its metrics on a small straightened copy of the card
(:data:`METRIC_WIDTH` px wide), never on the full frame.

Issue codes, in the order the customer should fix them (the first message is the one to show):

=========== ==========================================================================
too_dark    the card (the middle of the frame if no card) is too dark to judge
no_card     no card-shaped, printed quadrilateral found
too_far     the card's long edge spans too little of the frame width
too_close   the card fills (nearly) the whole frame or touches its border
tilted      turned in the plane, or held at an angle to the camera (plane normal vs axis)
blurred     little fine detail left on the straightened card (re-blur ratio)
glare       saturated pixels well above the card's own paper level (a reflection)
=========== ==========================================================================

The limits are in :class:`GuidanceLimits`. They were calibrated on a labelled set made by two
independent scene generators (``tests/support/synthetic.py`` and
``tests/support/card_scenes.py``; fronts and backs of 2021 and 2024 cards, six kinds of
background, lighting, colour casts, noise, JPEG) and checked on a held-out part: the
definitions, the command and the confusion table are in docs/vision-guidance.md. Metrics are
plain floats, ready for JSON.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from kiosk.vision import card_outline, card_track, pixel_stats

METRIC_WIDTH = 320  # straightened card for blur/glare/brightness: ~1.7 px per QR module
DETECT_SIDE = 400  # long side of the copy the card is searched in

MESSAGES = {
    "no_card": "Chưa thấy giấy tờ trong khung",
    "too_far": "Đưa giấy tờ lại gần hơn",
    "too_close": "Đưa giấy tờ ra xa hơn một chút",
    "tilted": "Giữ giấy tờ thẳng, không nghiêng",
    "blurred": "Ảnh bị mờ, giữ yên tay",
    "glare": "Bị lóa sáng, nghiêng nhẹ giấy tờ để tránh đèn",
    "too_dark": "Thiếu sáng, di chuyển tới chỗ sáng hơn",
}
ISSUE_ORDER = ("too_dark", "no_card", "too_far", "too_close", "tilted", "blurred", "glare")


@dataclass(frozen=True)
class GuidanceLimits:
    min_width_fraction: float = 0.41  # card's long edge / frame width
    min_card_px: float = 200.0  # … and in pixels (a tiny frame cannot show a readable card)
    max_extent_fraction: float = 0.94  # card's bounding box over this share of width/height
    border_margin: float = 0.012  # a corner closer than this (× shorter frame side) to the edge
    max_skew_deg: float = 12.5  # in-plane rotation
    max_tilt_deg: float = 25.0  # angle between the card's normal and the camera axis
    focal_width: float = 0.8  # assumed focal length / frame width (webcams: ~55–78° field)
    max_blur: float = 0.32  # re-blur ratio (0 sharp … 1 nothing left to lose)
    glare_level: int = 250  # a glare pixel is at least this bright …
    glare_above_paper: float = 15.0  # … and this far above the paper level around it
    max_glare_fraction: float = 0.006  # share of card pixels that are glare
    min_brightness: float = 66.0  # mean grey level of the card, 0–255
    min_surface_extent: float = 0.75  # see inside_bigger_card: a small quad on a card this big
    min_area_fraction: float = 0.012  # outlines smaller than this share of the frame are not
    # searched: a card ~12 % of the frame width is still found (and told to come closer)
    min_print: float = 0.05  # printed-detail density that tells a card from a blank sheet


DEFAULT_THRESHOLDS = DEFAULT_LIMITS = GuidanceLimits()
Thresholds = GuidanceLimits  # the name docs/vision-card.md used


@dataclass(frozen=True)
class Guidance:
    ok: bool
    issues: list[str]
    messages: list[str]
    corners: np.ndarray | None  # (4, 2) float32 frame pixels, TL, TR, BR, BL; None if no card
    metrics: dict = field(default_factory=dict)
    followed: bool = False  # the card was found near the hint, without searching the frame

    @property
    def message(self) -> str | None:
        """The one instruction to show now (None when the frame is good)."""
        return self.messages[0] if self.messages else None

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "issues": list(self.issues),
            "messages": list(self.messages),
            "corners": None if self.corners is None else np.round(self.corners, 1).tolist(),
            "metrics": dict(self.metrics),
        }


# ----------------------------------------------------------------------------- is it a card?

_PRINT_SIZE = (160, 101)


def print_density(gray: np.ndarray, quad: np.ndarray) -> float:
    """Share of the quad's inside (straightened, 160 px wide) that stands out from its 7 × 7
    neighbourhood by more than a few grey levels: text, a photo, a QR code or a chip make a
    card score well above a blank sheet, a sticky note or a plain book cover (calibrated
    limit: ``GuidanceLimits.min_print``). Measured against the local mean rather than between
    neighbouring pixels, so a small or slightly blurred card still counts its print."""
    warp = cv2.warpPerspective(gray, card_outline.card_homography(quad, _PRINT_SIZE), _PRINT_SIZE,
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    lo, hi = pixel_stats.percentiles(warp[8:-8, 8:-8], (5, 95))
    inner = warp[8:-8, 8:-8].astype(np.float32)
    local = cv2.blur(inner, (7, 7))
    step = max(6.0, 0.12 * float(hi - lo))
    return float(np.count_nonzero(np.abs(inner - local) > step)) / inner.size


_PLAIN_ASPECT = (1.38, 1.85)  # a card without a QR corner must be this close to ID-1's 1.585


def _printed_card(limit: float):
    """The guidance's test of "is this outline a card": a chip CCCD front by its QR corner;
    any other side (2024 fronts have no QR, backs have a chip and a machine-readable zone) by
    its print, with a stricter aspect so the portrait photo inside a card cut by the frame's
    edge (20 × 25 mm, aspect ~1.3) is not taken for the card."""
    def accept(blurred: np.ndarray, quad: np.ndarray) -> bool:
        if card_outline._has_qr_corner(blurred, quad):
            return True
        tl, tr, br, bl = quad
        aspect = ((np.linalg.norm(tr - tl) + np.linalg.norm(br - bl))
                  / max(1e-6, np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)))
        return _PLAIN_ASPECT[0] <= aspect <= _PLAIN_ASPECT[1] and print_density(blurred, quad) >= limit
    return accept


# ----------------------------------------------------------------------------- geometry

def _side_lengths(c: np.ndarray) -> tuple[float, float, float, float]:
    top = float(np.linalg.norm(c[1] - c[0]))
    right = float(np.linalg.norm(c[2] - c[1]))
    bottom = float(np.linalg.norm(c[2] - c[3]))
    left = float(np.linalg.norm(c[3] - c[0]))
    return top, right, bottom, left


def tilt_degrees(corners: np.ndarray, frame_w: int, frame_h: int, focal_width: float) -> float:
    """Angle between the card's normal and the camera axis, from the homography of the ID-1
    rectangle to the corners under a pinhole camera of focal length ``focal_width`` × width.

    Unlike the ratio of opposite sides, this sees a card turned about its own axis in the
    middle of the frame (foreshortening) as well as one seen off-centre."""
    f = focal_width * frame_w
    k_inv = np.array([[1 / f, 0, -frame_w / (2 * f)], [0, 1 / f, -frame_h / (2 * f)], [0, 0, 1]])
    src = np.array([[0, 0], [85.6, 0], [85.6, 54.0], [0, 54.0]], np.float32)
    h = cv2.getPerspectiveTransform(src, np.asarray(corners, np.float32).reshape(4, 2))
    m = k_inv @ h
    r1, r2 = m[:, 0], m[:, 1]
    n1, n2 = np.linalg.norm(r1), np.linalg.norm(r2)
    if n1 < 1e-12 or n2 < 1e-12:
        return 90.0
    normal = np.cross(r1 / n1, r2 / n2)
    norm = np.linalg.norm(normal)
    if norm < 1e-12:
        return 90.0
    return math.degrees(math.acos(min(1.0, abs(float(normal[2] / norm)))))


def geometry_metrics(corners: np.ndarray, frame_w: int, frame_h: int,
                     focal_width: float = DEFAULT_LIMITS.focal_width) -> dict:
    top, right, bottom, left = _side_lengths(corners)
    area = float(cv2.contourArea(corners.astype(np.float32)))
    dx, dy = corners[1] - corners[0]
    skew = math.degrees(math.atan2(float(dy), float(dx)))
    skew = (skew + 90.0) % 180.0 - 90.0  # a card upside down is not tilted
    perspective = max(1 - min(top, bottom) / max(top, bottom), 1 - min(left, right) / max(left, right))
    xs, ys = corners[:, 0], corners[:, 1]
    border = float(min(xs.min(), ys.min(), frame_w - xs.max(), frame_h - ys.max()))
    long_edge = max(top, bottom)
    return {
        "card_area_fraction": round(area / (frame_w * frame_h), 4),
        "card_width_px": round(long_edge, 1),
        "card_width_fraction": round(long_edge / frame_w, 4),
        "card_extent_x": round(float(xs.max() - xs.min()) / frame_w, 4),
        "card_height_fraction": round(float(ys.max() - ys.min()) / frame_h, 4),
        "border_px": round(border, 1),
        "skew_deg": round(skew, 2),
        "perspective": round(perspective, 4),
        "tilt_deg": round(tilt_degrees(corners, frame_w, frame_h, focal_width), 2),
    }


# ----------------------------------------------------------------------------- image metrics

def reblur_ratio(gray: np.ndarray) -> float:
    """How much of the fine detail a further 9-px box blur takes away, as 1 − (variation lost /
    variation there was) (Crété-Roffet et al., 2007): 0.14–0.31 for the good frames of the
    evaluation set, → 1 for a blurred card (limit ``GuidanceLimits.max_blur``). Normalised by the image's own variation, so the
    print, the exposure and the card layout matter little; the worse of the two directions
    (motion blur has one)."""
    img = gray.astype(np.float32)
    worst = 0.0
    for axis, ksize in ((1, (9, 1)), (0, (1, 9))):
        blurred = cv2.blur(img, ksize)
        d_f = np.abs(np.diff(img, axis=axis))
        d_b = np.abs(np.diff(blurred, axis=axis))
        total = float(d_f.sum())
        if total <= 1e-6:
            return 1.0
        kept = float(np.maximum(0.0, d_f - d_b).sum())
        worst = max(worst, 1.0 - kept / total)
    return worst


def glare_fraction(gray: np.ndarray, level: int, above_paper: float) -> tuple[float, float]:
    """(share of glare pixels, paper level) of a straightened grey card.

    A glare pixel is saturated (≥ ``level``) *and* well above the paper level where it is: a
    plane fitted to the bright (75th percentile) level of a 6 × 4 grid of cells, the cells a
    reflection brightens left out. So a card printed on white stock, or lit brightly all over,
    is not "glare" — only a reflection brighter than the card around it is."""
    h, w = gray.shape[:2]
    gx, gy = 6, 4
    ch, cw = h // gy, w // gx
    # the grid's cells as rows (the last few pixels beyond whole cells are left out)
    cells = gray[:ch * gy, :cw * gx].reshape(gy, ch, gx, cw).transpose(0, 2, 1, 3).reshape(gx * gy, -1)
    values = pixel_stats.row_percentiles(cells, 75)
    cy, cx = np.divmod(np.arange(gx * gy), gx)
    design = np.column_stack([np.ones(gx * gy), (cx + 0.5) / gx, (cy + 0.5) / gy])
    keep = values <= np.percentile(values, 75)  # drop the brightest quarter (the reflection)
    coef, *_ = np.linalg.lstsq(design[keep], values[keep], rcond=None)
    xx = ((np.arange(w, dtype=np.float32) + 0.5) / (cw * gx))[None, :]  # cell units / gx
    yy = ((np.arange(h, dtype=np.float32) + 0.5) / (ch * gy))[:, None]
    paper = coef[0] + coef[1] * xx + coef[2] * yy
    glare = ((gray >= level) & (gray.astype(np.float32) >= paper + above_paper)).astype(np.uint8)
    # a reflection is a solid patch; white print (a QR code's quiet zone and the gaps between
    # its modules, thin white lines) is thinner than the opening's 5 px (1.3 % of the card)
    glare = cv2.morphologyEx(glare, cv2.MORPH_OPEN, _GLARE_KERNEL)
    return float(np.count_nonzero(glare)) / gray.size, float(np.median(values))


_GLARE_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))


def image_metrics(warp_gray: np.ndarray, limits: GuidanceLimits = DEFAULT_LIMITS) -> dict:
    """Blur, glare and brightness of a straightened grey card image."""
    mean = float(warp_gray.mean())
    glare, paper = glare_fraction(warp_gray, limits.glare_level, limits.glare_above_paper)
    lap = cv2.Laplacian(warp_gray, cv2.CV_32F, ksize=3)
    # the previous sharpness measure, kept as a metric for comparison (not used for the verdict)
    sharpness = float(lap.var()) * (128.0 / max(mean, 16.0)) ** 2
    return {"blur": round(reblur_ratio(warp_gray), 4), "sharpness": round(sharpness, 1),
            "glare_fraction": round(glare, 5), "paper_level": round(paper, 1),
            "brightness": round(mean, 1)}


def inside_bigger_card(gray: np.ndarray, quad: np.ndarray, side: int = 160) -> float:
    """For a small quad: how much of the frame the printed surface around it spans (0–1,
    the larger of its width and height shares).

    A card held too close is cut by the frame's edges, so its outline cannot be found, and the
    search may return something printed *on* it (the QR code, the portrait, a text block),
    which looks like a card far away. Around such a quad lies the card's own stock — a surface
    of one shade, with print on it, reaching the frame's edges; around a card that really is
    far away lies the desk. Measured on a ``side``-px copy: the region of the ring's shade
    (±22 grey levels, print bridged by a closing) connected to the ring, if it holds print."""
    h, w = gray.shape[:2]
    f = side / max(h, w)
    small = cv2.resize(gray, (max(8, round(w * f)), max(8, round(h * f))), interpolation=cv2.INTER_AREA)
    q = np.asarray(quad, np.float32) * f
    centre = q.mean(axis=0)
    inner = np.zeros(small.shape, np.uint8)
    cv2.fillConvexPoly(inner, np.round(q).astype(np.int32), 255)
    ring = np.zeros(small.shape, np.uint8)
    cv2.fillConvexPoly(ring, np.round(centre + (q - centre) * 1.35).astype(np.int32), 255)
    ring[inner > 0] = 0
    if np.count_nonzero(ring) < 12:
        return 0.0
    level = pixel_stats.median(small[ring > 0])
    if level < 140:  # card stock is light; a dark or wooden desk is not
        return 0.0
    similar = (np.abs(small.astype(np.int16) - level) <= 22).astype(np.uint8) * 255
    similar = cv2.morphologyEx(similar, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    similar[inner > 0] = 255  # the quad itself belongs to the surface
    count, labels = cv2.connectedComponents(similar)
    ids, votes = np.unique(labels[(ring > 0) & (similar > 0)], return_counts=True)
    if count < 2 or len(ids) == 0:
        return 0.0
    region = labels == ids[int(np.argmax(votes))]
    ys, xs = np.nonzero(region)
    # dark print on the surface (outside the quad): a card's stock carries text, a desk's
    # grain or weave is not that dark against it
    surface = region & (inner == 0)
    printed = small.astype(np.float32) < level - 45
    if np.count_nonzero(surface) == 0 or np.count_nonzero(printed & surface) < 0.02 * np.count_nonzero(surface):
        return 0.0
    return float(max((xs.max() - xs.min() + 1) / small.shape[1], (ys.max() - ys.min() + 1) / small.shape[0]))


def _card_warp(gray: np.ndarray, corners: np.ndarray, width: int) -> np.ndarray:
    """The card straightened to ``width`` px (ID-1 aspect), from a pyramid level no more than
    twice that size, so the warp averages rather than skips pixels."""
    size = (width, round(width / card_outline.CARD_ASPECT))
    long_edge = max(float(np.linalg.norm(corners[1] - corners[0])),
                    float(np.linalg.norm(corners[2] - corners[3])))
    source, scale = gray, 1.0
    while long_edge * scale > 2.2 * width and min(source.shape[:2]) > 64:
        source, scale = cv2.pyrDown(source), scale * 0.5
    return card_outline.warp_card(source, corners * scale, size)


def analyse_frame(frame: np.ndarray, thresholds: GuidanceLimits = DEFAULT_LIMITS,
                  *, detect_side: int = DETECT_SIDE, metric_width: int = METRIC_WIDTH,
                  metric_size: tuple[int, int] | None = None,
                  hint: np.ndarray | None = None, hint_still_only: bool = False) -> Guidance:
    """Find the card in ``frame`` (BGR, BGRA or grey uint8) and judge the frame.

    ``hint``: the card's corners in the previous preview frame; the card is looked for near
    them first (:func:`card_track.track_card`), and searched for in the whole frame when it is
    not there (``hint_still_only``: not within a card held still's move of them).
    ``metric_size`` (width, height) is accepted for the benchmark's full-size baseline; only
    its width is used."""
    t = thresholds
    if metric_size is not None:
        metric_width = int(metric_size[0])
    gray = card_outline.to_gray(frame)
    h, w = gray.shape[:2]
    accept = _printed_card(t.min_print)
    corners = None
    if hint is not None:
        try:
            corners = card_track.track_card(gray, hint, detect_side=detect_side, accept=accept,
                                            min_area_fraction=t.min_area_fraction,
                                            still_only=hint_still_only)
        except Exception:  # the hint comes from a browser: at worst, the frame is searched
            corners = None
    followed = corners is not None
    if corners is None:
        corners = card_outline.find_card(frame, detect_side=detect_side, accept=accept,
                                         faint_edges=True, min_area_fraction=t.min_area_fraction)
    issues: list[str] = []
    metrics: dict = {"frame_width": w, "frame_height": h}
    if corners is None:
        # brightness of the middle of the frame, where the card should be
        centre = gray[h // 4: 3 * h // 4: 2, w // 4: 3 * w // 4: 2]
        metrics["brightness"] = round(float(centre.mean()), 1)
        if metrics["brightness"] < t.min_brightness:
            issues.append("too_dark")
        issues.append("no_card")
    else:
        metrics.update(geometry_metrics(corners, w, h, t.focal_width))
        metrics.update(image_metrics(_card_warp(gray, corners, metric_width), t))
        dark = metrics["brightness"] < t.min_brightness
        if dark:
            issues.append("too_dark")
        small_quad = (metrics["card_width_fraction"] < t.min_width_fraction
                      or metrics["card_width_px"] < t.min_card_px)
        if small_quad:
            metrics["surface_extent"] = round(inside_bigger_card(gray, corners), 3)
        if small_quad and metrics["surface_extent"] >= t.min_surface_extent:
            # what was found is printed on a card that fills the frame: "move it back", and
            # nothing else measured on that print says anything about the card
            issues = ["too_close"]
            corners = None
        else:
            if small_quad:
                issues.append("too_far")
            elif (max(metrics["card_extent_x"], metrics["card_height_fraction"])
                  > t.max_extent_fraction or metrics["border_px"] < t.border_margin * min(w, h)):
                issues.append("too_close")
            if abs(metrics["skew_deg"]) > t.max_skew_deg or metrics["tilt_deg"] > t.max_tilt_deg:
                issues.append("tilted")
            # in the dark the noise reads as detail and nothing saturates: say only "too dark"
            if not dark and metrics["blur"] > t.max_blur:
                issues.append("blurred")
            if not dark and metrics["glare_fraction"] > t.max_glare_fraction:
                issues.append("glare")
    issues.sort(key=ISSUE_ORDER.index)
    return Guidance(ok=not issues, issues=issues, messages=[MESSAGES[i] for i in issues],
                    corners=corners, metrics=metrics, followed=followed and corners is not None)


# ----------------------------------------------------------------------------- QR on a preview

# What the verdict says about a QR read of the same frame. On the drawn evaluation frames
# (bench/bench_preview_ab.py) no frame the advice calls blurred reads with either decoder, so a
# blurred frame (~100 ms of decoders that find nothing) gets the advice only: the customer is
# told to hold still, and the next frame comes a third of a second later. Every other frame
# keeps both decoders (OpenCV's WeChat reader alone read ~3 % of the codes, on cards turned,
# held too close or not outlined), the cheapest try first (qr_decode.decode_preview_qr).


def preview_decoders(verdict: Guidance) -> tuple[str, ...]:
    """The QR decoders worth trying on a preview frame with this verdict, fastest first: none
    on a blurred card, zxing-cpp then WeChat's reader otherwise."""
    if "blurred" in verdict.issues:
        return ()
    return ("zxing", "wechat")
