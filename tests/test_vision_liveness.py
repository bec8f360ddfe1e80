"""Active liveness: geometry on synthetic landmarks, the challenge state machine, one real photo.

Synthetic faces: a mean frontal 68-point face (averaged from frontal test photos, in units
where the eye centres are 40 apart) given depth by a simple head model, rotated about the
vertical axis and projected — enough to produce blink and head-turn landmark sequences.
"""
from __future__ import annotations

import random

import numpy as np
import pytest

from kiosk.vision.liveness import (
    ACTIONS,
    PROMPTS,
    LivenessSession,
    eye_aspect_ratio,
    mean_ear,
    new_challenge,
    yaw_ratio,
)

TEMPLATE = np.array([
    [-45, 1], [-45, 13], [-43, 25], [-41, 37], [-37, 47], [-30, 57], [-21, 65], [-11, 71],
    [1, 73], [12, 71], [22, 64], [31, 56], [38, 47], [42, 36], [43, 24], [44, 13], [45, 2],
    [-37, -7], [-32, -12], [-24, -14], [-16, -13], [-8, -10], [7, -10], [15, -13], [24, -14],
    [31, -12], [37, -7], [0, -1], [0, 6], [0, 14], [0, 22], [-9, 27], [-5, 28], [0, 30],
    [5, 28], [9, 27], [-27, 0], [-23, -3], [-17, -2], [-12, 1], [-18, 2], [-23, 2], [12, 1],
    [17, -2], [23, -3], [27, 0], [23, 2], [18, 2], [-20, 39], [-12, 37], [-5, 37], [0, 38],
    [5, 37], [12, 37], [20, 39], [13, 47], [6, 51], [0, 51], [-6, 51], [-13, 47], [-17, 40],
    [-5, 40], [0, 41], [5, 40], [17, 40], [6, 45], [0, 46], [-5, 45]], dtype=float)
NOSE_DEPTH = {27: 6, 28: 10, 29: 15, 30: 20, 31: 10, 32: 12, 33: 14, 34: 12, 35: 10}
FPS = 10


def face(yaw_deg=0.0, eye_open=1.0, scale=2.0, centre=(320.0, 240.0), roll_deg=0.0,
         noise=0.0, rng=None):
    """68 landmarks of a synthetic face in a raw (unmirrored) 640×480 frame.

    Positive ``yaw_deg`` turns the face toward the customer's left (nose to the image's right).
    """
    p = TEMPLATE.copy()
    half = 46.0
    z = np.sqrt(np.clip(1 - (p[:, 0] / half) ** 2, 0, None)) * 0.75 * half
    for i, depth in NOSE_DEPTH.items():
        z[i] += depth
    for upper, lower in ((37, 41), (38, 40), (43, 47), (44, 46)):
        mid = (p[upper, 1] + p[lower, 1]) / 2
        p[upper, 1] = mid + (p[upper, 1] - mid) * eye_open
        p[lower, 1] = mid + (p[lower, 1] - mid) * eye_open
    th = np.radians(yaw_deg)
    p = np.stack([p[:, 0] * np.cos(th) + z * np.sin(th), p[:, 1]], axis=1)
    r = np.radians(roll_deg)
    p = p @ np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]]).T
    p = p * scale + np.asarray(centre)
    if noise:
        p = p + (rng or np.random.default_rng(0)).normal(0, noise, p.shape)
    return p


def frames(*segments, start=0.0, noise=0.4, seed=0):
    """[(t, landmarks)] from segments (seconds, yaw_deg, eye_open), FPS frames a second.

    ``yaw_deg`` None means no face in those frames. Landmarks get ~0.4 px detector jitter.
    """
    rng = np.random.default_rng(seed)
    out, t = [], start
    for seconds, yaw, eye in segments:
        for _ in range(max(1, round(seconds * FPS))):
            out.append((round(t, 3), None if yaw is None else face(yaw, eye, noise=noise, rng=rng)))
            t += 1.0 / FPS
    return out


