"""Time of a whole chip read, per data group, against the SIMULATED chip (no radio, no reader).

    .venv/bin/python bench/bench_chip.py [--runs 5] [--chunk 223]

What it measures is the host's share of a read: APDU building, secure messaging (AES after
PACE, 3DES after BAC), the PACE elliptic-curve arithmetic in Python, parsing and passive
authentication. A real card over ISO 14443 adds its own time per APDU (typically tens of ms
for a 223-byte READ BINARY), which no simulation shows: measure with `flask chip read` on
the reader. Baseline in the same run: the same read through BAC (3DES, no EC arithmetic).
Prints JSON (medians in ms).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kiosk.chip import read_card  # noqa: E402
from kiosk.chip.simulated import (  # noqa: E402
    SAMPLE_PERSON,
    SimulatedChip,
    make_card_files,
    make_test_pki,
)


def _medians(runs: list[dict]) -> dict:
    return {k: round(statistics.median(r[k] for r in runs), 1) for k in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=0xDF)
    args = parser.parse_args()
    files = make_card_files(SAMPLE_PERSON, make_test_pki())
    pace_runs, bac_runs, apdus = [], [], {}
    for _ in range(args.runs):
        r = read_card(SimulatedChip(files, SAMPLE_PERSON), can=SAMPLE_PERSON.can, chunk=args.chunk)
        pace_runs.append(r.timings_ms)
        apdus["PACE"] = r.apdus
        r = read_card(SimulatedChip(files, SAMPLE_PERSON, pace=False), mrz_key=SAMPLE_PERSON.mrz_key,
                      chunk=args.chunk)
        bac_runs.append(r.timings_ms)
        apdus["BAC"] = r.apdus
    print(json.dumps({
        "simulated": True, "runs": args.runs, "chunk": args.chunk,
        "file_bytes": {k: len(v) for k, v in files.files.items()},
        "pace_ms": _medians(pace_runs), "baseline_bac_ms": _medians(bac_runs), "apdus": apdus,
    }, indent=1))


if __name__ == "__main__":
    main()
