"""Active liveness challenge: blink and turn the head on request (pure, no Flask).

The kiosk picks a random challenge (``new_challenge``), shows one Vietnamese prompt at a time
and feeds every webcam frame's 68-point landmarks with its timestamp into a
``LivenessSession``. The session passes when every action was seen in order within the time
limit, and fails with a reason code otherwise. The geometry (``eye_aspect_ratio``,
``yaw_ratio``) is separate from the state machine so tests can feed synthetic landmark
sequences.

Directions: ``turn_left`` means the **customer's own left**. In a raw (unmirrored) webcam frame
— what ``getUserMedia`` delivers and a canvas capture keeps unless it is drawn flipped — the
customer's left is the image's right, so turning to their left moves the nose toward the
image's right and ``yaw_ratio`` grows. Pass ``mirrored=True`` when the frames are flipped
like the on-screen preview.

What this stops and what it does not: see docs/vision-faces.md ("Liveness").
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field, replace

import numpy as np

ACTIONS = ("blink", "turn_left", "turn_right")
PROMPTS = {
    "blink": "Chớp mắt",
    "turn_left": "Quay đầu sang trái",
    "turn_right": "Quay đầu sang phải",
}
START_PROMPT = "Nhìn thẳng vào camera"
PASSED_MESSAGE = "Đã kiểm tra người thật."
REASONS = {
    "timeout": "Hết thời gian mà chưa làm xong các thao tác. Vui lòng thử lại.",
    "face_lost": "Không thấy khuôn mặt trong khung hình. Vui lòng nhìn vào camera và thử lại.",
    "face_changed": "Khuôn mặt trong khung hình đã thay đổi. Vui lòng thử lại.",
    "wrong_action": "Thao tác chưa đúng yêu cầu. Vui lòng làm theo hướng dẫn và thử lại.",
    # the server ran out of its time budget for one recording (a loaded machine): nothing was
    # decided against the customer, the recording is simply not judged
    "busy": "Máy đang bận nên chưa kiểm tra xong. Vui lòng thử lại.",
}

# 68-point (iBUG / dlib) indices
JAW_LEFT = (0, 1, 2)  # contour on the image's left
JAW_RIGHT = (14, 15, 16)  # contour on the image's right
NOSE_TIP = 30
EYE_A = tuple(range(36, 42))  # the eye on the image's left (customer's right in a raw frame)
EYE_B = tuple(range(42, 48))
_DICT_ORDER = (("chin", 17), ("left_eyebrow", 5), ("right_eyebrow", 5), ("nose_bridge", 4),
               ("nose_tip", 5), ("left_eye", 6), ("right_eye", 6))


@dataclass(frozen=True)
class LivenessParams:
    time_limit_s: float = 20.0
    turn_delta: float = 0.3  # yaw_ratio change from the start pose that counts as a turn (~15°)
    turn_hold_frames: int = 2  # consecutive frames beyond turn_delta
    blink_closed_ratio: float = 0.72  # EAR below this share of the open-eye EAR = closed
    blink_open_ratio: float = 0.88  # EAR back above this share = open again
    min_open_ear: float = 0.15  # open-eye reference below this: eyes not measurable
    reference_frames: int = 3  # open-eye frames needed before a blink can count
    frontal_yaw: float = 0.2  # blinks only count with the head roughly frontal (~10°)
    max_missing_s: float = 1.0  # face may vanish this long (detector drop-outs)
    max_jump: float = 0.6  # face centre moving more than this × face width between frames
    max_scale_change: float = 1.6  # face size changing more than this between frames
    # Encodings farther than this from the first = another person. 0.5 is dlib's Euclidean
    # scale; run_sequence uses the deciding face model's own value (FaceModel.identity_threshold).
    identity_threshold: float = 0.5


def new_challenge(rng: random.Random | None = None, turns: int = 1) -> list[str]:
    """A blink and ``turns`` head turn(s) (distinct directions), in random order."""
    rng = rng or random.SystemRandom()
    if not 1 <= turns <= 2:
        raise ValueError("turns must be 1 or 2")
    actions = ["blink", *rng.sample(["turn_left", "turn_right"], turns)]
    rng.shuffle(actions)
    return actions


# --------------------------------------------------------------------------- geometry


def to_points(landmarks) -> np.ndarray:
    """(N ≥ 48, 2) float array from a 68-point array or a face_recognition landmarks dict."""
    if isinstance(landmarks, dict):
        parts = []
        for key, count in _DICT_ORDER:
            pts = np.asarray(landmarks[key], dtype=np.float64).reshape(-1, 2)
            if len(pts) != count:
                raise ValueError(f"landmarks[{key!r}] must have {count} points")
            parts.append(pts)
        return np.vstack(parts)
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] < 48:
        raise ValueError("expected 68 (x, y) landmarks (dlib's 68-point model)")
    return pts


def eye_aspect_ratio(points) -> float:
    """EAR of one eye's six points p1..p6: (|p2−p6| + |p3−p5|) / (2·|p1−p4|).

    About 0.25–0.35 for an open eye, near 0.1 when closed (Soukupová & Čech, 2016).
    """
    p = np.asarray(points, dtype=np.float64).reshape(6, 2)
    width = np.linalg.norm(p[0] - p[3])
    if width <= 0:
        return 0.0
    return float((np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])) / (2.0 * width))


def mean_ear(landmarks) -> float:
    pts = to_points(landmarks)
    return (eye_aspect_ratio(pts[list(EYE_A)]) + eye_aspect_ratio(pts[list(EYE_B)])) / 2.0


def yaw_ratio(landmarks) -> float:
    """Head yaw from landmark geometry, in [-1, 1]; 0 = frontal.

    (a − b) / (a + b), with a and b the distances from the nose tip to the left and right
    face contour, measured along the eye line (so head roll does not matter). Positive when
    the nose moves toward the image's right — the customer's left in an unmirrored frame.
    About 0.3 at 15° and 0.5 at 25° of yaw (a 25° turn in a test photo measures 0.48).
    """
    pts = to_points(landmarks)
    eye_a, eye_b = pts[list(EYE_A)].mean(axis=0), pts[list(EYE_B)].mean(axis=0)
    axis = eye_b - eye_a
    norm = np.linalg.norm(axis)
    if norm <= 0:
        return 0.0
    axis /= norm
    left = pts[list(JAW_LEFT)].mean(axis=0)
    right = pts[list(JAW_RIGHT)].mean(axis=0)
    nose = pts[NOSE_TIP]
    a = float(np.dot(nose - left, axis))
    b = float(np.dot(right - nose, axis))
    if a + b <= 0:
        return 0.0
    return float(np.clip((a - b) / (a + b), -1.0, 1.0))


def face_box(landmarks) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of the landmarks."""
    pts = to_points(landmarks)
    return (float(pts[:, 0].min()), float(pts[:, 1].min()),
            float(pts[:, 0].max()), float(pts[:, 1].max()))


