"""Calibrate the face decision thresholds (docs/vision-faces.md) and report the rates.

    .venv/bin/python bench/calibrate_faces.py [--model sface|dlib|both] [--data DIR]
                                              [--compare] [--no-cache]

For each face model (default: both, side by side in one run — SFace decides, dlib is the
fallback and the figures it replaces), encodes every photo of the test set once with the
kiosk's own pipeline (``FaceModel.embed``), caching the embeddings outside the repository
(~/.cache/smartca-kiosk, keyed by the photo's sha256, the model and the pipeline settings). Forms every
same-person and different-person pair *within* each split, then on the calibration split only:

- ``accept`` = the largest distance at which at most 0.1 % of different-person pairs would be
  auto-accepted, minus a safety margin, rounded down to 0.01;
- ``reject`` = the smallest distance above which at most 2 % of same-person pairs would be
  auto-rejected, plus the margin, rounded up to 0.01;

each target holding on all pairs *and* within every region (``constraint_sets``).

Prints one JSON object: thresholds, and for each split (overall, per manifest ``group`` and per
coarse region) the false-accept, false-reject and review rates with pair counts, the same
figures at face_recognition's naive single tolerance 0.6 (dlib only: 0.6 is a dlib distance), and
with ``--compare`` dlib's 5-point vs 68-point landmark models and two detection sizes on the
calibration split.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import json
import math
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kiosk.domain.face_decision import FaceThresholds  # noqa: E402
from kiosk.vision import faces  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "testdata" / "faces"
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "smartca-kiosk"
PIPELINE_VERSION = 2  # bump when faces.py changes the way dlib encodings are computed
SFACE_PIPELINE_VERSION = 1  # bump when sface.py changes detection, alignment or features

MAX_FALSE_ACCEPT = 0.001  # different-person pairs auto-accepted
MAX_FALSE_REJECT = 0.02  # same-person pairs auto-rejected
SAFETY_MARGIN = 0.02
NAIVE_TOLERANCE = 0.6


def data_dir(arg: str | None) -> Path:
    return Path(arg or os.environ.get("KIOSK_FACE_DATA") or DEFAULT_DATA)


def read_manifest(folder: Path) -> list[dict]:
    with open(folder / "manifest.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def region(group: str) -> str:
    if not group:
        return "non-Asian"
    if group.startswith("East Asian"):
        return "East Asian"
    if group.startswith("SE Asian"):
        return "Southeast Asian"
    return group.split(" (")[0]


def population(group: str) -> str:
    """Broad population for look-alike impostors: East and Southeast Asian together."""
    r = region(group)
    return "East/Southeast Asian" if r in ("East Asian", "Southeast Asian") else r


def config_key(landmark_model: str, detect_max_side: int, model: str = "dlib") -> str:
    if model == "sface":
        from kiosk.vision import sface

        return (f"sface-v{SFACE_PIPELINE_VERSION}:side={sface.DETECT_MAX_SIDE}"
                f":score={sface.SCORE_THRESHOLD}")
    return (f"v{PIPELINE_VERSION}:lm={landmark_model}:side={detect_max_side}"
            f":margin={faces.CROP_MARGIN}:jit=1")


def embed_photo(image, model: str, landmark_model: str, detect_max_side: int):
    """(vector or None, face size) with the kiosk's pipeline for ``model``."""
    if model == "sface":
        found = faces.get_model("sface").embed(image)
        if found is None:
            return None, 0
        left, top, right, bottom = found.box
        return found.vector, min(right - left, bottom - top)
    face = faces.largest_face_encoding(image, landmark_model=landmark_model,
                                       detect_max_side=detect_max_side)
    return (None, 0) if face is None else (face.encoding, face.size)


def vector_distance(model: str):
    """The distance of ``model`` on raw vectors (within one model only)."""
    instance = faces.get_model(model)
    return instance._vector_distance


class EncodingCache:
    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.path = CACHE_DIR / "face-encodings.json"
        self.data: dict = {}
        self.dirty = False
        if enabled and self.path.is_file():
            try:
                self.data = json.loads(self.path.read_text())
            except (OSError, ValueError):
                self.data = {}

    def get(self, key):
        return self.data.get(key) if self.enabled else None

    def put(self, key, value):
        self.data[key] = value
        self.dirty = True

    def save(self):
        if self.enabled and self.dirty:
            CACHE_DIR.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.data))
            tmp.replace(self.path)


