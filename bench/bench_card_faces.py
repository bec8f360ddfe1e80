"""Card portraits through the webcam: tune YuNet for small printed portraits, report no-face rates.

    .venv/bin/python bench/bench_card_faces.py [--data DIR] [--scenes 3] [--split calibration]
                                               [--sweep] [--no-cache]

For every photo of the split (``calibration`` to tune, ``evaluation`` to report), a
head-and-shoulders crop of the photo (as a card portrait is framed) is printed on a synthetic
chip CCCD (tests/support/synthetic.py) and "photographed" on a desk ``--scenes`` times, with
seeded random card size in the 1280×720 frame (card 26–70 % of the frame width), exposure,
uneven light, camera blur and JPEG quality. The kiosk's own card reader
(``read_card_and_portrait``) cuts the portrait out, as at step 6; the crops are cached in
~/.cache/smartca-kiosk (keyed by photo sha256 and scene settings).

Reported, for the detector settings in kiosk/vision/sface.py (and with ``--sweep`` the no-face
rate alone — detection only, cheap — for a grid of portrait side × padding × score threshold,
plus "plain": the crop searched like a camera frame):

- ``card_no_face_rate``: portrait crops where YuNet finds no face;
- card portrait ↔ 640×480 selfie of *another* photo of the same person: match / review /
  no_match shares at the configured SFace thresholds; and card portrait ↔ selfies of other
  people in the split: false accepts;
- ``selfie_no_face_rate``: every photo of the split scaled into a 640×480 canvas.

Prints JSON. dlib's figures on the same crops and selfies are printed beside (``dlib``).
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import pickle
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kiosk.core.config import DEFAULTS  # noqa: E402
from kiosk.domain.face_decision import FaceThresholds, decide  # noqa: E402
from kiosk.vision import faces, sface  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "testdata" / "faces"
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "smartca-kiosk"
SCENE_VERSION = 1  # bump when the scene recipe below changes

SIDES = (160, 224, 320, 448)
PADS = (0.0, 0.25, 0.5)
SCORES = (0.3, 0.5, 0.7)


def thresholds(model: str) -> FaceThresholds:
    return FaceThresholds(DEFAULTS["FACE_ACCEPT_DISTANCE"][model],
                          DEFAULTS["FACE_REJECT_DISTANCE"][model])


def head_and_shoulders(photo: np.ndarray, box) -> np.ndarray:
    """A 3:4 crop around the face box (left, top, right, bottom), face ≈ 55 % of the width."""
    left, top, right, bottom = box
    fw = right - left
    cx, cy = (left + right) / 2, (top + bottom) / 2
    w = fw / 0.55
    h = w * 4 / 3
    x0, y0 = round(cx - w / 2), round(cy - 0.45 * h)
    x1, y1 = round(x0 + w), round(y0 + h)
    height, width = photo.shape[:2]
    padded = cv2.copyMakeBorder(photo, max(0, -y0), max(0, y1 - height), max(0, -x0),
                                max(0, x1 - width), cv2.BORDER_REPLICATE)
    ox, oy = max(0, -x0), max(0, -y0)
    return padded[y0 + oy:y1 + oy, x0 + ox:x1 + ox]


def scene_settings(rng: np.random.Generator) -> dict:
    return {"scale": float(rng.uniform(0.26, 0.70)), "brightness": float(rng.uniform(0.55, 1.05)),
            "light": float(rng.uniform(0.0, 0.4)), "blur": float(rng.uniform(0.3, 1.8)),
            "noise": float(rng.uniform(1.0, 4.0)), "jpeg_quality": int(rng.integers(60, 95)),
            "rotation_deg": float(rng.uniform(-6, 6)), "occluder": False}


def bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return image[:, :, :3]


def selfie(image: np.ndarray) -> np.ndarray:
    """The photo scaled into a grey 640×480 webcam-like frame."""
    image = bgr(image)
    canvas = np.full((480, 640, 3), 128, np.uint8)
    scale = min(440 / image.shape[0], 600 / image.shape[1])
    small = cv2.resize(image, None, fx=scale, fy=scale,
                       interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    y, x = (480 - small.shape[0]) // 2, (640 - small.shape[1]) // 2
    canvas[y:y + small.shape[0], x:x + small.shape[1]] = small
    return canvas


def card_crops(folder: Path, rows: list[dict], scenes: int, use_cache: bool) -> list[dict]:
    """[{file, identity, settings, crop (or None: no card or no portrait)}] for every scene."""
    from kiosk.vision.read_card import read_card_and_portrait
    from tests.support.synthetic import place_in_scene, random_fields, render_card_front

    cache_file = CACHE_DIR / "card-portrait-crops.pkl"
    cache = {}
    if use_cache and cache_file.is_file():
        try:
            cache = pickle.loads(cache_file.read_bytes())
        except (OSError, ValueError, pickle.UnpicklingError, EOFError):
            cache = {}
    model = faces.get_model("sface")
    out, dirty = [], False
    for row in rows:
        data = (folder / row["file"]).read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        photo = bgr(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED))
        for k in range(scenes):
            key = f"v{SCENE_VERSION}:{sha}:{k}"
            if key not in cache:
                found = model.embed(photo)  # the source photo's face frames the printed portrait
                crop, settings = None, None
                if found is not None:
                    seed = int(sha[:8], 16) + k
                    rng = np.random.default_rng(seed)
                    settings = scene_settings(rng)
                    card = render_card_front(random_fields(seed),
                                             head_and_shoulders(photo, found.box), seed=seed)
                    frame, _ = place_in_scene(card, (1280, 720), seed, perspective=6.0,
                                              **settings)
                    info, crop = read_card_and_portrait(frame)
                    if not info["card_found"]:
                        crop = None
                cache[key] = {"crop": crop, "settings": settings}
                dirty = True
            out.append({"file": row["file"], "identity": row["identity"], **cache[key]})
    if use_cache and dirty:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        cache_file.write_bytes(pickle.dumps(cache))
    return out


def evaluate(model_name: str, scenes: list[dict], selfies: dict, detect_options: dict | None):
    """No-face rate of the crops, and decision shares against same/other people's selfies."""
    model = faces.get_model(model_name)
    th = thresholds(model_name)
    cards = []
    for s in scenes:
        emb = None
        if s["crop"] is not None:
            if detect_options is None:
                emb = model.embed(s["crop"], portrait=True)
            elif detect_options.get("plain"):
                emb = model.embed(s["crop"])
            else:
                emb = model.embed(s["crop"], portrait=True, **detect_options)
        cards.append((s, emb))
    with_card = [c for c in cards if c[0]["crop"] is not None]
    no_face = sum(1 for _, e in with_card if e is None)
    same, diff = [], []
    for s, emb in with_card:
        if emb is None:
            continue
        for file, (identity, live) in selfies.items():
            if live is None or file == s["file"]:
                continue
            d = model.distance(emb, live)
            if identity == s["identity"]:
                same.append((d, s["settings"]["scale"]))
            else:
                diff.append(d)
    decisions = [decide(d, th) for d, _ in same]
    # the step-6 guidance refuses a card narrower than min_card_px ("come closer"): report the
    # frames it accepts apart from the ones a customer would have been asked to retake
    from kiosk.vision.guidance import DEFAULT_THRESHOLDS as GUIDANCE

    near = [decide(d, th) for d, scale in same if scale * 1280 >= GUIDANCE.min_card_px]
    far = [decide(d, th) for d, scale in same if scale * 1280 < GUIDANCE.min_card_px]

    def share(items, value):
        return round(items.count(value) / len(items), 4) if items else None

    return {
        "scenes": len(cards), "card_found": len(with_card), "no_face": no_face,
        "card_no_face_rate": round(no_face / len(with_card), 4) if with_card else None,
        "same_person_pairs": len(same),
        "same_match": share(decisions, "match"), "same_review": share(decisions, "review"),
        "same_no_match": share(decisions, "no_match"),
        "different_pairs": len(diff), "false_accepts": sum(1 for d in diff if d <= th.accept),
        "different_reaching_review": sum(1 for d in diff if d <= th.reject),
        "by_card_size": {
            f"card >= {GUIDANCE.min_card_px:.0f} px wide (guidance accepts)": {
                "same_person_pairs": len(near), "same_match": share(near, "match"),
                "same_review": share(near, "review"), "same_no_match": share(near, "no_match")},
            f"card < {GUIDANCE.min_card_px:.0f} px (guidance asks to come closer)": {
                "same_person_pairs": len(far), "same_match": share(far, "match"),
                "same_review": share(far, "review"), "same_no_match": share(far, "no_match")},
        },
        "max_same_distance": round(max(d for d, _ in same), 4) if same else None,
        "min_different_distance": round(min(diff), 4) if diff else None,
    }