# ------------------------------------------------------------------------ state machine


@dataclass
class LivenessStatus:
    state: str  # "running" | "passed" | "failed"
    action: str | None  # the action being asked for now
    prompt: str  # Vietnamese text to show
    completed: list[str]
    reason: str | None = None  # failure code (see REASONS)
    message: str | None = None  # Vietnamese explanation of the failure
    elapsed_s: float = 0.0
    still: bool = False  # nothing moved at all: eyes and head pose constant (a still image?)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class _Track:
    t0: float | None = None
    last_t: float | None = None
    last_seen_t: float | None = None
    last_box: tuple | None = None
    yaw0: list = field(default_factory=list)  # start-pose yaw samples
    ears: list = field(default_factory=list)  # open-eye EAR samples (for the reference)
    eye_closed: bool = False
    turn_run: int = 0
    turn_run_dir: str | None = None
    turn_latched: str | None = None  # a turn already reported, until the head comes back
    first_encoding: object | None = None  # vector, or the face model's Embedding
    yaw_min: float = np.inf
    yaw_max: float = -np.inf
    ear_min: float = np.inf
    ear_max: float = -np.inf


class LivenessSession:
    """Feed frames in time order with ``update``; read ``status``.

    ``update(t, landmarks, box=None, encoding=None)``: ``t`` in seconds (any monotonic
    clock), ``landmarks`` the 68 points of the customer's face or None when no face was found,
    ``box`` its (left, top, right, bottom) if known (else the landmarks' extent), ``encoding``
    its 128-d face encoding when the caller computed one: at least on the first frame, then
    either on later frames or once at the end through ``check_identity`` — a change of person
    fails the challenge. Frames after the session passed or failed change nothing.

    ``distance``: how two encodings are compared — the deciding face model's ``distance`` (on
    its ``Embedding`` objects, which refuses another model's embedding); by default the
    Euclidean distance of plain vectors (dlib's scale).
    """

    def __init__(self, challenge: list[str], mirrored: bool = False,
                 params: LivenessParams | None = None, distance=None):
        if not challenge or any(a not in ACTIONS for a in challenge):
            raise ValueError(f"challenge must be a non-empty list of {ACTIONS}")
        self.challenge = list(challenge)
        self.mirrored = mirrored
        self.params = params or LivenessParams()
        self.step = 0
        self.state = "running"
        self.reason: str | None = None
        self._distance = distance
        self._tr = _Track()

    # -- public -------------------------------------------------------------------
    @property
    def action(self) -> str | None:
        return self.challenge[self.step] if self.state == "running" else None

    @property
    def still(self) -> bool:
        """True when nothing moved so far: neither the eyes nor the head pose changed."""
        tr = self._tr
        if tr.t0 is None:
            return True
        return (tr.ear_max - tr.ear_min) < 0.01 and (tr.yaw_max - tr.yaw_min) < 0.02

    def status(self, t: float | None = None) -> LivenessStatus:
        tr = self._tr
        elapsed = 0.0 if tr.t0 is None else max(0.0, (t if t is not None else tr.last_t) - tr.t0)
        still = tr.last_seen_t is not None and self.still
        if self.state == "running":
            prompt = PROMPTS[self.action] if tr.last_seen_t is not None else START_PROMPT
            return LivenessStatus("running", self.action, prompt, self.challenge[:self.step],
                                  elapsed_s=round(elapsed, 2), still=still)
        if self.state == "passed":
            return LivenessStatus("passed", None, PASSED_MESSAGE, list(self.challenge),
                                  elapsed_s=round(elapsed, 2))
        return LivenessStatus("failed", None, REASONS[self.reason], self.challenge[:self.step],
                              reason=self.reason, message=REASONS[self.reason],
                              elapsed_s=round(elapsed, 2), still=still)

    def check_identity(self, encoding, t: float | None = None) -> LivenessStatus:
        """Compare a later encoding (e.g. of the frame kept for the face match, taken after the
        challenge) with the first one; a different person fails the session, even a passed one.
        """
        if self.state != "failed" and self._other_person(encoding):
            self.state, self.reason = "failed", "face_changed"
        return self.status(t)

    def tick(self, t: float) -> LivenessStatus:
        """Advance the clock without a frame (e.g. frames stopped arriving)."""
        return self.update(t, None)

    def update(self, t: float, landmarks=None, box=None, encoding=None) -> LivenessStatus:
        if self.state != "running":
            return self.status(t)
        tr, p = self._tr, self.params
        if tr.last_t is not None and t < tr.last_t:
            raise ValueError("frames must be fed in time order")
        if tr.t0 is None:
            tr.t0 = t  # the clock starts with the first frame
        tr.last_t = t
        if t - tr.t0 > p.time_limit_s:
            return self._fail("timeout", t)
        if landmarks is None:
            if tr.last_seen_t is not None and t - tr.last_seen_t > p.max_missing_s:
                return self._fail("face_lost", t)
            return self.status(t)

        pts = to_points(landmarks)
        box = tuple(float(v) for v in box) if box is not None else face_box(pts)
        if self._jumped(box):
            return self._fail("face_changed", t)
        if tr.last_seen_t is not None and t - tr.last_seen_t > p.max_missing_s:
            return self._fail("face_lost", t)
        tr.last_seen_t, tr.last_box = t, box
        if encoding is not None and self._other_person(encoding):
            return self._fail("face_changed", t)

        yaw = yaw_ratio(pts) * (-1.0 if self.mirrored else 1.0)
        ear = mean_ear(pts)
        tr.yaw_min, tr.yaw_max = min(tr.yaw_min, yaw), max(tr.yaw_max, yaw)
        tr.ear_min, tr.ear_max = min(tr.ear_min, ear), max(tr.ear_max, ear)
        if len(tr.yaw0) < 3:
            tr.yaw0.append(yaw)
        base = float(np.median(tr.yaw0))
        shift = yaw - base

        turned = self._turn(shift)
        if turned is not None:
            if turned != self.action:
                return self._fail("wrong_action", t)
            self._advance(t)
            return self.status(t)
        if abs(shift) <= p.frontal_yaw and self._blink(ear) and self.action == "blink":
            self._advance(t)
        return self.status(t)

    # -- internals ------------------------------------------------------------------
    def _fail(self, reason: str, t: float) -> LivenessStatus:
        self.state, self.reason = "failed", reason
        return self.status(t)

    def _advance(self, t: float) -> None:
        tr = self._tr
        self.step += 1
        tr.eye_closed = False
        if self.step >= len(self.challenge) and self.state == "running":
            self.state = "passed"

    def _jumped(self, box) -> bool:
        last = self._tr.last_box
        if last is None:
            return False
        w0, h0 = last[2] - last[0], last[3] - last[1]
        w1, h1 = box[2] - box[0], box[3] - box[1]
        if min(w0, h0, w1, h1) <= 0:
            return True
        size0, size1 = (w0 * h0) ** 0.5, (w1 * h1) ** 0.5
        if max(size0, size1) / min(size0, size1) > self.params.max_scale_change:
            return True
        c0 = np.array([(last[0] + last[2]) / 2, (last[1] + last[3]) / 2])
        c1 = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
        return float(np.linalg.norm(c1 - c0)) > self.params.max_jump * max(w0, w1)

    def _other_person(self, encoding) -> bool:
        if self._distance is None:
            encoding = np.asarray(encoding, dtype=np.float64).reshape(-1)
        first = self._tr.first_encoding
        if first is None:
            self._tr.first_encoding = encoding
            return False
        if self._distance is None:
            distance = float(np.linalg.norm(encoding - first))
        else:
            distance = float(self._distance(first, encoding))
        return distance > self.params.identity_threshold

    def _turn(self, shift: float) -> str | None:
        """'turn_left' / 'turn_right' once the pose stays turned for turn_hold_frames."""
        tr, p = self._tr, self.params
        if tr.turn_latched and abs(shift) < p.turn_delta / 2:
            tr.turn_latched = None  # back to the start pose: the next turn counts again
        direction = None
        if shift >= p.turn_delta:
            direction = "turn_left"  # nose toward the image's right = customer's left
        elif shift <= -p.turn_delta:
            direction = "turn_right"
        if direction is None or direction == tr.turn_latched:
            tr.turn_run, tr.turn_run_dir = 0, None
            return None
        if direction != tr.turn_run_dir:
            tr.turn_run, tr.turn_run_dir = 0, direction
        tr.turn_run += 1
        if tr.turn_run >= p.turn_hold_frames:
            tr.turn_run, tr.turn_run_dir, tr.turn_latched = 0, None, direction
            return direction
        return None

    def _blink(self, ear: float) -> bool:
        """True on the frame the eyes open again after being closed."""
        tr, p = self._tr, self.params
        ref = float(np.median(tr.ears[-30:])) if tr.ears else None
        if ref is None or len(tr.ears) < p.reference_frames or ref < p.min_open_ear:
            if not tr.eye_closed:
                tr.ears.append(ear)
            return False
        if not tr.eye_closed:
            if ear < p.blink_closed_ratio * ref:
                tr.eye_closed = True
            else:
                tr.ears.append(ear)
            return False
        if ear > p.blink_open_ratio * ref:
            tr.eye_closed = False
            tr.ears.append(ear)
            return True
        return False


