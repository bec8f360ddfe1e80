"""Time from the last frame of a liveness recording to the verdict: today's path (dlib's HOG
finds the face in every frame) vs YuNet finding it, same recording, same run. JSON.

    .venv/bin/python bench/bench_liveness.py [--runs 5] [--frames 72]

The recording is what static/js/liveness.js sends: 480-px-wide JPEG frames at 8 fps for ~9 s
(72 frames). It is built from a face photo of the face set (tests/faces_data) in a 480×360
webcam-like frame: a third frontal, a third with the head turned (the photo warped in
perspective, as a head turned ~30°: dlib's frontal HOG detector often misses it and looks again
at twice the size), a third frontal again. The still photo never blinks, so the challenge is not
passed and every frame is judged: the worst case (a passed challenge stops at its last action).

The browser posts the whole recording after the last frame and the server judges it then, so
the time from the last frame to the verdict is the judging time measured here (``judge_s``:
``EkycEngine.judge_liveness`` with the detector chosen, models loaded beforehand). ``ratio`` is
today's median over the new one; ``same_verdict`` says both paths gave the same state and
reason; ``faces_seen`` how many frames each path found a face in. Target: new median ≤ 2 s on
the kiosk at rest.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FACE = "megawati_sukarnoputri/5.jpg"


def webcam_frame(photo: np.ndarray, turned: bool) -> np.ndarray:
    if photo.ndim == 2:
        photo = cv2.cvtColor(photo, cv2.COLOR_GRAY2BGR)
    frame = np.full((360, 480, 3), 118, np.uint8)
    scale = 300 / photo.shape[0]
    small = cv2.resize(photo[:, :, :3], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = small.shape[:2]
    if turned:  # one side of the face farther away: a head turned ~30°
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = np.float32([[0, 0], [w * 0.78, h * 0.08], [w * 0.78, h * 0.92], [0, h]])
        small = cv2.warpPerspective(small, cv2.getPerspectiveTransform(src, dst), (w, h),
                                    borderMode=cv2.BORDER_REPLICATE)
    x, y = (480 - w) // 2, 30
    frame[y:y + h, max(0, x):max(0, x) + min(w, 480)] = small[:, :min(w, 480)]
    return frame


def recording(frames: int) -> tuple[list[float], list[bytes]]:
    from tests.faces_data import face_data_dir, load

    face_data_dir()
    photo = load(FACE)
    rng = np.random.default_rng(0)
    blobs = []
    for i in range(frames):
        turned = frames // 3 <= i < 2 * frames // 3
        frame = webcam_frame(photo, turned).astype(np.int16)
        frame += rng.integers(-4, 5, frame.shape, dtype=np.int16)  # sensor noise per frame
        ok, buf = cv2.imencode(".jpg", np.clip(frame, 0, 255).astype(np.uint8),
                               [cv2.IMWRITE_JPEG_QUALITY, 80])
        blobs.append(buf.tobytes())
    return [i / 8 for i in range(frames)], blobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--frames", type=int, default=72)
    args = parser.parse_args()

    from kiosk.core.config import DEFAULTS
    from kiosk.vision import liveness
    from kiosk.vision.engine import EkycEngine

    engine = EkycEngine.from_config(DEFAULTS)
    stamps, blobs = recording(args.frames)
    challenge = ["blink", "turn_left"]
    engine.judge_liveness(stamps[:2], blobs[:2], challenge)  # models loaded before timing

    seen = {"today": 0, "new": 0}
    real_observe = liveness.observe

    def counting(path):
        def observe(*a, **kw):
            if path == "today":
                kw["detector"] = None  # today's path: dlib's HOG in every frame
            found = real_observe(*a, **kw)
            seen[path] += found is not None
            return found
        return observe

    times: dict[str, list[float]] = {"today": [], "new": []}
    verdicts = {}
    for _run in range(args.runs):
        for path in ("today", "new"):
            seen[path] = 0
            with mock.patch.object(liveness, "observe", counting(path)):
                start = time.perf_counter()
                verdict = engine.judge_liveness(stamps, blobs, challenge)
                times[path].append(time.perf_counter() - start)
            verdicts[path] = (verdict.state, verdict.reason)
    today, new = statistics.median(times["today"]), statistics.median(times["new"])
    print(json.dumps({
        "frames": args.frames, "runs": args.runs,
        "judge_s": {"today_median": round(today, 3), "new_median": round(new, 3),
                    "today_all": [round(t, 3) for t in times["today"]],
                    "new_all": [round(t, 3) for t in times["new"]]},
        "ratio": round(today / new, 2) if new else None,
        "per_frame_ms": {"today": round(1000 * today / args.frames, 1),
                         "new": round(1000 * new / args.frames, 1)},
        "faces_seen": seen, "verdicts": verdicts,
        "same_verdict": verdicts["today"] == verdicts["new"],
        "target_new_median_s": 2.0, "met": new <= 2.0,
    }, indent=2))


if __name__ == "__main__":
    main()
