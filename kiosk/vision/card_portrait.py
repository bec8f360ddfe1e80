"""Find the portrait on a card: cut from the layout's photo box of a straightened front, or the
card-sized face on the left of any layout (the 2024 căn cước, the passport page), or a card
portrait in a frame where no outline was found.

The outline and the canonical geometry (:data:`CARD_SIZE`, :data:`PORTRAIT_BOX`) come from
:mod:`kiosk.vision.card_outline`. Faces are found with YuNet (:func:`face_detector`, the
process-wide SFace model's detector), or dlib's HOG detector when its model file is missing.
Pure functions on numpy arrays (no Flask).
"""
from __future__ import annotations

import cv2
import numpy as np

from kiosk.vision import card_outline
from kiosk.vision.card_outline import (
    CARD_ASPECT,
    CARD_SIZE,
    PORTRAIT_BOX,
    to_bgr,
    warp_region,
)

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
        # through the module: a test that takes the outline away (monkeypatch) takes it here too
        corners = card_outline.find_card(image)
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


def portrait_has_face(crop: np.ndarray, detector=None) -> bool | None:
    """Whether a face is found in the portrait crop (None: no detector available).

    ``detector``: YuNet (:func:`face_detector`), run as step 6 runs it on a card portrait
    (``portrait=True``: the crop scaled to 160 px and padded), so a portrait found here is one
    the face comparison finds too. Without it, dlib's HOG detector through the face helper's
    shared, lazily loaded registry (``models.detect_hog``; built into dlib, no weights file).
    """
    if crop is None or crop.size == 0:
        return False
    if detector is not None:
        return bool(len(detector.detect(to_bgr(crop), portrait=True)))
    try:
        from kiosk.vision import dlib_models as models
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


# ----------------------------------------------------------------------------- any layout

# A card portrait's face, as a share of the card's height: the photo is 25–30 mm of the card's
# 54 mm and the face fills about half of it. Measured with YuNet on the straightened fronts of
# generator "a" (120 fronts of the three kinds, the test photos as portraits): 0.09–0.47,
# 5–95 % 0.15–0.34; the bounds leave room on both sides.
# A face outside them is not the card's portrait (a live face behind a badly found outline,
# a face on a poster).
PORTRAIT_FACE_SHARE = (0.06, 0.6)
YUNET_SCORE = 0.6  # YuNet confidence for a face on a straightened card or in a frame


def face_detector(models_dir=None):
    """The YuNet detector of the process-wide SFace model (``faces.get_model``, the instance
    the eKYC engine compares faces with: loaded once per process, YuNet alone until a face is
    compared), or None when its model file is missing or altered (dlib's HOG is used then)."""
    from kiosk.vision.faces import get_model
    from kiosk.vision.sface import ModelsMissing

    model = get_model("sface", models_dir)
    try:
        model.load_detector()
    except ModelsMissing:
        return None
    return model


def _yunet_faces(detector, bgr: np.ndarray, score: float = YUNET_SCORE
                 ) -> list[tuple[int, int, int, int]]:
    """(left, top, right, bottom) of the faces YuNet finds, biggest first."""
    rows = detector.detect(to_bgr(bgr), score_threshold=score)
    return [(round(x), round(y), round(x + w), round(y + h)) for x, y, w, h in rows[:, :4]]


def _faces_in(bgr: np.ndarray, upsample: int) -> list[tuple[int, int, int, int]]:
    """(left, top, right, bottom) of the faces dlib's HOG detector finds, biggest first."""
    from kiosk.vision import dlib_models as models

    rgb = np.ascontiguousarray(cv2.cvtColor(to_bgr(bgr), cv2.COLOR_BGR2RGB))
    try:
        found = models.detect_hog(rgb, upsample)
    except (models.ModelsUnavailable, ImportError):
        return []
    boxes = []
    for item in found:
        rect = item[0] if isinstance(item, tuple) else item
        boxes.append((int(rect.left()), int(rect.top()), int(rect.right()), int(rect.bottom())))
    boxes.sort(key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))
    return boxes


def _portrait_box_around(face: tuple[int, int, int, int], w: int, h: int
                         ) -> tuple[int, int, int, int]:
    """The printed photo around a detected face: the face is ~45 % of the photo's width."""
    left, top, right, bottom = face
    fw, fh = right - left, bottom - top
    cx, cy = (left + right) / 2, (top + bottom) / 2
    half_w, half_h = fw * 1.15, fh * 1.5
    return (max(0, round(cx - half_w)), max(0, round(cy - half_h * 0.9)),
            min(w, round(cx + half_w)), min(h, round(cy + half_h * 1.1)))


def _card_sized(face: tuple[int, int, int, int], card_height: float) -> bool:
    lo, hi = PORTRAIT_FACE_SHARE
    return lo * card_height <= face[3] - face[1] <= hi * card_height