# ------------------------------------------------------------------------ real frames


@dataclass(frozen=True)
class Observation:
    landmarks: np.ndarray  # (68, 2) int, frame coordinates
    box: tuple[int, int, int, int]  # (left, top, right, bottom)
    encoding: object | None  # when asked for: dlib's 128-d vector, or the model's Embedding


# YuNet's box (x, y, w, h) → the box dlib's HOG detector gives for the same face, which the
# 68-point model was trained on: medians over 60 faces of the face set in webcam-like 480×360
# frames (bench/bench_liveness.py shows the same verdicts and blink/turn measures either way).
_YUNET_TO_DLIB = (-0.047, 0.17, 1.039, 0.979)  # left, top, right, bottom in box widths/heights
YUNET_SCORE = 0.6
YUNET_MAX_SIDE = 320  # the face of a customer at the kiosk is 100–250 px in a 480-px frame


def yunet_boxes(frame_bgr: np.ndarray, detector) -> list[tuple[int, int, int, int, float]]:
    """Faces found by YuNet, as dlib-like (left, top, right, bottom, score), biggest first."""
    rows = detector.detect(frame_bgr, score_threshold=YUNET_SCORE, max_side=YUNET_MAX_SIDE)
    boxes = []
    for row in rows:
        x, y, w, h = (float(v) for v in row[:4])
        a, b, c, d = _YUNET_TO_DLIB
        boxes.append((round(x + a * w), round(y + b * h), round(x + c * w), round(y + d * h),
                      float(row[14])))
    return sorted(boxes, key=lambda bx: -(bx[2] - bx[0]) * (bx[3] - bx[1]))