def encode_all(folder: Path, rows: list[dict], cache: EncodingCache, landmark_model: str,
               detect_max_side: int, model: str = "dlib") -> dict[str, dict]:
    """file → {"encoding": ndarray|None, "size": int, "seconds": float, "cached": bool}."""
    out = {}
    ckey = config_key(landmark_model, detect_max_side, model)
    for row in rows:
        data = (folder / row["file"]).read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        if row.get("sha256") and row["sha256"] != sha:
            raise SystemExit(f"{row['file']}: sha256 differs from manifest.csv")
        hit = cache.get(f"{sha}:{ckey}")
        if hit is not None:
            enc = None if hit["encoding"] is None else np.array(hit["encoding"])
            out[row["file"]] = {"encoding": enc, "size": hit["size"], "seconds": hit["seconds"],
                                "cached": True}
            continue
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        t0 = time.perf_counter()
        enc, size = embed_photo(image, model, landmark_model, detect_max_side)
        seconds = time.perf_counter() - t0
        cache.put(f"{sha}:{ckey}", {"encoding": None if enc is None else enc.tolist(),
                                   "size": size, "seconds": round(seconds, 4)})
        out[row["file"]] = {"encoding": enc, "size": size, "seconds": seconds, "cached": False}
    return out


def make_pairs(rows: list[dict], enc: dict[str, dict], split: str, distance=None):
    """[(distance, same: bool, group_a, group_b)] for all pairs of encoded photos in a split.

    ``distance``: the model's vector distance (default Euclidean, dlib's)."""
    distance = distance or (lambda a, b: float(np.linalg.norm(a - b)))
    items = [r for r in rows if r["split"] == split and enc[r["file"]]["encoding"] is not None]
    pairs = []
    for a, b in itertools.combinations(items, 2):
        d = float(distance(enc[a["file"]]["encoding"], enc[b["file"]]["encoding"]))
        pairs.append((d, a["identity"] == b["identity"], a["group"], b["group"]))
    return pairs


def _raw_accept(diff: np.ndarray) -> float:
    """Largest distance with at most floor(0.1 % · N) different-person pairs at or below it."""
    diff = np.sort(diff)
    allowed = math.floor(MAX_FALSE_ACCEPT * len(diff))
    return float(diff[allowed]) - 1e-6 if allowed < len(diff) else math.inf


def _raw_reject(same: np.ndarray) -> float:
    """Smallest distance with at most floor(2 % · N) same-person pairs above it."""
    same = np.sort(same)
    allowed = math.floor(MAX_FALSE_REJECT * len(same))
    return float(same[len(same) - 1 - allowed]) if allowed < len(same) else 0.0


def constraint_sets(pairs) -> dict[str, list]:
    """The pair sets each target must hold on: all pairs, and each region on its own.

    The population at a Thanh Hóa counter is almost entirely Vietnamese, and an impostor
    would be a look-alike from the same population; pairs across regions are easy and would
    dilute a global rate, so the targets must also hold within every region (and within East +
    Southeast Asian together).
    """
    sets = {"overall": pairs}
    for r in sorted({region(g) for _, _, ga, gb in pairs for g in (ga, gb)}):
        sets[r] = [p for p in pairs if region(p[2]) == r and region(p[3]) == r]
    asian = {"East Asian", "Southeast Asian"}
    sets["East + Southeast Asian"] = [p for p in pairs
                                      if region(p[2]) in asian and region(p[3]) in asian]
    return sets


