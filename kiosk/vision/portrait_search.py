"""Find a card's printed portrait anywhere in a photo, at any in-plane angle, and hand it over
upright.

Real photographs are not drawn scenes: the customer holds the card on its side or upside down,
the phone lies at 20–60° to the card, the card fills the frame (no outline to find) or sits
small in a tall photo. YuNet finds a face turned by up to ~90° but scores it, and places its
landmarks, well only near upright. So the frame is searched upright, on either side, upside
down, then at the four diagonals (:data:`SEARCH_ANGLES`); a face found is looked at again every
30° on a patch around it (:func:`face_angle`), and the best-scoring angle, corrected by the eye
line, turns the crop upright before the face model sees it.

Pure OpenCV on arrays; the detector is the process-wide YuNet of ``card_portrait.face_detector``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.vision.card_outline import CARD_ASPECT, CARD_SIZE, to_bgr
from kiosk.vision.card_portrait import PORTRAIT_FACE_SHARE, YUNET_SCORE

SEARCH_SIDE = 1280  # a photo is shrunk to this: a portrait face on a card at 15 % of a 4032 px
# photo's width is then ~16 px high, just above YuNet's smallest (~10 px)
_ROTATIONS = {1: cv2.ROTATE_90_COUNTERCLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_CLOCKWISE}
_MAX_FACE_SHARE = 0.4  # of the photo's shorter side: a bigger face is a person, not a card's


def turn(image: np.ndarray, quarter_turns: int) -> np.ndarray:
    """``image`` turned counter-clockwise by ``quarter_turns`` × 90°."""
    k = quarter_turns % 4
    return image if k == 0 else cv2.rotate(image, _ROTATIONS[k])


# Where the portrait's face sits on a 2021 front (canonical 856×540 pixels, card.CARD_SIZE), and
# its size (YuNet's box, longer side): medians over the 39 real fronts of the development set
# whose outline was found (bench/real_photos; 10–90 %: centre ±12 px, size 113–174).
FACE_CENTRE_ON_CARD = (129.0, 330.0)
FACE_SIZE_ON_CARD = 155.0


@dataclass(frozen=True)
class PortraitHit:
    crop: np.ndarray  # the printed photo, upright, BGR
    quarter_turns: int  # the card's turn in the frame, counter-clockwise, to the nearest quarter
    roll: float  # degrees the image was turned by to make the face upright (-180..180)
    face_height: float  # in frame pixels
    score: float  # YuNet's confidence
    centre: tuple[float, float] = (0.0, 0.0)  # the face's centre, frame pixels

    def card_corners(self) -> np.ndarray:
        """Where the card lies if this is the portrait of a 2021-layout front (TL, TR, BR, BL
        as it reads, frame pixels): a rough place (±20 % in scale), for reading the print
        beside the portrait when no outline and no QR code placed the card."""
        k = self.face_height / FACE_SIZE_ON_CARD
        w, h = CARD_SIZE
        fx, fy = FACE_CENTRE_ON_CARD
        upright = (np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64) - (fx, fy)) * k
        # the crop was turned by ``roll`` to make the face upright: turn back the other way
        back = cv2.getRotationMatrix2D((0, 0), -self.roll, 1.0)[:, :2]
        return (upright @ back.T + self.centre).astype(np.float32)


def _eyes_roll(row: np.ndarray) -> float:
    """Degrees from the face's eye line to the horizontal (YuNet: right eye first, as seen)."""
    (rx, ry), (lx, ly) = row[4:6], row[6:8]
    return math.degrees(math.atan2(ly - ry, lx - rx))


def _rotation_about(centre: tuple[float, float], angle: float, out_size: tuple[int, int],
                    anchor: tuple[float, float]) -> np.ndarray:
    """2×3 matrix turning the image by ``angle`` degrees (counter-clockwise as seen) about
    ``centre`` and placing ``centre`` at ``anchor`` (fractions of ``out_size``)."""
    matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
    matrix[0, 2] += out_size[0] * anchor[0] - centre[0]
    matrix[1, 2] += out_size[1] * anchor[1] - centre[1]
    return matrix