def observe(frame_bgr: np.ndarray, with_encoding: bool = False,
            model=None, detector=None) -> Observation | None:
    """68-point landmarks (and optionally the encoding) of the largest face in a frame.

    The landmarks always come from dlib (its 68 points are what blink and turn are measured
    on). The encoding: with ``model`` (a ``faces.FaceModel``) that model's ``Embedding`` of the
    frame's largest face — the model that decides the face match, so liveness and decision
    judge identity alike; without, dlib's vector from the 68-point alignment.

    ``detector``: YuNet (``card_portrait.face_detector``) finds the face, ~4 ms a frame and
    turned heads too; without it dlib's HOG detector does (~15 ms a frame, and ~75 ms on a
    frame where it sees no face, as during a head turn: it looks again at twice the size).
    """
    from kiosk.vision import faces

    rgb = faces.to_rgb(frame_bgr)
    boxes = yunet_boxes(frame_bgr, detector) if detector is not None else faces.detect_faces(rgb)
    if not boxes:
        return None
    face = faces.encode_face(rgb, max(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1])),
                             landmark_model="large", encode=with_encoding and model is None)
    encoding = face.encoding
    if with_encoding and model is not None:
        encoding = model.embed(frame_bgr)
    top, right, bottom, left = face.location
    return Observation(landmarks=face.landmarks, box=(left, top, right, bottom),
                       encoding=encoding)