def pick_thresholds(pairs, margin: float = SAFETY_MARGIN) -> tuple[FaceThresholds, dict]:
    accepts, rejects = {}, {}
    for name, sub in constraint_sets(pairs).items():
        same = np.array([d for d, s, *_ in sub if s])
        diff = np.array([d for d, s, *_ in sub if not s])
        if len(diff):
            accepts[name] = _raw_accept(diff)
        if len(same):
            rejects[name] = _raw_reject(same)
    bind_a = min(accepts, key=accepts.get)
    bind_r = max(rejects, key=rejects.get)
    raw_accept, raw_reject = accepts[bind_a], rejects[bind_r]
    accept = math.floor((raw_accept - margin) * 100) / 100
    reject = math.ceil((raw_reject + margin) * 100) / 100
    reject = max(reject, accept)
    return FaceThresholds(accept=accept, reject=reject), {
        "raw_accept": round(raw_accept, 4), "accept_bound_by": bind_a,
        "raw_reject": round(raw_reject, 4), "reject_bound_by": bind_r,
        "raw_accept_per_set": {k: round(v, 4) for k, v in accepts.items()},
        "raw_reject_per_set": {k: round(v, 4) for k, v in rejects.items()},
        "margin": margin,
    }


def rates(pairs, th: FaceThresholds) -> dict:
    same = [d for d, s, *_ in pairs if s]
    diff = [d for d, s, *_ in pairs if not s]

    def share(values, pred):
        return None if not values else round(sum(1 for v in values if pred(v)) / len(values), 4)

    return {
        "same_pairs": len(same),
        "different_pairs": len(diff),
        "false_accept_rate": share(diff, lambda d: d <= th.accept),
        "false_accepts": sum(1 for d in diff if d <= th.accept),
        "false_reject_rate": share(same, lambda d: d > th.reject),
        "false_rejects": sum(1 for d in same if d > th.reject),
        "review_rate_same": share(same, lambda d: th.accept < d <= th.reject),
        "review_rate_different": share(diff, lambda d: th.accept < d <= th.reject),
        "review_rate_all": share(same + diff, lambda d: th.accept < d <= th.reject),
        "auto_match_rate_same": share(same, lambda d: d <= th.accept),
        "max_same_distance": round(max(same), 4) if same else None,
        "min_different_distance": round(min(diff), 4) if diff else None,
    }


def breakdown(pairs, th: FaceThresholds) -> dict:
    """Overall, per exact group tag and per coarse region.

    Same-person pairs count under their person's group. Different-person pairs count under a
    region when both people belong to it, and under a group when one person belongs to it and
    the other to the same broad population (``population``): the look-alike impostors that
    matter, not the easy cross-population pairs.
    """
    out = {"overall": rates(pairs, th), "by_group": {}, "by_region": {}}
    groups = sorted({g for _, _, ga, gb in pairs for g in (ga, gb)})
    for g in groups:
        sub = [p for p in pairs
               if (p[1] and p[2] == g)
               or (not p[1] and ((p[2] == g and population(p[3]) == population(g))
                                 or (p[3] == g and population(p[2]) == population(g))))]
        out["by_group"][g or "(empty = non-Asian)"] = rates(sub, th)
    regions = sorted({region(g) for g in groups})
    for r in regions:
        sub = [p for p in pairs if region(p[2]) == r and region(p[3]) == r]
        out["by_region"][r] = rates(sub, th)
    asian = {"East Asian", "Southeast Asian"}
    sub = [p for p in pairs if region(p[2]) in asian and region(p[3]) in asian]
    out["by_region"]["East + Southeast Asian"] = rates(sub, th)
    return out


def separation(pairs) -> dict:
    """Threshold-free summary: ROC AUC and equal-error rate."""
    same = np.array([d for d, s, *_ in pairs if s])
    diff = np.array([d for d, s, *_ in pairs if not s])
    auc = float(np.mean(same[:, None] < diff[None, :]) + 0.5 * np.mean(same[:, None] == diff[None, :]))
    best = (1.0, 0.0)
    for t in np.unique(np.concatenate([same, diff])):
        frr, far = float(np.mean(same > t)), float(np.mean(diff <= t))
        if abs(frr - far) < abs(best[0] - best[1]) or best == (1.0, 0.0):
            best = (frr, far)
    return {"auc": round(auc, 5), "eer": round((best[0] + best[1]) / 2, 4)}


def evaluate_config(folder, rows, cache, landmark_model, detect_max_side,
                    model: str = "dlib") -> dict:
    enc = encode_all(folder, rows, cache, landmark_model, detect_max_side, model)
    cal = make_pairs(rows, enc, "calibration", vector_distance(model))
    th, detail = pick_thresholds(cal)
    fresh = [v["seconds"] for v in enc.values() if not v["cached"]]
    return {
        "landmark_model": landmark_model,
        "detect_max_side": detect_max_side,
        "thresholds": {"accept": th.accept, "reject": th.reject},
        "calibration": {**separation(cal), **rates(cal, th)},
        "no_face": sorted(f for f, v in enc.items() if v["encoding"] is None),
        "median_encode_ms": round(1000 * float(np.median(fresh)), 1) if fresh else None,
    }, enc, th, detail


