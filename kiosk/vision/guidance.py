"""Per-frame quality check of a webcam frame of the card front → what to tell the customer.

``analyse_frame(frame)`` runs on every preview frame (target ≤ 33 ms median for 640×480 on a
2-core kiosk PC; measured by ``bench/bench_guidance.py``), so it works on a downscaled grey copy
to find the card and computes its metrics on a small straightened copy of the card
(:data:`METRIC_SIZE`), never on the full frame.

Issue codes, in the order the customer should fix them (the first message is the one to show):

=========== ==========================================================
too_dark    mean brightness of the card (of the frame if no card) low
no_card     no card-shaped quadrilateral found
too_far     card too small in the frame for its QR code to be read
too_close   card fills (nearly) the whole frame or touches its border
tilted      turned in the plane, or held at an angle to the camera
blurred     variance of the Laplacian of the straightened card low
glare       saturated (blown-out) pixels on the card
=========== ==========================================================

The thresholds are in :class:`GuidanceLimits`; the defaults were set on synthetic frames
(``synthetic.place_in_scene``) so that good frames pass and each defect is reported, see
docs/vision-card.md. Metrics are plain floats, ready for JSON.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from kiosk.vision import card as cardmod

METRIC_SIZE = (428, 270)  # half the canonical card: enough for blur/glare, cheap to warp

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
    min_card_px: float = 450.0  # card's long edge in frame pixels: below this the QR is unreliable
    min_width_fraction: float = 0.30  # … and at least this share of the frame width
    max_extent_fraction: float = 0.94  # card's bounding box over this share of width/height
    border_margin: float = 0.008  # a corner closer than this (× frame side) to the edge
    max_skew_deg: float = 15.0  # in-plane rotation
    max_perspective: float = 0.2  # 1 − (shorter / longer) of opposite sides (≈ 30° tilt)
    min_sharpness: float = 1200.0  # variance of the Laplacian on the METRIC_SIZE warp
    max_glare_fraction: float = 0.006  # share of card pixels ≥ glare_level
    glare_level: int = 250
    min_brightness: float = 70.0  # mean grey level, 0–255


DEFAULT_THRESHOLDS = GuidanceLimits()


@dataclass(frozen=True)
class Guidance:
    ok: bool
    issues: list[str]
    messages: list[str]
    corners: np.ndarray | None  # (4, 2) float32 frame pixels, TL, TR, BR, BL; None if no card
    metrics: dict = field(default_factory=dict)

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


def _side_lengths(c: np.ndarray) -> tuple[float, float, float, float]:
    top = float(np.linalg.norm(c[1] - c[0]))
    right = float(np.linalg.norm(c[2] - c[1]))
    bottom = float(np.linalg.norm(c[2] - c[3]))
    left = float(np.linalg.norm(c[3] - c[0]))
    return top, right, bottom, left


def geometry_metrics(corners: np.ndarray, frame_w: int, frame_h: int) -> dict:
    top, right, bottom, left = _side_lengths(corners)
    area = float(cv2.contourArea(corners.astype(np.float32)))
    dx, dy = corners[1] - corners[0]
    skew = math.degrees(math.atan2(float(dy), float(dx)))
    skew = (skew + 90.0) % 180.0 - 90.0  # a card upside down is not tilted
    perspective = max(1 - min(top, bottom) / max(top, bottom), 1 - min(left, right) / max(left, right))
    xs, ys = corners[:, 0], corners[:, 1]
    border = float(min(xs.min(), ys.min(), frame_w - xs.max(), frame_h - ys.max()))
    return {
        "card_area_fraction": round(area / (frame_w * frame_h), 4),
        "card_width_px": round(max(top, bottom), 1),
        "card_width_fraction": round(float(xs.max() - xs.min()) / frame_w, 4),
        "card_height_fraction": round(float(ys.max() - ys.min()) / frame_h, 4),
        "border_px": round(border, 1),
        "skew_deg": round(skew, 2),
        "perspective": round(perspective, 4),
    }


def image_metrics(warp_gray: np.ndarray, glare_level: int = 250) -> dict:
    """Sharpness, glare and brightness of a straightened grey card image."""
    mean = float(warp_gray.mean())
    lap = cv2.Laplacian(warp_gray, cv2.CV_32F, ksize=3)
    # normalise for exposure: a dim but sharp card has weaker edges, not a blurred one
    sharpness = float(lap.var()) * (128.0 / max(mean, 16.0)) ** 2
    glare = float(np.count_nonzero(warp_gray >= glare_level)) / warp_gray.size
    return {"sharpness": round(sharpness, 1), "glare_fraction": round(glare, 5),
            "brightness": round(mean, 1)}


def analyse_frame(frame: np.ndarray, thresholds: GuidanceLimits = DEFAULT_THRESHOLDS,
                  *, detect_side: int = cardmod.DETECT_SIDE,
                  metric_size: tuple[int, int] = METRIC_SIZE) -> Guidance:
    """Find the card in ``frame`` (BGR, BGRA or grey uint8) and judge the frame."""
    t = thresholds
    gray = cardmod.to_gray(frame)
    h, w = gray.shape[:2]
    corners = cardmod.find_card(frame, detect_side=detect_side)
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
        metrics.update(geometry_metrics(corners, w, h))
        source, scale = gray, 1.0
        if metrics["card_width_px"] > 2.2 * metric_size[0]:
            # a much bigger card: warp from half resolution so the warp does not alias
            source, scale = cv2.pyrDown(gray), 0.5
        warp = cardmod.warp_card(source, corners * scale, metric_size)
        metrics.update(image_metrics(warp, t.glare_level))
        if metrics["brightness"] < t.min_brightness:
            issues.append("too_dark")
        if (metrics["card_width_px"] < t.min_card_px
                or metrics["card_width_fraction"] < t.min_width_fraction):
            issues.append("too_far")
        elif (max(metrics["card_width_fraction"], metrics["card_height_fraction"])
              > t.max_extent_fraction or metrics["border_px"] < t.border_margin * min(w, h)):
            issues.append("too_close")
        if abs(metrics["skew_deg"]) > t.max_skew_deg or metrics["perspective"] > t.max_perspective:
            issues.append("tilted")
        if metrics["sharpness"] < t.min_sharpness:
            issues.append("blurred")
        if metrics["glare_fraction"] > t.max_glare_fraction:
            issues.append("glare")
    issues.sort(key=ISSUE_ORDER.index)
    return Guidance(ok=not issues, issues=issues, messages=[MESSAGES[i] for i in issues],
                    corners=corners, metrics=metrics)