def run_sequence(frames, challenge: list[str], mirrored: bool = False,
                 params: LivenessParams | None = None, model=None,
                 deadline: float | None = None, clock=time.monotonic, detector=None):
    """Run a whole recorded challenge: ``frames`` is [(t_seconds, frame_bgr)] in time order.

    Returns ``(status, index)`` where ``index`` is the frame best suited to be kept as the face
    photo (the first frame with the most frontal face seen before the first action), or None.
    Identity is checked between the first frame with an encoding and the last frame with a
    face, with ``model`` (a ``faces.FaceModel``: the one deciding the face match, with its own
    ``identity_threshold``) or, without, dlib's 68-point encodings at ``params``' threshold.

    ``deadline`` (a ``clock()`` value): once it has passed, no further frame is looked at and
    the recording fails as ``busy`` unless it was already decided — a request must answer
    before the app server's worker timeout, however loaded the machine is.
    """
    distance = None
    if model is not None:
        params = replace(params or LivenessParams(),
                         identity_threshold=model.identity_threshold)
        distance = model.distance
    session = LivenessSession(challenge, mirrored=mirrored, params=params, distance=distance)
    best, best_yaw, last_seen = None, None, None
    have_reference = False
    status = session.status()
    for index, (t, frame) in enumerate(frames):
        if deadline is not None and clock() > deadline:
            return session._fail("busy", t), None
        # keep asking for an encoding until one frame gave one (the model's detector may miss
        # a face that dlib's found): without a reference nothing could be checked at the end
        obs = observe(frame, with_encoding=not have_reference, model=model, detector=detector)
        if obs is None:
            status = session.update(t, None)
        else:
            have_reference = have_reference or obs.encoding is not None
            status = session.update(t, obs.landmarks, obs.box, obs.encoding)
            yaw = abs(yaw_ratio(obs.landmarks))
            if session.step == 0 and (best_yaw is None or yaw < best_yaw):
                best, best_yaw = index, yaw
            last_seen = index
        if status.state != "running":
            break
    if status.state == "running" and frames:
        # Frames stopped before the end of the challenge: judge at the last timestamp.
        status = session.tick(frames[-1][0] + session.params.time_limit_s + 0.001)
    if status.state == "passed" and last_seen is not None and last_seen != best:
        if deadline is not None and clock() > deadline:
            return session._fail("busy", frames[last_seen][0]), None
        last = observe(frames[last_seen][1], with_encoding=True, model=model, detector=detector)
        if last is not None and last.encoding is not None:
            status = session.check_identity(last.encoding)
    return status, best
