"""QR decode rate on generated webcam scenes of a CCCD front: OpenCV vs zxing-cpp vs combined.

    .venv/bin/python bench/bench_qr.py [--scenes 240] [--stress 80] [--seed 2024]

Scenes (``kiosk.vision.synthetic``): random made-up holders, the card placed on a cluttered
desk in 1280×720 and 640×480 frames (alternating), rotated ±20° (one in ten upside down),
tilted up to 12°, camera blur sigma 0.3–1.2 px, sensor noise, uneven light, a thumb over an
edge in 30 %, JPEG quality 70–95, card 450 px wide or more (the guidance's "too far" limit,
``GuidanceLimits.min_card_px``) — what the kiosk decodes once the customer holds the card close
enough. A smaller ``stress`` set (card 380–450 px, blur 1.0–1.6 px: frames the guidance
refuses as too far or blurred) is reported separately.

For each decoder the same pipeline runs (``qr.decode_card_qr``: card region variants, card
either way up, then the whole frame); the naive baseline is each decoder on the whole frame
alone. A decode counts only if the text equals the payload exactly. Prints JSON.

``--backs N``: N backs of the 2024 căn cước (QR code on the back, anywhere) per
generator variant ("a", and the held-out "b": other fonts, positions, sizes, colours, print),
read by ``read_card.read_side``: the QR decode rate and the rate at which the QR *fields* come
back, against the old pipeline (fields dropped when the card outline was not found).
``--fronts N``: N fronts of each kind and variant with a real portrait (the test photos in
$KIOSK_FACE_DATA, by default shared/testdata/faces beside the checkout, read in place): the rate at which the portrait is
found (YuNet, as shipped; and dlib's HOG, the detector before, on the same frames), against
the old pipeline (the 2021 photo box of an outline found with the QR test); plus N fronts of
each layout of the second, independent scene generator (tests/support/card_scenes.py: other
drawing code, backgrounds — including magazine clippings with faces — camera and defects).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kiosk.vision import card_outline, card_portrait, guidance  # noqa: E402
from kiosk.vision import qr_decode as qr  # noqa: E402
from tests.support import synthetic  # noqa: E402

TARGET = 0.995
MIN_CARD_PX = guidance.DEFAULT_THRESHOLDS.min_card_px  # closer than "too far"
PIPELINES = {
    "opencv": ("opencv",),
    "zxing": ("zxing",),
    "zxing+opencv": ("zxing", "opencv"),
    "opencv+zxing": ("opencv", "zxing"),
}


def scenes(n: int, rng: np.random.Generator, stress: bool):
    cards = []
    for i in range(12):
        fields = synthetic.random_fields(rng)
        cards.append((synthetic.render_card_front(fields, None, seed=i),
                      synthetic.build_qr_payload(fields)))
    for i in range(n):
        size = ((1280, 720), (640, 480))[i % 2]
        front, payload = cards[i % len(cards)]
        if stress:
            width_px = rng.uniform(380, MIN_CARD_PX)
            blur = rng.uniform(1.0, 1.6)
        else:
            width_px = rng.uniform(MIN_CARD_PX, 1000 if size[0] == 1280 else 600)
            blur = rng.uniform(0.3, 1.2)
        rotation = rng.uniform(-20, 20) + (180 if rng.random() < 0.1 else 0)
        frame, corners = synthetic.place_in_scene(
            front, size, rng, scale=width_px / size[0], rotation_deg=float(rotation),
            perspective=12.0, blur=float(blur), keep_inside=True)
        yield size, float(np.linalg.norm(corners[1] - corners[0])), frame, payload


def summary(results: list[tuple[bool, bool, float]]) -> dict:
    times = sorted(t for _, _, t in results)
    n = len(results)
    return {
        "rate": round(sum(ok for ok, _, _ in results) / n, 4),
        "decoded": sum(ok for ok, _, _ in results),
        "wrong_text": sum(wrong for _, wrong, _ in results),
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[min(n - 1, int(0.95 * n))], 2),
    }


def run(n: int, rng: np.random.Generator, stress: bool) -> dict:
    per: dict[str, list] = {name: [] for name in
                            [*PIPELINES, "opencv_frame_only", "zxing_frame_only"]}
    by_size: dict[str, dict[str, list]] = {}
    by_px: dict[str, dict[str, list]] = {}
    found = 0
    find_ms = []
    for size, width_px, frame, payload in scenes(n, rng, stress):
        t0 = time.perf_counter()
        corners = card_outline.find_card(frame)
        find_ms.append((time.perf_counter() - t0) * 1000)
        found += corners is not None
        gray = card_outline.to_gray(frame)
        outcome = {}
        for name, order in PIPELINES.items():
            t0 = time.perf_counter()
            res = qr.decode_card_qr(gray, corners, order)
            dt = (time.perf_counter() - t0) * 1000 + find_ms[-1]
            outcome[name] = (res is not None and res.text == payload,
                             res is not None and res.text != payload, dt)
        for name in ("opencv", "zxing"):
            t0 = time.perf_counter()
            res = qr.decode_image(gray, (name,))
            dt = (time.perf_counter() - t0) * 1000
            outcome[f"{name}_frame_only"] = (res is not None and res[0] == payload,
                                             res is not None and res[0] != payload, dt)
        size_key = f"{size[0]}x{size[1]}"
        px_lo = int(width_px // 80 * 80)
        px_key = f"{px_lo}-{px_lo + 79}px"
        for name, value in outcome.items():
            per[name].append(value)
            by_size.setdefault(size_key, {}).setdefault(name, []).append(value)
            by_px.setdefault(px_key, {}).setdefault(name, []).append(value)
    return {
        "scenes": n,
        "card_found_rate": round(found / n, 4),
        "find_card_median_ms": round(statistics.median(find_ms), 2),
        "decoders": {name: summary(v) for name, v in per.items()},
        "by_frame_size": {k: {"scenes": len(v["zxing"]),
                              **{name: summary(r)["rate"] for name, r in v.items()}}
                          for k, v in sorted(by_size.items())},
        "by_card_width": {k: {"scenes": len(v["zxing"]),
                              **{name: summary(r)["rate"] for name, r in v.items()}}
                          for k, v in sorted(by_px.items(), key=lambda kv: int(kv[0].split("-")[0]))},
    }


def _varied_scene(image, i, rng):
    size = ((1280, 720), (640, 480))[i % 2]
    rotation = float(rng.uniform(-10, 10)) + (180.0 if rng.random() < 0.1 else 0.0)
    return synthetic.place_in_scene(image, size, rng, rotation_deg=rotation)[0]


def _old_fields(frame) -> tuple[bool, bool]:
    """(QR decoded, fields returned) by the pipeline before the 2024 card's back was read: the fields were dropped
    unless the card outline was found (or extrapolated from a QR found top right)."""
    from kiosk.vision.read_card import _plausible

    corners = guidance.analyse_frame(frame).corners
    res = qr.decode_card_qr(frame, corners)
    if res is None:
        return False, False
    if corners is None and res.where == "frame":
        corners = card_outline.corners_from_qr(res.points) if _plausible(
            card_outline.corners_from_qr(res.points), frame.shape) else None
    return True, corners is not None


def run_backs(n: int, seed: int) -> dict:
    from kiosk.vision.read_card import read_side

    out = {}
    for variant in ("a", "b"):
        rng = np.random.default_rng([seed, ord(variant), 24])
        rows = []
        for i in range(n):
            fields = synthetic.random_holder(rng, "can_cuoc_2024")
            frame = _varied_scene(synthetic.render_back(fields, rng, "can_cuoc_2024", variant),
                                  i, rng)
            t0 = time.perf_counter()
            side = read_side(frame, with_mrz=False)
            dt = (time.perf_counter() - t0) * 1000
            decoded = side.qr_result is not None and side.qr_result.text == \
                synthetic.build_qr_payload(fields)
            got = side.fields["id_number"] == fields["id_number"]
            old_decoded, old_fields = _old_fields(frame)
            rows.append((decoded, got, old_decoded, old_fields, dt))
        out[variant] = {
            "backs": n,
            "qr_decoded_rate": round(sum(r[0] for r in rows) / n, 4),
            "fields_returned_rate": round(sum(r[1] for r in rows) / n, 4),
            "fields_returned_when_decoded": round(
                sum(r[1] for r in rows if r[0]) / max(1, sum(r[0] for r in rows)), 4),
            "baseline_old_pipeline": {
                "qr_decoded_rate": round(sum(r[2] for r in rows) / n, 4),
                "fields_returned_rate": round(sum(r[3] for r in rows) / n, 4)},
            "median_ms": round(statistics.median(r[4] for r in rows), 1),
        }
    return out


def _id_photo(image) -> bool:
    """Whether a test photo can stand for an ID portrait: one face filling at least a fifth of
    the photo's width (the set also holds full-length and group shots, which no card carries)."""
    import cv2

    from kiosk.vision.card_portrait import _faces_in

    factor = min(1.0, 480 / max(image.shape[:2]))
    small = cv2.resize(image, None, fx=factor, fy=factor) if factor < 1 else image
    faces = _faces_in(small, 1)
    return len(faces) == 1 and (faces[0][2] - faces[0][0]) >= 0.2 * small.shape[1]


