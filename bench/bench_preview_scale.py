"""A preview frame judged at the camera's size against the same frame reduced first: CPU and
advice, in the same run on the same frames. JSON.

    .venv/bin/python bench/bench_preview_scale.py [--frames 200] [--size 1280x720] [--scale 0.5]
                                                  [--repeat 3]

Frames: the held-out guidance evaluation set (``tests/support/guidance_eval.py``: both scene
generators, labelled per issue code), all rendered at ``--size`` (what camera.js sends). Each
frame is judged by ``guidance.analyse_frame`` as the kiosk does, and again after an area
reduction to ``--scale`` of its size (the reduction is counted in the reduced pipeline's CPU),
the two interleaved and each ``--repeat`` times (the least CPU counts: the host is shared).
Reported for both: the median CPU milliseconds, the share of good frames refused and each
code's precision and recall against the labels; then the CPU ratio and the share of frames
given the same verdict. The card search already runs on a reduced copy of the frame
(card_outline), so what a reduction can still save is the refinement and the measurements
made at full size.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_guidance import frames  # noqa: E402  (the held-out set at one size)
from kiosk.vision import guidance  # noqa: E402
from tests.support import guidance_eval  # noqa: E402


def judged(data, pipelines: dict, repeat: int) -> dict:
    """Each frame through every pipeline, ``repeat`` times, interleaved (the order alternates
    from frame to frame), so that the host's drift falls on both alike; the least CPU of the
    repeats counts. {name: [(cpu seconds, result) per frame]}."""
    out = {name: [] for name in pipelines}
    for index, item in enumerate(data):
        order = list(pipelines.items())
        if index % 2:
            order.reverse()
        best: dict = {}
        for _ in range(repeat):
            for name, judge in order:
                c0 = time.process_time()
                result = judge(item.image)
                spent = time.process_time() - c0
                if name not in best or spent < best[name][0]:
                    best[name] = (spent, result)
        for name in pipelines:
            out[name].append(best[name])
    return out


def scored(data, results: list) -> dict:
    """Confusion against the labels and the median CPU ms of one pipeline's results."""
    answers = iter(results)
    table = guidance_eval.confusion(data, lambda _image: next(answers)[1].issues)
    return {"cpu_median_ms": round(statistics.median(t for t, _ in results) * 1000, 2),
            "good_frames": table["good_frames"],
            "good_refused_rate": table["good_refused_rate"],
            "precision_recall": {code: [row["precision"], row["recall"]]
                                 for code, row in table["codes"].items()}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--scale", type=float, default=0.5)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    if not 0.1 <= args.scale < 1:
        ap.error("--scale is a reduction: between 0.1 and 1")
    cv2.setNumThreads(1)  # as a vision process runs (VISION_THREADS)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    data = frames(args.frames, size)

    def camera_size(image):
        return guidance.analyse_frame(image)

    def reduced(image):
        small = cv2.resize(image, None, fx=args.scale, fy=args.scale,
                           interpolation=cv2.INTER_AREA)
        return guidance.analyse_frame(small)

    camera_size(data[0].image), reduced(data[0].image)  # first-call allocations
    results = judged(data, {"camera_size": camera_size, "reduced": reduced}, max(1, args.repeat))
    full, small = scored(data, results["camera_size"]), scored(data, results["reduced"])
    same = sum(bool(a.ok) == bool(b.ok) for (_, a), (_, b)
               in zip(results["camera_size"], results["reduced"], strict=True))
    print(json.dumps({
        "benchmark": "preview_scale",
        "command": "bench/bench_preview_scale.py " + " ".join(
            argv if argv is not None else sys.argv[1:]),
        "frame_size": f"{size[0]}x{size[1]}",
        "scale": args.scale,
        "frames": len(data),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "camera_size": full,
        "reduced": small,
        "cpu_ratio_reduced_to_camera_size": round(
            small["cpu_median_ms"] / max(full["cpu_median_ms"], 1e-3), 3),
        "same_verdict": round(same / len(data), 3),
    }, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
