"""A/B of one camera preview frame's server work: before (every decoder on every frame) and
after (``guidance.preview_decoders``: the advice decides which QR decoders a frame is worth).

    .venv/bin/python bench/bench_preview_ab.py [--frames 90] [--size 1280x720] [--repeat 3]

Frames: the held-out guidance evaluation set (``tests/support/guidance_eval.py``: both scene
generators, all four card layouts, six backgrounds; good, far, close, turned, tilted, blurred,
glary, dark and empty frames) rendered at ``--size`` and JPEG-encoded at quality 80, as
static/js/guidance.js sends them. Both pipelines take the JPEG bytes:

- ``before``: the preview as it was — decode, ``analyse_frame``, then zxing-cpp on the card's
  corner and the frame, then WeChat's reader on both where zxing-cpp read nothing;
- ``after``: ``EkycEngine.preview`` as it is now (the advice chooses the decoders,
  ``guidance.preview_decoders``; the cheapest try first, ``qr_decode.decode_preview_qr``).

Each frame runs both, interleaved, ``--repeat`` times; the least process CPU time counts (a
shared machine). A breakdown of ``before`` (decode, advice, zxing-cpp, WeChat) is timed once
per frame. Accuracy: the advice (issue codes) and the QR payload of every frame must be the
same in both. Prints JSON; exits 1 when a frame's advice or QR read differs.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import cv2

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kiosk.vision import card_outline, guidance, qr_decode  # noqa: E402
from kiosk.vision.engine import (  # noqa: E402
    GUIDANCE_MAX_SIDE,
    PREVIEW_FRAME_VARIANTS,
    PREVIEW_REGION_VARIANTS,
    EkycEngine,
    PreviewAdvice,
)
from kiosk.vision.images import decode_image  # noqa: E402
from tests.support import guidance_eval  # noqa: E402

MAX_PIXELS = 40_000_000


def _frames(n: int, size: tuple[int, int]):
    original = guidance_eval._size
    guidance_eval._size = lambda rng: (rng.random(), size)[1]  # same draws, fixed size
    try:
        return guidance_eval.dataset("held_out", n)
    finally:
        guidance_eval._size = original


def before(data: bytes) -> PreviewAdvice:
    """EkycEngine.preview before the verdict chose the decoders (kept here for the A/B)."""
    frame, _ = decode_image(data, MAX_PIXELS)
    side = max(frame.shape[:2])
    if side > GUIDANCE_MAX_SIDE:
        scale = GUIDANCE_MAX_SIDE / side
        frame = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    result = guidance.analyse_frame(frame)
    found = qr_decode.decode_card_qr(frame, result.corners, region_variants=PREVIEW_REGION_VARIANTS,
                                     frame_variants=PREVIEW_FRAME_VARIANTS)
    return PreviewAdvice(ok=bool(result.ok), issues=tuple(result.issues),
                         messages=tuple(result.messages),
                         qr_text=found.text if found is not None else None)


_ENGINE = SimpleNamespace(max_pixels=MAX_PIXELS)  # all EkycEngine.preview reads of its engine


def after(data: bytes) -> PreviewAdvice:
    return EkycEngine.preview(_ENGINE, data)


def breakdown(data: bytes) -> dict:
    """CPU ms of each stage of ``before`` on one frame."""
    clock = time.process_time
    t0 = clock()
    frame, _ = decode_image(data, MAX_PIXELS)
    t1 = clock()
    result = guidance.analyse_frame(frame)
    t2 = clock()
    gray = card_outline.to_gray(frame)
    zxing = qr_decode._decode_card_with(gray, result.corners, "zxing", True,
                                        PREVIEW_REGION_VARIANTS, PREVIEW_FRAME_VARIANTS)
    t3 = clock()
    if zxing is None:
        qr_decode._decode_card_with(gray, result.corners, "wechat", True)
    t4 = clock()
    return {"decode": (t1 - t0) * 1000, "advice": (t2 - t1) * 1000,
            "zxing": (t3 - t2) * 1000, "wechat": (t4 - t3) * 1000}


def _cpu(fn, data: bytes) -> tuple[float, PreviewAdvice]:
    start = time.process_time()
    out = fn(data)
    return (time.process_time() - start) * 1000, out


def _stats(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"mean_ms": round(statistics.fmean(ordered), 2),
            "median_ms": round(statistics.median(ordered), 2),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 2)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    w, h = (int(v) for v in args.size.lower().split("x"))
    labelled = _frames(args.frames, (w, h))
    qr_decode.wechat_reader()  # loaded before timing, as in a running server
    blobs = [cv2.imencode(".jpg", item.image, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
             for item in labelled]
    before(blobs[0]), after(blobs[0])  # warm-up
    cpu = {"before": [], "after": []}
    stages = collections.defaultdict(list)
    by_state = collections.defaultdict(lambda: {"frames": 0, "before": [], "after": []})
    reads = {"before": 0, "after": 0}
    differs = []
    for item, data in zip(labelled, blobs, strict=True):
        best = {}
        for _ in range(max(1, args.repeat)):
            for name, fn in (("before", before), ("after", after)):
                ms, out = _cpu(fn, data)
                if name not in best or ms < best[name][0]:
                    best[name] = (ms, out)
        for stage, ms in breakdown(data).items():
            stages[stage].append(ms)
        a, b = best["before"][1], best["after"][1]
        state = a.issues[0] if a.issues else "ok"
        by_state[state]["frames"] += 1
        for name in ("before", "after"):
            cpu[name].append(best[name][0])
            by_state[state][name].append(best[name][0])
            reads[name] += best[name][1].qr_text is not None
        if a.issues != b.issues or a.qr_text != b.qr_text:
            differs.append({"scenario": item.scenario, "before": [list(a.issues), a.qr_text is not None],
                            "after": [list(b.issues), b.qr_text is not None]})
    print(json.dumps({
        "benchmark": "preview_frame_ab",
        "command": "bench/bench_preview_ab.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "frame_size": f"{w}x{h}", "frames": len(blobs),
        "load_average_1min": round(os.getloadavg()[0], 2), "cores": os.cpu_count(),
        "cpu_per_frame": {name: _stats(values) for name, values in cpu.items()},
        "before_breakdown_mean_ms": {k: round(statistics.fmean(v), 2) for k, v in stages.items()},
        "cpu_mean_by_first_issue": {state: {"frames": d["frames"],
                                            "before_ms": round(statistics.fmean(d["before"]), 1),
                                            "after_ms": round(statistics.fmean(d["after"]), 1)}
                                    for state, d in sorted(by_state.items())},
        "qr_reads": reads,
        "same_advice_and_qr": len(blobs) - len(differs),
        "differences": differs,
    }, indent=2, ensure_ascii=False))
    return 1 if differs else 0


if __name__ == "__main__":
    raise SystemExit(main())
