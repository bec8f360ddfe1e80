"""YuNet's four passes of a registration with one network per input size, against one network
reshaped to each size as the passes alternate, in the same run. JSON.

    .venv/bin/python bench/bench_yunet_sizes.py [--walks 30]

The passes are those of step 6 (sface.SFaceModel.detect, the sizes the kiosk's 1280×720 camera
gives): the card portrait's cut when the card is read (``portrait=True``), the square patch
that turns the portrait upright (portrait_search.face_angle), the portrait again when it is
compared, the live camera frame. Each walk runs the four passes; the two ways alternate walk by
walk (the order swapped every other walk), and the median CPU milliseconds of a walk and their
ratio are printed. Both ways must find the same rows: a walk whose rows differ is reported.
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

from kiosk.vision import portrait_search, sface  # noqa: E402
from tests.faces_data import load  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--walks", type=int, default=30)
    args = ap.parse_args(argv)
    cv2.setNumThreads(1)  # as a vision process runs (VISION_THREADS)
    model = sface.SFaceModel()
    model.load_detector()
    face = load("megawati_sukarnoputri/4.jpg")
    if face.ndim == 2:  # some of the test photos are grey
        face = cv2.cvtColor(face, cv2.COLOR_GRAY2BGR)
    face = face[:, :, :3]
    # a portrait cut from a 1280×720 shot of a card, and a live face in the camera's frame
    portrait = cv2.resize(face, (180, 240), interpolation=cv2.INTER_AREA)
    frame = np.full((720, 1280, 3), 120, np.uint8)
    frame[120:600, 440:840] = cv2.resize(face, (400, 480), interpolation=cv2.INTER_AREA)
    side = portrait_search._PATCH_SIDE
    patch = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
    passes = (lambda: model.detect(portrait, portrait=True),
              lambda: model.detect(patch, score_threshold=0.3, max_side=side),
              lambda: model.detect(portrait, portrait=True),
              lambda: model.detect(frame))
    per_size = model._sized_detector

    def reshaped(size):  # the one network, set to each size in turn (the code before)
        model._detector.setInputSize(size)
        return model._detector

    ways = {"per_size": per_size, "reshaped": reshaped}

    def walk(way):
        model._sized_detector = ways[way]
        started = time.process_time()
        rows = [run() for run in passes]
        return time.process_time() - started, rows

    for way in ways:  # first calls, and every size seen twice
        walk(way), walk(way)
    spent = {way: [] for way in ways}
    differ = 0
    for index in range(args.walks):
        order = list(ways) if index % 2 else list(reversed(ways))
        found = {}
        for way in order:
            seconds, found[way] = walk(way)
            spent[way].append(seconds)
        differ += any(not np.array_equal(a, b) for a, b in
                      zip(found["per_size"], found["reshaped"], strict=True))
    medians = {way: round(statistics.median(v) * 1000, 2) for way, v in spent.items()}
    print(json.dumps({
        "benchmark": "yunet_sizes",
        "walks": args.walks,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "sizes_with_a_network": [list(s) for s in model._detectors],
        "cpu_ms_per_walk_median": medians,
        "ratio_per_size_to_reshaped": round(medians["per_size"] / medians["reshaped"], 3),
        "walks_whose_rows_differ": differ,
    }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