def detection_rate(model, scenes: list[dict], opts: dict) -> dict:
    """No-face rate and median score of YuNet on the portrait crops with ``opts`` (no SFace)."""
    crops = [s["crop"] for s in scenes if s["crop"] is not None]
    scores = []
    for crop in crops:
        rows = (model.detect(crop) if opts.get("plain")
                else model.detect(crop, portrait=True, **opts))
        scores.append(float(rows[0][14]) if len(rows) else None)
    found = [v for v in scores if v is not None]
    return {"card_no_face_rate": round(1 - len(found) / len(crops), 4) if crops else None,
            "median_score": round(float(np.median(found)), 3) if found else None}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.environ.get("KIOSK_FACE_DATA") or str(DEFAULT_DATA))
    ap.add_argument("--split", default="evaluation", choices=["calibration", "evaluation"])
    ap.add_argument("--scenes", type=int, default=3, help="card scenes per photo")
    ap.add_argument("--sweep", action="store_true", help="grid of portrait detector settings")
    ap.add_argument("--no-dlib", action="store_true", help="skip dlib's figures")
    ap.add_argument("--no-cache", action="store_true")
    args = ap.parse_args(argv)

    import csv

    folder = Path(args.data)
    if not (folder / "manifest.csv").is_file():
        print(json.dumps({"error": f"face set not found at {folder} (set KIOSK_FACE_DATA)"}))
        return 2
    with open(folder / "manifest.csv", newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["split"] == args.split]
    t0 = time.perf_counter()
    scenes = card_crops(folder, rows, args.scenes, not args.no_cache)
    result = {"split": args.split, "photos": len(rows), "scenes_per_photo": args.scenes,
              "settings": {"portrait_side": sface.PORTRAIT_SIDE,
                           "portrait_pad": sface.PORTRAIT_PAD,
                           "portrait_score_threshold": sface.PORTRAIT_SCORE_THRESHOLD,
                           "score_threshold": sface.SCORE_THRESHOLD,
                           "detect_max_side": sface.DETECT_MAX_SIDE},
              "models": {}}
    for name in ("sface",) if args.no_dlib else ("sface", "dlib"):
        model = faces.get_model(name)
        frames = {r["file"]: (r["identity"], selfie(cv2.imread(str(folder / r["file"]),
                                                                cv2.IMREAD_UNCHANGED)))
                  for r in rows}
        selfies = {f: (ident, model.embed(frame)) for f, (ident, frame) in frames.items()}
        missing = sorted(f for f, (_, e) in selfies.items() if e is None)
        result["models"][name] = {
            "selfie_640x480_no_face_rate": round(len(missing) / len(selfies), 4),
            "selfie_no_face": missing,
            "card_portraits": evaluate(name, scenes, selfies, None),
        }
        if args.sweep and name == "sface":
            grid = [{"plain": True}] + [
                {"portrait_side": side, "portrait_pad": pad, "score_threshold": score}
                for side, pad, score in itertools.product(SIDES, PADS, SCORES)]
            result["models"][name]["sweep"] = [
                {**opts, **detection_rate(model, scenes, opts)} for opts in grid]
    result["elapsed_s"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