def run(session, sequence, **kwargs):
    status = session.status()
    for t, landmarks in sequence:
        status = session.update(t, landmarks, **kwargs)
    return status


OPEN = (1.0, 0, 1.0)  # one second, frontal, eyes open
BLINK = [(0.2, 0, 0.15)]  # eyes closed for two frames
LEFT = [(0.5, 12, 1.0), (0.6, 25, 1.0), (0.5, 0, 1.0)]  # customer turns to their left and back
RIGHT = [(0.5, -12, 1.0), (0.6, -25, 1.0), (0.5, 0, 1.0)]


# ---------------------------------------------------------------------- challenge


def test_challenge_is_a_blink_and_one_turn():
    challenge = new_challenge(random.Random(1))
    assert len(challenge) == 2 and "blink" in challenge
    assert challenge[1 - challenge.index("blink")] in ("turn_left", "turn_right")


def test_challenge_order_and_direction_vary():
    seen = {tuple(new_challenge(random.Random(seed))) for seed in range(40)}
    assert len(seen) == 4  # blink first or second × left or right


def test_challenge_with_two_turns_has_both_directions():
    assert sorted(new_challenge(random.Random(3), turns=2)) == sorted(ACTIONS)


def test_prompts_are_vietnamese():
    assert PROMPTS == {"blink": "Chớp mắt", "turn_left": "Quay đầu sang trái",
                       "turn_right": "Quay đầu sang phải"}


# ----------------------------------------------------------------------- geometry


def test_eye_aspect_ratio_of_open_eye_exceeds_closed_eye():
    assert mean_ear(face(eye_open=1.0)) > 0.25
    assert mean_ear(face(eye_open=0.3)) < 0.12


def test_eye_aspect_ratio_formula():
    # corners 4 apart, lids 2 apart on both verticals: (2 + 2) / (2 · 4)
    eye = [(0, 0), (1, -1), (3, -1), (4, 0), (3, 1), (1, 1)]
    assert eye_aspect_ratio(eye) == pytest.approx(0.5)


def test_frontal_face_has_near_zero_yaw():
    assert abs(yaw_ratio(face(0))) < 0.03


def test_turn_to_customers_left_gives_positive_yaw():
    assert yaw_ratio(face(20)) > 0.3
    assert yaw_ratio(face(-20)) < -0.3


def test_yaw_grows_with_the_angle():
    values = [yaw_ratio(face(a)) for a in (0, 10, 20, 30)]
    assert values == sorted(values)


def test_yaw_ignores_head_roll():
    assert yaw_ratio(face(20, roll_deg=25)) == pytest.approx(yaw_ratio(face(20)), abs=0.02)


def test_face_recognition_landmark_dict_is_accepted():
    pts = face(20)
    names = [("chin", 0, 17), ("left_eyebrow", 17, 22), ("right_eyebrow", 22, 27),
             ("nose_bridge", 27, 31), ("nose_tip", 31, 36), ("left_eye", 36, 42),
             ("right_eye", 42, 48)]
    as_dict = {name: [tuple(p) for p in pts[a:b]] for name, a, b in names}
    assert yaw_ratio(as_dict) == pytest.approx(yaw_ratio(pts))


# ------------------------------------------------------------------ state machine


def test_blink_then_left_turn_passes():
    status = run(LivenessSession(["blink", "turn_left"]), frames(OPEN, *BLINK, OPEN, *LEFT))
    assert status.state == "passed", status


def test_right_turn_then_blink_passes():
    status = run(LivenessSession(["turn_right", "blink"]), frames(OPEN, *RIGHT, OPEN, *BLINK, OPEN))
    assert status.state == "passed", status


def test_prompt_follows_the_current_action():
    session = LivenessSession(["turn_left", "blink"])
    assert run(session, frames(OPEN)).prompt == "Quay đầu sang trái"
    assert run(session, frames(*LEFT, start=1.0)).prompt == "Chớp mắt"


def test_still_photo_fails_at_timeout():
    photo = face(0)
    session = LivenessSession(["blink", "turn_left"])
    status = run(session, [(i / FPS, photo) for i in range(25 * FPS)])
    assert (status.state, status.reason) == ("failed", "timeout")
    assert status.still


