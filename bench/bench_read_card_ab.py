"""The card reader's answers and CPU on drawn scenes, for comparing two versions of the code.

    KIOSK_CODE=/tmp/ref .venv/bin/python bench/bench_read_card_ab.py [--n 10] [--held] > ref.json
    .venv/bin/python bench/bench_read_card_ab.py [--n 10] [--held] > this.json
    .venv/bin/python bench/bench_read_card_ab.py --compare ref.json this.json

For each of ``--n`` seeds and each card kind (2021 chip CCCD, 2024 căn cước, 2016 barcode
CCCD): the front (a face photo of the calibration split as its portrait) and the back, drawn
(tests/support/synthetic.py) and photographed on a desk in a 1280×720 frame at seeded random
size, angle, light and blur, JPEG quality 92, then ``read_card([frame])`` — the read a kiosk's
single photo gets, with nothing kept between reads (``--held``: read as the kiosk's camera
shots are, one side of one card held up: ``read_side(frame, held_card=True)``). Each row: whether the ID number read is
the card's, the sides, the card kind, whether the zone read valid, whether a portrait was
found, where the number came from. ``--compare`` prints the rows that differ and the CPU, in
all and as the median per card kind and side.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [os.environ.get("KIOSK_CODE", str(ROOT)), str(ROOT)]

KINDS = ("cccd_chip_2021", "can_cuoc_2024", "cccd_barcode_2016")
FACES = ("megawati_sukarnoputri/4.jpg", "joe_biden/1.jpg", "zhang_ziyi/1.jpg")


def run(n: int, held: bool = False) -> dict:
    import cv2
    import numpy as np

    from kiosk.vision.read_card import merge_sides, read_card, read_side
    from tests.faces_data import load
    from tests.support.synthetic import place_in_scene, random_holder, render_back, render_front

    rows, timings, cpu = [], [], 0.0
    for i in range(n):
        for kind in KINDS:
            holder = random_holder(np.random.default_rng(1000 + i), kind)
            front = render_front(holder, load(FACES[i % len(FACES)]), 1000 + i, kind=kind)
            back = render_back(holder, 1000 + i, kind=kind)
            for side, card in (("front", front), ("back", back)):
                frame, _ = place_in_scene(card, (1280, 720), 5000 + i)
                ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 92])
                image = cv2.imdecode(buf, cv2.IMREAD_COLOR)
                started = time.process_time()
                result = (merge_sides([read_side(image, held_card=True)])[0] if held
                          else read_card([image]))
                spent = time.process_time() - started
                cpu += spent
                timings.append({"kind": kind, "side": side, "cpu_ms": round(spent * 1000, 1)})
                rows.append({"kind": kind, "side": side, "seed": i,
                             "id_right": result["id_number"] == holder["id_number"],
                             "sides": result["sides"], "card_kind": result["card_kind"],
                             "zone_valid": result["mrz"]["valid"],
                             "portrait": result["portrait_found"],
                             "id_source": (result.get("field_sources") or {}).get("id_number")})
    return {"cpu_s": round(cpu, 1), "rows": rows, "timings": timings}


def compare(a: dict, b: dict) -> dict:
    differ = [{"a": x, "b": y} for x, y in zip(a["rows"], b["rows"], strict=True) if x != y]
    totals = {}
    for name, run_ in (("a", a), ("b", b)):
        totals[name] = {key: sum(bool(r[key]) for r in run_["rows"])
                        for key in ("id_right", "zone_valid", "portrait")}
    by_group = {}
    for name, run_ in (("a", a), ("b", b)):
        groups: dict[str, list[float]] = {}
        for t in run_.get("timings", []):
            groups.setdefault(f'{t["kind"]} {t["side"]}', []).append(t["cpu_ms"])
        for group, values in groups.items():
            by_group.setdefault(group, {})[name] = round(statistics.median(values), 1)
    return {"rows": len(a["rows"]), "differ": len(differ), "differences": differ[:20],
            "totals": totals, "cpu_s": {"a": a["cpu_s"], "b": b["cpu_s"]},
            "cpu_ms_median_by_kind_and_side": by_group}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--held", action="store_true",
                    help="read each photo as a camera shot of one card held up (step 6)")
    ap.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"))
    args = ap.parse_args(argv)
    if args.compare:
        a, b = (json.loads(Path(p).read_text()) for p in args.compare)
        report = compare(a, b)
    else:
        report = run(args.n, args.held)
    json.dump(report, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
