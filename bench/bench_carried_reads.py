"""What a job costs in a vision process that never read the registration's card, with and without
the card reads carried from the process that did (kiosk/vision/carried_reads.py).

    .venv/bin/python bench/bench_carried_reads.py [--rounds 7]

Under gunicorn each web process has its own vision pool and a registration's requests land on
either, so the back's job and the face comparison often run where the card photos were never
read. Per round (fresh photos, bench/profile_vision.py's: a synthetic chip CCCD front and back
in 1280×720 camera frames, another photo of the same person as the face), step 6's two card
jobs run once; then each measured job runs in an emptied process (photo_cache cleared: what a
worker that never saw the photos keeps), once without and once with the carried reads, in
alternating order. CPU seconds (process_time), medians over rounds; the ratio of the medians
in the same run. Also the packing's size and what packing and restoring cost. JSON on stdout.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
import profile_vision  # the same photos and engine as the registration profile


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args(argv)
    cv2.setNumThreads(1)  # as a vision process of the pool runs (VISION_THREADS)

    from kiosk.vision import carried_reads, jobs, photo_cache

    e = profile_vision.engine()
    e.preload()
    people = profile_vision.pairs()
    cpu: dict[str, list[float]] = {}
    sizes: dict[str, list[int]] = {"front": [], "back": []}
    same = []

    def timed(name, thunk):
        photo_cache.clear_all()
        c0 = time.process_time()
        result = thunk()
        cpu.setdefault(name, []).append(time.process_time() - c0)
        return result

    for r in range(args.rounds + 1):  # round 0 warms the code paths, not counted
        p = profile_vision.registration_photos(100 + r, *people[r % len(people)])
        photo_cache.clear_all()
        front = jobs.card_photo(e, p["front"], [], True, held_card=True)
        back = jobs.card_photo(e, p["back"], [p["front"]], False, held_card=True,
                               carried=[front["reads"]])
        carried = [front["reads"], back["reads"]]
        cards = [p["front"], p["back"]]
        measured = {
            "back_job": lambda c, p=p: jobs.card_photo(e, p["back"], [p["front"]], False,
                                                       held_card=True, carried=c),
            "compare": lambda c, p=p, cards=cards: jobs.compare(e, cards, p["face"], True, c),
        }
        answers = {}
        for name, job in measured.items():
            order = [("without", []), ("with", carried)]
            if r % 2:
                order.reverse()
            for label, given in order:
                answers[(name, label)] = timed(f"{name}_{label}", lambda job=job, given=given:
                                               job(given))
        key = carried_reads.photo_key(p["front"], e.max_pixels)
        photo_cache.clear_all()
        carried_reads.restore([front["reads"]], [p["front"]], e.max_pixels)
        c0 = time.process_time()
        carried_reads.pack(key)
        cpu.setdefault("pack_front", []).append(time.process_time() - c0)
        packed, photo = front["reads"], p["front"]
        timed("restore_front", lambda packed=packed, photo=photo: carried_reads.restore(
            [packed], [photo], e.max_pixels))
        if r == 0:
            cpu.clear()
            continue
        sizes["front"].append(len(front["reads"]))
        sizes["back"].append(len(back["reads"]))
        a, b = answers[("compare", "without")], answers[("compare", "with")]
        same.append((a["decision"], a["distance"], a["card"]) == (b["decision"], b["distance"],
                                                                  b["card"]))
    med = {name: statistics.median(v) * 1000 for name, v in cpu.items()}
    report = {
        "rounds": args.rounds,
        "cpu_ms_median": {k: round(v, 2) for k, v in sorted(med.items())},
        "ratio_with_to_without": {
            name: round(med[f"{name}_with"] / med[f"{name}_without"], 3)
            for name in ("back_job", "compare")},
        "saved_ms_per_job": {name: round(med[f"{name}_without"] - med[f"{name}_with"], 1)
                             for name in ("back_job", "compare")},
        "packing_bytes_median": {k: int(statistics.median(v)) for k, v in sizes.items()},
        "same_comparison_every_round": all(same),
    }
    json.dump(report, sys.stdout, indent=1)
    print()
    return 0 if all(same) else 1


if __name__ == "__main__":
    sys.exit(main())