def test_hand_held_photo_moving_without_blinking_fails():
    session = LivenessSession(["blink", "turn_right"])
    sequence = [(i / FPS, face(0, centre=(320 + 15 * np.sin(i / 7), 240 + 8 * np.cos(i / 5))))
                for i in range(25 * FPS)]
    status = run(session, sequence)
    assert (status.state, status.reason) == ("failed", "timeout")


def test_closing_the_eyes_without_opening_them_is_not_a_blink():
    status = run(LivenessSession(["blink"]), frames(OPEN, (3.0, 0, 0.15)))
    assert (status.state, status.action) == ("running", "blink")


def test_too_slow_fails_with_timeout():
    sequence = frames(OPEN, *BLINK, (19.0, 0, 1.0), *LEFT)  # the turn comes after 20 s
    status = run(LivenessSession(["blink", "turn_left"]), sequence)
    assert (status.state, status.reason) == ("failed", "timeout")


def test_actions_in_the_wrong_order_fail():
    status = run(LivenessSession(["blink", "turn_left"]), frames(OPEN, *LEFT, *BLINK, OPEN))
    assert (status.state, status.reason) == ("failed", "wrong_action")


def test_turn_in_the_wrong_direction_fails():
    status = run(LivenessSession(["turn_left", "blink"]), frames(OPEN, *RIGHT))
    assert (status.state, status.reason) == ("failed", "wrong_action")


def test_mirrored_frames_swap_image_directions():
    # in a mirrored frame the customer's left turn shows as the nose moving image-left
    status = run(LivenessSession(["turn_left", "blink"], mirrored=True),
                 frames(OPEN, *RIGHT, OPEN, *BLINK, OPEN))
    assert status.state == "passed", status


def test_natural_blink_during_a_turn_step_is_not_an_error():
    status = run(LivenessSession(["turn_left", "blink"]),
                 frames(OPEN, *BLINK, OPEN, *LEFT, OPEN, *BLINK, OPEN))
    assert status.state == "passed", status


def test_one_long_turn_counts_once():
    # holding the head turned must not also satisfy (or break) the next action
    session = LivenessSession(["turn_left", "blink"])
    status = run(session, frames(OPEN, (3.0, 25, 1.0)))
    assert (status.state, status.action) == ("running", "blink")


def test_face_disappearing_mid_challenge_fails():
    sequence = frames(OPEN, *BLINK, (2.0, None, None), OPEN, *LEFT)
    status = run(LivenessSession(["blink", "turn_left"]), sequence)
    assert (status.state, status.reason) == ("failed", "face_lost")


def test_face_leaving_the_frame_fails_without_waiting_for_it_to_return():
    status = run(LivenessSession(["blink", "turn_left"]), frames(OPEN, *BLINK, (1.5, None, None)))
    assert (status.state, status.reason) == ("failed", "face_lost")


def test_brief_detector_dropout_is_tolerated():
    sequence = frames(OPEN, *BLINK, (0.5, None, None), OPEN, *LEFT)
    status = run(LivenessSession(["blink", "turn_left"]), sequence)
    assert status.state == "passed", status


def test_face_jumping_elsewhere_in_the_frame_fails():
    session = LivenessSession(["blink", "turn_left"])
    run(session, frames(OPEN, *BLINK))
    status = session.update(1.5, face(0, centre=(520.0, 240.0)))
    assert (status.state, status.reason) == ("failed", "face_changed")


def test_face_swapped_during_a_dropout_fails():
    session = LivenessSession(["blink", "turn_left"])
    run(session, frames(OPEN))
    session.update(1.1, None)
    status = session.update(1.5, face(0, scale=3.6))  # a different, much closer face
    assert (status.state, status.reason) == ("failed", "face_changed")