def _front_rows(frames, read_side) -> dict:
    """Portrait found and side "front" for each (frame, has a photo portrait) — read with YuNet
    (as shipped) and with dlib's HOG (the detector before, same frames, same run) — and the
    old pipeline (the 2021 photo box of an outline found with the QR test, HOG)."""
    from unittest import mock

    rows = []
    for frame in frames:
        t0 = time.perf_counter()
        side = read_side(frame, with_mrz=False)
        dt = (time.perf_counter() - t0) * 1000
        with mock.patch.object(card_portrait, "face_detector", lambda *a, **k: None):
            t0 = time.perf_counter()
            hog = read_side(frame, with_mrz=False)
            dt_hog = (time.perf_counter() - t0) * 1000
        corners = card_outline.find_card(frame)
        old = corners is not None and bool(card_portrait.portrait_has_face(
            card_portrait.portrait_crop(frame, corners)))
        rows.append((side.portrait_found, side.side == "front", old, dt,
                     hog.portrait_found, dt_hog))
    n = len(rows)
    return {
        "fronts": n,
        "portrait_found_rate": round(sum(r[0] for r in rows) / n, 4),
        "side_front_rate": round(sum(r[1] for r in rows) / n, 4),
        "median_ms": round(statistics.median(r[3] for r in rows), 1),
        "hog_portrait_found_rate": round(sum(r[4] for r in rows) / n, 4),
        "hog_median_ms": round(statistics.median(r[5] for r in rows), 1),
        "baseline_old_pipeline_rate": round(sum(r[2] for r in rows) / n, 4),
        "missed": [i for i, r in enumerate(rows) if not r[0]],
    }


