"""Time of ``guidance.analyse_frame`` per webcam frame, vs the naive full-resolution pass.

    .venv/bin/python bench/bench_guidance.py [--frames 120] [--size 640x480] [--repeat 3]

Frames: the held-out guidance evaluation set (``tests/support/guidance_eval.py``: both scene
generators, about a third good frames, the rest far, close, turned, tilted, blurred, glary,
bright-but-not-glary, dark or empty), all rendered at ``--size``. They are generated first;
generation is not timed.

Naive baseline, in the same run on the same frames: the same analysis without the shortcuts —
card search on the full-resolution frame (no downscale) and the metrics on the full 856 px
straightened card warped straight from the frame. Each frame is analysed ``--repeat`` times by
each pipeline, interleaved, and the fastest repeat counts (the machine is shared: the minimum is
the least disturbed measurement). Wall-clock and process CPU time are both reported.
Target: median ≤ 33 ms per 640×480 frame. Prints JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kiosk.vision import card_outline, guidance  # noqa: E402
from tests.support import card_scenes, guidance_eval  # noqa: E402

TARGET_MS = 33.0


def frames(n: int, size: tuple[int, int]) -> list[guidance_eval.Labelled]:
    original = guidance_eval._size
    guidance_eval._size = lambda rng: (rng.random(), size)[1]  # same draws, fixed size
    try:
        return guidance_eval.dataset("held_out", n)
    finally:
        guidance_eval._size = original


def summary(times: list[float]) -> dict:
    times = sorted(times)
    return {"median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 2),
            "max_ms": round(times[-1], 2)}


def timed(fn) -> tuple[float, float, object]:
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return (time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000, out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--size", default="640x480")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    data = frames(args.frames, size)

    def fast(image):
        return guidance.analyse_frame(image)

    def naive(image):
        return guidance.analyse_frame(image, detect_side=max(image.shape[:2]),
                                      metric_size=card_outline.CARD_SIZE)

    fast(data[0].image), naive(data[0].image)  # warm-up (first-call allocations)
    wall = {"fast": [], "naive": []}
    cpu = {"fast": [], "naive": []}
    agree = same_verdict = 0
    for item in data:
        best = {}
        for _ in range(max(1, args.repeat)):
            for name, fn in (("fast", fast), ("naive", naive)):
                w, c, out = timed(lambda fn=fn, image=item.image: fn(image))
                prev = best.get(name)
                if prev is None or w < prev[0]:
                    best[name] = (w, c, out)
        for name in ("fast", "naive"):
            wall[name].append(best[name][0])
            cpu[name].append(best[name][1])
        a, b = best["fast"][2], best["naive"][2]
        same_verdict += a.ok == b.ok
        if a.corners is None or b.corners is None:
            agree += a.corners is None and b.corners is None
        else:  # same card found: corners within 1 % of the frame width
            error = min(float(np.abs(np.roll(a.corners, -k, 0) - b.corners).max()) for k in (0, 2))
            agree += error <= 0.01 * size[0]

    fast_wall, naive_wall = summary(wall["fast"]), summary(wall["naive"])
    fast_cpu, naive_cpu = summary(cpu["fast"]), summary(cpu["naive"])
    print(json.dumps({
        "benchmark": "guidance_analyse_frame",
        "command": "bench/bench_guidance.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "frame_size": f"{size[0]}x{size[1]}",
        "frames": len(data),
        "good_frames": sum(item.good for item in data),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cores": os.cpu_count(),
        "analyse_frame": {"wall": fast_wall, "cpu": fast_cpu},
        "naive_full_resolution": {"wall": naive_wall, "cpu": naive_cpu},
        "speedup_median_wall": round(naive_wall["median_ms"] / fast_wall["median_ms"], 2),
        "speedup_median_cpu": round(naive_cpu["median_ms"] / max(fast_cpu["median_ms"], 1e-3), 2),
        "same_card_location_as_naive": round(agree / len(data), 3),
        "same_ok_verdict_as_naive": round(same_verdict / len(data), 3),
        "target_median_ms": TARGET_MS,
        "meets_target_wall": fast_wall["median_ms"] <= TARGET_MS,
        "issue_codes": list(card_scenes.CODES),
    }, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
