"""Calibrate and evaluate the camera guidance on labelled frames from two scene generators.

    .venv/bin/python bench/calibrate_guidance.py [--frames 400] [--fit] [--markdown]

Builds the ``calibration`` and ``held_out`` parts of ``tests/support/guidance_eval.py``
(``--frames`` each), runs ``guidance.analyse_frame`` with the current ``GuidanceLimits`` on
both, and prints JSON: per issue code the confusion counts, precision and recall, and the share
of good frames (every code labelled "should not fire") that were refused, per part and per
generator. ``--fit`` also prints, for each limit, the value that maximises F1 on the
calibration part alone (what the defaults were set from); ``--markdown`` prints the tables as
they appear in docs/vision-guidance.md.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kiosk.vision import guidance  # noqa: E402
from tests.support import card_scenes, guidance_eval  # noqa: E402

# limit name -> (issue code, metric, sign): sign +1 = the issue fires above the limit
FITTED = {
    "min_brightness": ("too_dark", "brightness", -1),
    "min_width_fraction": ("too_far", "card_width_fraction", -1),
    "max_skew_deg": ("tilted", "abs_skew", +1),
    "max_tilt_deg": ("tilted", "tilt_deg", +1),
    "max_blur": ("blurred", "blur", +1),
    "max_glare_fraction": ("glare", "glare_fraction", +1),
}


def _metric(metrics: dict, name: str):
    if name == "abs_skew":
        return abs(metrics["skew_deg"]) if "skew_deg" in metrics else None
    return metrics.get(name)


def fit(frames, results) -> dict:
    """Per fitted limit: the threshold with the best F1 on these frames (other limits as set)."""
    out = {}
    for limit, (code, metric, sign) in FITTED.items():
        pairs = [(_metric(r.metrics, metric), f.labels[code]) for f, r in zip(frames, results, strict=True)
                 if f.labels.get(code) is not None and _metric(r.metrics, metric) is not None]
        if not pairs:
            continue
        best = (-1.0, None)
        for threshold in sorted({round(v, 4) for v, _ in pairs}):
            tp = sum(1 for v, y in pairs if y and sign * (v - threshold) > 0)
            fp = sum(1 for v, y in pairs if not y and sign * (v - threshold) > 0)
            fn = sum(1 for v, y in pairs if y and not sign * (v - threshold) > 0)
            f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
            if f1 > best[0]:
                best = (round(f1, 3), threshold)
        out[limit] = {"code": code, "metric": metric, "best_f1": best[0], "threshold": best[1],
                      "current": getattr(guidance.DEFAULT_LIMITS, limit)}
    return out


def evaluate(frames, results) -> dict:
    by_frame = {id(f.image): r.issues for f, r in zip(frames, results, strict=True)}
    table = {"all": guidance_eval.confusion(frames, lambda image: by_frame[id(image)])}
    for source in ("card_scenes", "synthetic"):
        part = [f for f in frames if f.source == source]
        table[source] = guidance_eval.confusion(part, lambda image: by_frame[id(image)])
    return table


def markdown(name: str, table: dict) -> str:
    lines = [f"**{name}** — {table['all']['good_frames']} good frames, "
             f"{table['all']['good_refused']} refused "
             f"({100 * (table['all']['good_refused_rate'] or 0):.1f} %; second generator "
             f"{100 * (table['card_scenes']['good_refused_rate'] or 0):.1f} %, synthetic.py "
             f"{100 * (table['synthetic']['good_refused_rate'] or 0):.1f} %)", "",
             "| code | TP | FP | FN | TN | precision | recall | recall, 2nd generator only |",
             "|---|---|---|---|---|---|---|---|"]
    for code in card_scenes.CODES:
        row, second = table["all"]["codes"][code], table["card_scenes"]["codes"][code]
        lines.append(f"| `{code}` | {row['tp']} | {row['fp']} | {row['fn']} | {row['tn']} | "
                     f"{row['precision']} | {row['recall']} | {second['recall']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=400)
    parser.add_argument("--fit", action="store_true")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    report: dict = {"command": "bench/calibrate_guidance.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                    "limits": guidance.DEFAULT_LIMITS.__dict__}
    for split in ("calibration", "held_out"):
        frames = guidance_eval.dataset(split, args.frames)
        results = [guidance.analyse_frame(f.image) for f in frames]
        report[split] = evaluate(frames, results)
        if args.fit and split == "calibration":  # metrics are computed whatever the limits
            report["fit"] = fit(frames, results)
        if args.markdown:
            print(markdown(split, report[split]) + "\n")
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
