"""A preview frame judged with the last frame's corners as a hint, against the full search.

    .venv/bin/python bench/bench_preview_tracking.py [--frames 200] [--size 1280x720] [--move 30]

Frames: the held-out guidance evaluation set (``tests/support/guidance_eval.py``: both scene
generators, all four card layouts, six backgrounds; good, far, close, turned, tilted, blurred,
glary, dark and empty frames), rendered at ``--size`` (the kiosk's preview frames are 1280 px
wide). Each frame is first searched whole, untimed (the hint is drawn from where that finds
the card), then judged twice, timed, in alternating order, in the same run:

- ``full``: ``guidance.analyse_frame(image)``, the whole frame searched;
- ``tracked``: ``analyse_frame(image, hint=…)`` where the hint stands for the previous frame's
  corners: where the full search found the card (else the frame's true card, else another
  frame's card: a stale hint), moved by a hand's drift — a shift of up to ``--move`` px, a
  turn of up to 2° and a change of size of up to 3 %, drawn per frame.

It prints JSON: CPU ms per frame for both (median, p95; the ratio of medians), the share of
frames the hint was used for (``tracked_share``; the rest fell back to the full search), the
share with the same verdict (the same issues), the share with the card in the same place
(corners within 1 % of the frame's width), and each pipeline's scores against the frames'
labels (``guidance_eval.confusion``: the share of good frames refused, and per issue the
false alarms and misses). ``card_found_only_when_tracked`` counts the frames where only the
run with the hint found a card: there the hint came from the true corners, which no earlier
frame would have given at the counter.
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
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench_guidance import frames  # noqa: E402  (the held-out set at one frame size)

from kiosk.vision import card_track, guidance  # noqa: E402
from tests.support import guidance_eval  # noqa: E402


def drifted(corners: np.ndarray, rng: np.random.Generator, move: float) -> np.ndarray:
    """The corners as the previous frame may have shown them: shifted, turned and scaled."""
    centre = corners.mean(axis=0)
    angle = np.deg2rad(rng.uniform(-2.0, 2.0))
    scale = rng.uniform(0.97, 1.03)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) * scale
    shift = rng.uniform(-1.0, 1.0, 2)
    shift = shift / max(np.hypot(*shift), 1e-6) * rng.uniform(0.0, move)
    return ((corners - centre) @ turn.T + centre + shift).astype(np.float32)


def summary(values: list[float]) -> dict:
    values = sorted(values)
    return {"median_ms": round(statistics.median(values), 2),
            "p95_ms": round(values[min(len(values) - 1, int(0.95 * len(values)))], 2)}


def cpu_ms(fn):
    start = time.process_time()
    out = fn()
    return (time.process_time() - start) * 1000, out


def same_place(a: np.ndarray | None, b: np.ndarray | None, width: int) -> bool:
    if a is None or b is None:
        return a is None and b is None
    error = min(float(np.abs(np.roll(a, -k, 0) - b).max()) for k in (0, 2))
    return error <= 0.01 * width


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--move", type=float, default=30.0,
                        help="largest drift between two frames, px of the frame")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    cv2.setNumThreads(1)  # as in a vision process of the pool
    data = frames(args.frames, size)
    rng = np.random.default_rng(args.seed)
    cards = [f.corners for f in data if f.corners is not None]

    guidance.analyse_frame(data[0].image)  # warm-up (first-call allocations)
    cpu = {"full": [], "tracked": []}
    results = {"full": [], "tracked": []}
    used = same_verdict = same_card = found_more = 0
    for index, item in enumerate(data):
        # where the full search finds the card: the hint is drawn from it, so it runs first,
        # untimed; the two timed runs then alternate which goes first
        full = guidance.analyse_frame(item.image)
        base = full.corners if full.corners is not None else item.corners
        if base is None:
            base = cards[int(rng.integers(len(cards)))]
        hint = drifted(np.asarray(base, np.float32), rng, args.move)
        parsed = card_track.parse_hint(card_track.format_hint(hint), size[0], size[1])
        near = parsed.corners if parsed is not None else None
        runs = {"full": lambda item=item: guidance.analyse_frame(item.image),
                "tracked": lambda item=item, near=near: guidance.analyse_frame(item.image,
                                                                               hint=near)}
        for name in (("full", "tracked") if index % 2 else ("tracked", "full")):
            spent, out = cpu_ms(runs[name])
            cpu[name].append(spent)
            if name == "tracked":
                tracked = out
        used += tracked.followed
        results["full"].append(full)
        results["tracked"].append(tracked)
        same_verdict += sorted(full.issues) == sorted(tracked.issues)
        same_card += same_place(full.corners, tracked.corners, size[0])
        found_more += full.corners is None and tracked.corners is not None

    def scores(name):
        verdicts = iter(results[name])
        table = guidance_eval.confusion(data, lambda _image: next(verdicts).issues)
        return {"good_refused_rate": table["good_refused_rate"],
                "false_alarms": {c: r["fp"] for c, r in table["codes"].items()},
                "misses": {c: r["fn"] for c, r in table["codes"].items()}}

    full_cpu, tracked_cpu = summary(cpu["full"]), summary(cpu["tracked"])
    print(json.dumps({
        "benchmark": "preview_tracking",
        "command": "bench/bench_preview_tracking.py " + " ".join(
            argv if argv is not None else sys.argv[1:]),
        "frame_size": f"{size[0]}x{size[1]}",
        "frames": len(data),
        "frames_with_a_card": sum(f.corners is not None for f in data),
        "largest_drift_px": args.move,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpu_full": full_cpu,
        "cpu_tracked": tracked_cpu,
        "tracked_vs_full_median": round(tracked_cpu["median_ms"] / full_cpu["median_ms"], 3),
        "tracked_share": round(used / len(data), 3),
        "same_verdict": round(same_verdict / len(data), 3),
        "same_card_location": round(same_card / len(data), 3),
        "card_found_only_when_tracked": found_more,
        "scores_full": scores("full"),
        "scores_tracked": scores("tracked"),
    }, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