def upright_portrait(image: np.ndarray, centre: tuple[float, float], face_size: float,
                     angle: float) -> np.ndarray:
    """The printed photo around a face of ``face_size`` px at ``centre``, turned by ``angle``
    degrees so that the face is upright: ~2 face sizes wide, ~2.5 high, the face
    a little above the middle, about as printed on the card."""
    out = (max(8, round(face_size * 2.0)), max(8, round(face_size * 2.5)))
    matrix = _rotation_about(centre, angle, out, (0.5, 0.45))
    return cv2.warpAffine(to_bgr(image), matrix, out, flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


# YuNet finds a face turned by up to ~90° but places its landmarks (and scores it) best when the
# face is near upright: a found face is looked at again every 30°, and the best-scoring angle,
# corrected by the eye line there (then within ±15°), is the face's angle.
_ANGLE_STEP = 30
_PATCH_FACES = 3.2  # the patch around a found face, in face sizes
_PATCH_SIDE = 320  # … resampled to this many pixels (the face then ~100 px)


@dataclass(frozen=True)
class FaceAngle:
    angle: float  # degrees to turn the image by (counter-clockwise as seen) for an upright face
    centre: tuple[float, float]  # the face's centre, image pixels
    size: float  # the face's size, image pixels
    score: float  # YuNet's confidence at the best angle


def face_angle(image: np.ndarray, centre: tuple[float, float], face_size: float,
               detector, *, expected: float | None = None) -> FaceAngle | None:
    """The angle, place and size of the face found near ``centre``, looked at every
    :data:`_ANGLE_STEP` degrees; None when no angle shows a face.

    ``expected``: the angle the caller believes upright (a card's cut placed by its outline:
    0). It is looked at first, and a sure face there, eyes level within half a step, ends the
    search: the other eleven angles would only confirm it (each is a YuNet pass, ~15 ms)."""
    side = _PATCH_SIDE
    zoom = side / (face_size * _PATCH_FACES)
    best = None
    order = _angles_from(expected)
    for angle in order:
        matrix = cv2.getRotationMatrix2D(centre, angle, zoom)
        matrix[0, 2] += side / 2 - centre[0]
        matrix[1, 2] += side / 2 - centre[1]
        patch = cv2.warpAffine(image, matrix, (side, side), flags=cv2.INTER_AREA
                               if zoom < 1 else cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        rows = detector.detect(patch, score_threshold=0.3, max_side=side)
        near = [r for r in rows
                if abs(r[0] + r[2] / 2 - side / 2) < side / 5
                and abs(r[1] + r[3] / 2 - side / 2) < side / 5]
        if not near:
            continue
        row = max(near, key=lambda r: r[14])
        if best is None or row[14] > best[2][14]:
            best = (angle, matrix, row)
        if angle == order[0] and expected is not None and row[14] >= SURE_FACE_SCORE \
                and abs(_eyes_roll(row)) <= _ANGLE_STEP / 2:
            break
    if best is None:
        return None
    angle, matrix, row = best
    back = cv2.invertAffineTransform(matrix)
    cx, cy = back @ np.array([row[0] + row[2] / 2, row[1] + row[3] / 2, 1.0])
    return FaceAngle(angle=angle + _eyes_roll(row), centre=(float(cx), float(cy)),
                     size=float(max(row[2], row[3])) / zoom, score=float(row[14]))


# YuNet's confidence from which a face at the expected angle is taken without looking further.
SURE_FACE_SCORE = 0.8


def sure_and_upright(found: FaceAngle | None) -> bool:
    """A face found sure (:data:`SURE_FACE_SCORE`) and standing within half a step of upright:
    the cut it was found in needs no other look."""
    return (found is not None and found.score >= SURE_FACE_SCORE
            and abs((found.angle + 180) % 360 - 180) <= _ANGLE_STEP / 2)


def _angles_from(expected: float | None) -> list[int]:
    """Every :data:`_ANGLE_STEP` angle, the one nearest ``expected`` first."""
    steps = list(range(0, 360, _ANGLE_STEP))
    if expected is None:
        return steps
    first = round(expected / _ANGLE_STEP) * _ANGLE_STEP % 360
    return [first, *(a for a in steps if a != first)]


def _turned(image: np.ndarray, angle: int) -> tuple[np.ndarray, np.ndarray]:
    """(``image`` turned ``angle`` degrees counter-clockwise on a canvas that holds all of it,
    the 2×3 matrix from the turned image's pixels back to ``image``'s)."""
    h, w = image.shape[:2]
    if angle % 90 == 0:
        k = (angle // 90) % 4
        turned = turn(image, k)
        forward = cv2.getRotationMatrix2D((0, 0), 90 * k, 1.0)
        corners = cv2.transform(np.array([[[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]]],
                                         np.float32), forward)[0]
        forward[:, 2] -= corners.min(axis=0)
        return turned, cv2.invertAffineTransform(forward)
    forward = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(forward[0, 0]), abs(forward[0, 1])
    out_w, out_h = int(h * sin + w * cos), int(h * cos + w * sin)
    forward[0, 2] += out_w / 2 - w / 2
    forward[1, 2] += out_h / 2 - h / 2
    turned = cv2.warpAffine(image, forward, (out_w, out_h), borderMode=cv2.BORDER_REPLICATE)
    return turned, cv2.invertAffineTransform(forward)


# The frame is searched upright, on either side, upside down; then, only when none of those
# showed a card-sized face, at the four diagonals (YuNet's ±35° leaves a card at 45° unseen).
SEARCH_ANGLES = (0, 90, 270, 180, 45, 315, 135, 225)


def angles_along(corners: np.ndarray) -> tuple[int, int]:
    """The two search angles (of :data:`SEARCH_ANGLES`) that turn a card lying along these
    corners upright or upside down: the nearest to the angle of its long sides, and that one
    plus 180° (an outline alone cannot tell which long side is the top, nor is the order of
    its corners always the reading order). YuNet sees faces within ~±35° of upright, so the
    nearest 45° step covers the card."""
    quad = np.asarray(corners, np.float64).reshape(4, 2)
    across, down = quad[1] - quad[0], quad[2] - quad[1]
    dx, dy = across if np.hypot(*across) >= np.hypot(*down) else down
    # the long side's angle as seen (counter-clockwise, y down): turning the image by minus
    # that angle makes it level
    tilt = math.degrees(math.atan2(-dy, dx))
    nearest = round(-tilt / 45) * 45 % 360
    return nearest, (nearest + 180) % 360


def find_portrait(frame: np.ndarray, detector, *, search_side: int = SEARCH_SIDE,
                  min_card_share: float = 0.15,
                  angles: tuple[int, ...] = SEARCH_ANGLES) -> PortraitHit | None:
    """The biggest card-sized face in ``frame``, searched at ``angles`` (default
    :data:`SEARCH_ANGLES`: all eight), as an upright crop of its printed photo; None without
    one (or without a detector). Each angle is a YuNet pass over the whole frame (60–120 ms on
    a 1280×720 frame, the diagonals' larger canvas the most): a caller that knows how the card
    lies searches only its :func:`angles_along`.

    Card-sized: at least the face of a card held at ``min_card_share`` of the frame's shorter
    extent across, and under :data:`_MAX_FACE_SHARE` of the frame's shorter side (a printed face
    is at most a third of its card's height, and the card fits in the frame; a customer's own
    face near the camera, or beside the card in a selfie, is bigger)."""
    if detector is None:
        return None
    bgr = to_bgr(frame)
    h, w = bgr.shape[:2]
    scale = min(1.0, search_side / max(h, w))
    small = cv2.resize(bgr, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA) if scale < 1 else bgr
    high = _MAX_FACE_SHARE * min(h, w)
    low = PORTRAIT_FACE_SHARE[0] * min_card_share * min(w, h * CARD_ASPECT) / CARD_ASPECT
    for angle in angles:
        turned, back = _turned(small, angle)
        rows = detector.detect(turned, score_threshold=YUNET_SCORE, max_side=search_side)
        rows = sorted((r for r in rows if low <= r[3] / scale < high),
                      key=lambda r: -r[2] * r[3])
        for row in rows:
            # the face's centre back in the frame's own pixels
            centre = back @ np.array([row[0] + row[2] / 2, row[1] + row[3] / 2, 1.0]) / scale
            size = float(max(row[2], row[3])) / scale
            # every angle looked at: the printed number's reader straightens the card by the
            # best-scoring one (stopping at a first sure face lost a reading on a real photo)
            found = face_angle(bgr, (float(centre[0]), float(centre[1])), size, detector)
            if found is None or found.size >= high:
                continue  # measured upright, not a face, or a person's face, not a printed one
            crop = upright_portrait(bgr, found.centre, found.size, found.angle)
            return PortraitHit(crop=crop, quarter_turns=round(-found.angle / 90) % 4,
                               roll=(found.angle + 180) % 360 - 180, face_height=found.size,
                               score=found.score, centre=found.centre)
    return None
