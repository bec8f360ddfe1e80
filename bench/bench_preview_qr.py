"""What reading the QR code on every preview frame costs, against the advice alone, in one run.

    .venv/bin/python bench/bench_preview_qr.py [--frames 120] [--size 1280x720] [--repeat 3]

Frames: the held-out guidance evaluation set (``tests/support/guidance_eval.py``: all four card
layouts on six backgrounds, good, far, close, turned, tilted, blurred, glary and empty frames),
rendered at ``--size``. Three pipelines per frame, interleaved, the fastest of ``--repeat``
counting (a shared machine: the minimum is the least disturbed measurement):

- ``advice``: ``guidance.analyse_frame`` — what a preview frame cost before;
- ``advice_zxing``: the advice, then zxing-cpp on the card's corner and on the frame;
- ``advice_zxing_wechat``: the same, then OpenCV's WeChat reader where zxing-cpp read nothing
  — what ``EkycEngine.preview`` runs on every frame now.

Reports the median and 90th percentile per pipeline, the ratios of the medians to ``advice``,
and on how many frames each pipeline read a QR code. Prints JSON.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kiosk.vision import guidance, qr_decode  # noqa: E402
from kiosk.vision.engine import PREVIEW_FRAME_VARIANTS, PREVIEW_REGION_VARIANTS  # noqa: E402
from tests.support import guidance_eval  # noqa: E402


def _frames(n: int, size: tuple[int, int]):
    original = guidance_eval._size
    guidance_eval._size = lambda rng: size  # every frame at the requested size
    try:
        return guidance_eval.dataset("held_out", n)
    finally:
        guidance_eval._size = original


def _pipelines():
    def advice(image):
        return guidance.analyse_frame(image), None

    def with_decoders(decoders):
        def run(image):
            verdict = guidance.analyse_frame(image)
            found = qr_decode.decode_card_qr(image, verdict.corners, decoders,
                                             region_variants=PREVIEW_REGION_VARIANTS,
                                             frame_variants=PREVIEW_FRAME_VARIANTS)
            return verdict, found
        return run

    return {"advice": advice, "advice_zxing": with_decoders(("zxing",)),
            "advice_zxing_wechat": with_decoders(("zxing", "wechat"))}


def _summary(times: list[float]) -> dict:
    ordered = sorted(times)
    return {"median_ms": round(statistics.median(ordered), 2),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 2)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    w, h = (int(v) for v in args.size.lower().split("x"))
    frames = _frames(args.frames, (w, h))
    pipelines = _pipelines()
    qr_decode.wechat_reader()  # loaded before timing, as in a running server
    times = {name: [] for name in pipelines}
    read = dict.fromkeys(pipelines, 0)
    for labelled in frames:
        for name, run in pipelines.items():
            best, found = float("inf"), None
            for _ in range(args.repeat):
                start = time.perf_counter()
                _, found = run(labelled.image)
                best = min(best, (time.perf_counter() - start) * 1000)
            times[name].append(best)
            read[name] += found is not None
    base = statistics.median(times["advice"])
    print(json.dumps({
        "frames": len(frames), "size": f"{w}x{h}",
        "pipelines": {name: {**_summary(values),
                             "median_ratio_to_advice": round(statistics.median(values) / base, 2),
                             "frames_whose_qr_code_was_read": read[name]}
                      for name, values in times.items()},
    }, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