def _card_scenes_fronts(n: int, layout: str, rng: np.random.Generator):
    """Fronts from the second, independent generator (tests/support/card_scenes.py), only those
    whose portrait is one of the test photos (it draws a cartoon head when it picks none)."""
    from tests.support import card_scenes

    used_photo = []
    original = card_scenes._face_image

    def face_image(path):
        used_photo.append(True)
        return original(path)

    card_scenes._face_image = face_image
    try:
        made = 0
        while made < n:
            used_photo.clear()
            size = ((1280, 720), (640, 480))[made % 2]
            scene = card_scenes.Scene(size=size, layout=layout,
                                      background=str(rng.choice(card_scenes.BACKGROUNDS)))
            frame = card_scenes.render_scene(scene, rng).image
            if used_photo:
                made += 1
                yield frame
    finally:
        card_scenes._face_image = original


def run_fronts(n: int, seed: int) -> dict:
    import cv2

    from kiosk.vision.read_card import read_side
    from tests.faces_data import face_data_dir

    folder = face_data_dir()
    photos = [p for p in sorted(folder.rglob("*.jpg")) if _id_photo(cv2.imread(str(p)))]
    out = {"id_photos_used": len(photos)}
    for kind in ("cccd_chip_2021", "can_cuoc_2024", "cccd_barcode_2016"):
        for variant in ("a", "b"):
            rng = np.random.default_rng([seed, ord(variant), len(kind)])
            frames = []
            for i in range(n):
                fields = synthetic.random_holder(rng, kind)
                portrait = cv2.imread(str(photos[int(rng.integers(len(photos)))]))
                image = synthetic.render_front(fields, portrait, rng, kind, variant)
                frames.append(_varied_scene(image, i, rng))
            out[f"{kind}/{variant}"] = _front_rows(frames, read_side)
    for layout in ("cccd2021_front", "cancuoc2024_front"):
        rng = np.random.default_rng([seed, len(layout), 7])
        out[f"card_scenes/{layout}"] = _front_rows(_card_scenes_fronts(n, layout, rng), read_side)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=240)
    parser.add_argument("--stress", type=int, default=80)
    parser.add_argument("--backs", type=int, default=0)
    parser.add_argument("--fronts", type=int, default=0)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    main_set = run(args.scenes, rng, stress=False) if args.scenes else None
    stress_set = run(args.stress, rng, stress=True) if args.stress else None
    backs = run_backs(args.backs, args.seed) if args.backs else None
    fronts = run_fronts(args.fronts, args.seed) if args.fronts else None
    chosen = "+".join(qr.DECODER_ORDER)
    rate = main_set["decoders"][chosen]["rate"] if main_set else None
    print(json.dumps({
        "benchmark": "qr_decode",
        "command": "bench/bench_qr.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "seed": args.seed,
        "chosen": chosen,
        "target_rate": TARGET,
        "chosen_rate": rate,
        "meets_target": rate >= TARGET if rate is not None else None,
        "main": main_set,
        "stress": stress_set,
        "backs_2024": backs,
        "fronts_portrait": fronts,
        "wall_s": round(time.perf_counter() - t0, 1),
    }, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