def test_different_identity_mid_challenge_fails():
    rng = np.random.default_rng(5)
    first, other = rng.normal(0, 0.1, 128), rng.normal(0, 0.1, 128)
    session = LivenessSession(["blink", "turn_left"])
    session.update(0.0, face(0), encoding=first)
    sequence = frames(OPEN, *BLINK, OPEN, start=0.1)
    run(session, sequence)
    status = session.update(sequence[-1][0] + 0.1, face(0), encoding=other)
    assert (status.state, status.reason) == ("failed", "face_changed")


def test_different_identity_in_the_last_frame_fails_a_passed_session():
    rng = np.random.default_rng(5)
    first, other = rng.normal(0, 0.1, 128), rng.normal(0, 0.1, 128)
    session = LivenessSession(["blink", "turn_left"])
    session.update(0.0, face(0), encoding=first)
    assert run(session, frames(OPEN, *BLINK, OPEN, *LEFT, start=0.1)).state == "passed"
    status = session.check_identity(other)
    assert (status.state, status.reason) == ("failed", "face_changed")


def test_same_identity_in_the_last_frame_keeps_the_pass():
    enc = np.random.default_rng(6).normal(0, 0.1, 128)
    session = LivenessSession(["blink", "turn_left"])
    session.update(0.0, face(0), encoding=enc)
    run(session, frames(OPEN, *BLINK, OPEN, *LEFT, start=0.1))
    assert session.check_identity(enc + 0.01).state == "passed"


def test_frames_out_of_time_order_are_refused():
    session = LivenessSession(["blink", "turn_left"])
    session.update(1.0, face(0))
    with pytest.raises(ValueError):
        session.update(0.5, face(0))


def test_finished_session_ignores_later_frames():
    session = LivenessSession(["blink"])
    assert run(session, frames(OPEN, *BLINK, OPEN)).state == "passed"
    assert session.update(60.0, None).state == "passed"


# ------------------------------------------------------------------ real photo


@pytest.mark.vision
def test_still_calibration_photo_repeated_30_times_fails():
    from kiosk.vision.liveness import observe
    from tests.faces_data import face_data_dir, load, require_face_models, row

    require_face_models()
    face_data_dir()
    file = "roh_moo_hyun/4.jpg"
    assert row(file)["split"] == "calibration"
    image = load(file)
    session = LivenessSession(["blink", "turn_left"])
    status = None
    for i in range(30):  # 0.75 s apart: the last frame is past the 20 s limit
        seen = observe(image, with_encoding=(i in (0, 29)))
        assert seen is not None
        status = session.update(i * 0.75, seen.landmarks, box=seen.box, encoding=seen.encoding)
    assert (status.state, status.reason) == ("failed", "timeout")
    assert status.still


@pytest.mark.vision
def test_yunet_finds_the_face_for_the_same_landmarks_as_dlibs_detector():
    """The fast path (YuNet's box mapped to dlib's) measures blink and turn as the HOG path."""
    import cv2
    import numpy as np

    from kiosk.vision.card_portrait import face_detector
    from kiosk.vision.liveness import mean_ear, observe, yaw_ratio
    from tests.faces_data import face_data_dir, load, require_face_models

    require_face_models()
    face_data_dir()
    detector = face_detector(None)
    for file in ("roh_moo_hyun/4.jpg", "megawati_sukarnoputri/5.jpg"):
        photo = load(file)
        photo = cv2.cvtColor(photo, cv2.COLOR_GRAY2BGR) if photo.ndim == 2 else photo[:, :, :3]
        frame = np.full((360, 480, 3), 118, np.uint8)
        small = cv2.resize(photo, None, fx=300 / photo.shape[0], fy=300 / photo.shape[0])
        x = (480 - small.shape[1]) // 2
        frame[30:330, max(0, x):max(0, x) + min(480, small.shape[1])] = small[:, :480]
        slow, fast = observe(frame), observe(frame, detector=detector)
        assert slow is not None and fast is not None
        assert abs(mean_ear(slow.landmarks) - mean_ear(fast.landmarks)) < 0.05
        assert abs(yaw_ratio(slow.landmarks) - yaw_ratio(fast.landmarks)) < 0.05
    assert observe(np.full((360, 480, 3), 118, np.uint8), detector=detector) is None