def _faces_on_left(left: np.ndarray, card_height: int, detector) -> tuple[list, float]:
    """The card-sized faces on the left part of a straightened card, and the scale they were
    found at (their boxes are in that scale's pixels)."""
    if detector is not None:
        # YuNet finds faces down to ~15 px: the straightened card at 300 px high is enough for
        # a portrait that fills its photo; a face small in its photo (or blurred) is looked for
        # again at the warp's full height
        faces, scale = [], 1.0
        for height in (300.0, float(card_height)):
            scale = min(1.0, height / card_height)
            small = cv2.resize(left, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) \
                if scale < 1 else left
            faces = [f for f in _yunet_faces(detector, small)
                     if _card_sized(f, card_height * scale)]
            if faces or scale == 1.0:
                break
        return faces, scale
    faces, scale = [], 1.0
    # a portrait face is ~ 100 px on a card 300 px high (HOG's window is 80 px); a face
    # that fills less of its photo needs the card at 450 px and upsampling (costlier)
    for height, upsample in ((300.0, 0), (300.0, 1), (450.0, 1)):
        scale = height / card_height
        small = cv2.resize(left, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        faces = _faces_in(small, upsample)
        if faces:
            break
    return faces, scale


def portrait_on_card(card: np.ndarray, detector=None) -> tuple[np.ndarray | None, bool]:
    """(the portrait crop, upside down?) of a straightened card of any layout: the biggest
    card-sized face on its left half (the portrait sits left on every Vietnamese card and the
    passport page), the card either way up. (None, False) without a face. ``detector``:
    YuNet (:func:`face_detector`); None: dlib's HOG."""
    h, w = card.shape[:2]
    for upside_down in (False, True):
        image = cv2.rotate(card, cv2.ROTATE_180) if upside_down else card
        left = image[:, : int(w * 0.5)]
        faces, scale = _faces_on_left(left, h, detector)
        if faces:
            box = tuple(round(v / scale) for v in faces[0])
            x0, y0, x1, y1 = _portrait_box_around(box, left.shape[1], h)
            return image[y0:y1, x0:x1].copy(), upside_down
    return None, False


def portrait_in_frame(frame: np.ndarray, max_side: int = 720, detector=None) -> np.ndarray | None:
    """A card portrait found with no card outline: the biggest face in the frame that is small
    enough to be printed on a card held to the camera (a customer's own face, close to the
    camera, is bigger) and big enough to be on a card the guidance would accept (held at ≥ 30 %
    of the frame's width). Costlier than :func:`portrait_on_card` (the whole frame)."""
    h, w = frame.shape[:2]
    low = PORTRAIT_FACE_SHARE[0] * 0.3 * w / CARD_ASPECT  # the smallest card-sized face
    if detector is not None:
        faces = [f for f in _yunet_faces(detector, frame)
                 if low <= f[3] - f[1] < 0.45 * h]
        if faces:
            x0, y0, x1, y1 = _portrait_box_around(faces[0], w, h)
            return to_bgr(frame)[y0:y1, x0:x1].copy()
        return None
    scale = min(1.0, max_side / max(h, w))
    small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) \
        if scale < 1 else frame
    for upsample in (0, 1):
        faces = [f for f in _faces_in(small, upsample) if (f[3] - f[1]) < 0.45 * small.shape[0]]
        if faces:
            box = tuple(round(v / scale) for v in faces[0])
            x0, y0, x1, y1 = _portrait_box_around(box, w, h)
            return to_bgr(frame)[y0:y1, x0:x1].copy()
    return None


def portrait_near(frame: np.ndarray, corners: np.ndarray, detector=None) -> np.ndarray | None:
    """The portrait searched in the frame itself, around a found card, enlarged: for a small
    card in a low-resolution frame, whose straightened (and so resampled) image is too soft for
    the face detector. The biggest card-sized face (YuNet; HOG without ``detector``)."""
    h, w = frame.shape[:2]
    x0, y0 = np.floor(corners.min(axis=0)).astype(int)
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < 20 or y1 - y0 < 20:
        return None
    region = to_bgr(frame)[y0:y1, x0:x1]
    scale = 600.0 / max(region.shape[:2])
    big = cv2.resize(region, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    card_h = float(np.linalg.norm(corners[3] - corners[0])) * scale
    found = _yunet_faces(detector, big) if detector is not None else _faces_in(big, 1)
    faces = [f for f in found if (f[3] - f[1]) < 0.5 * card_h] if detector is None \
        else [f for f in found if _card_sized(f, card_h)]
    if not faces:
        return None
    box = tuple(round(v / scale) for v in faces[0])
    bx0, by0, bx1, by1 = _portrait_box_around(box, region.shape[1], region.shape[0])
    return region[by0:by1, bx0:bx1].copy()