def report_model(folder, rows, cache, model: str, args) -> dict:
    """Thresholds from the calibration split and the per-region report of both splits."""
    summary, enc, _, _ = evaluate_config(folder, rows, cache, args.landmark_model,
                                         args.detect_max_side, model)
    distance = vector_distance(model)
    cal_pairs = make_pairs(rows, enc, "calibration", distance)
    th, detail = pick_thresholds(cal_pairs, args.margin)
    if model == "sface":
        from kiosk.vision import sface

        pipeline = {"detector": "YuNet 2023mar", "recognizer": "SFace 2021dec",
                    "distance": "1 - cosine", "detect_max_side": sface.DETECT_MAX_SIDE,
                    "score_threshold": sface.SCORE_THRESHOLD}
    else:
        pipeline = {"detector": "hog", "encoder": "dlib ResNet", "distance": "euclidean",
                    "landmark_model": args.landmark_model,
                    "detect_max_side": args.detect_max_side, "num_jitters": 1}
    result = {
        "no_face": summary["no_face"],
        "pipeline": {**pipeline, "median_encode_ms": summary["median_encode_ms"]},
        "thresholds": {"accept": th.accept, "reject": th.reject},
        "threshold_detail": detail,
        "splits": {},
    }
    naive = FaceThresholds(NAIVE_TOLERANCE, NAIVE_TOLERANCE)
    if model == "dlib":
        result["naive_tolerance_0.6"] = {}
    for split in ("calibration", "evaluation"):
        pairs = cal_pairs if split == "calibration" else make_pairs(rows, enc, split, distance)
        result["splits"][split] = {**breakdown(pairs, th), "separation": separation(pairs)}
        if model == "dlib":
            result["naive_tolerance_0.6"][split] = breakdown(pairs, naive)
        ev = result["splits"][split]["overall"]
        result["splits"][split]["targets_met"] = {
            "false_accept": ev["false_accept_rate"] <= MAX_FALSE_ACCEPT,
            "false_reject": ev["false_reject_rate"] <= MAX_FALSE_REJECT,
        }
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="both", choices=["sface", "dlib", "both"])
    ap.add_argument("--data", help="face set folder (default $KIOSK_FACE_DATA or shared/testdata/faces beside the checkout)")
    ap.add_argument("--landmark-model", default=faces.DEFAULT_LANDMARK_MODEL, choices=["small", "large"])
    ap.add_argument("--detect-max-side", type=int, default=faces.DETECT_MAX_SIDE)
    ap.add_argument("--margin", type=float, default=SAFETY_MARGIN)
    ap.add_argument("--compare", action="store_true",
                    help="also compare dlib landmark models and detection sizes (calibration split)")
    ap.add_argument("--no-cache", action="store_true")
    args = ap.parse_args(argv)

    folder = data_dir(args.data)
    if not (folder / "manifest.csv").is_file():
        print(json.dumps({"error": f"face set not found at {folder} (set KIOSK_FACE_DATA)"}))
        return 2
    rows = read_manifest(folder)
    cache = EncodingCache(enabled=not args.no_cache)
    t0 = time.perf_counter()
    chosen = ["sface", "dlib"] if args.model == "both" else [args.model]
    result = {
        "data": str(folder),
        "photos": len(rows),
        "targets": {"max_false_accept_rate": MAX_FALSE_ACCEPT,
                    "max_false_reject_rate": MAX_FALSE_REJECT},
        "models": {m: report_model(folder, rows, cache, m, args) for m in chosen},
    }
    if args.compare and "dlib" in chosen:
        result["dlib_comparison_on_calibration"] = []
        for lm, side in itertools.product(("small", "large"), (480, 640)):
            summary, *_ = evaluate_config(folder, rows, cache, lm, side)
            result["dlib_comparison_on_calibration"].append(summary)
    cache.save()
    result["elapsed_s"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
