"""MRZ read rate on generated backs and passport pages: the kiosk's readers against baselines.

    .venv/bin/python bench/bench_mrz.py [--backs 200] [--slow 12] [--seed 9303] [--kinds passport]

For each kind — the 2021 chip CCCD back (TD1), the 2024 căn cước back (TD1), the passport data
page (TD3) — and for each generator variant ("a": the layout the reader was developed on; "b":
the held-out generator with other fonts, positions, sizes, colours and print quality, see
tests/support/synthetic.py), ``--backs`` scenes are made: a random holder, the card on a
cluttered desk in a 1280×720 or 640×480 frame (alternating), rotated ±10° (one in ten upside
down), tilted up to 12°, blur 0.3–1.0 px, noise, uneven light, a thumb in 30 %, JPEG 70–95.

A read counts when every check digit agrees and the number is the holder's (the 12-digit
number for a card, the passport number for a passport). Readers:

* ``kiosk``: mrz_ocr.read_mrz as shipped (OCR-B grid reader first, Tesseract second);
* ``tesseract``: Tesseract alone through tesserocr (the package-only baseline), and
* ``grid``: the OCR-B grid reader alone, both on the first ``--baseline`` scenes;
* ``pytesseract`` and ``rapidocr`` (RapidOCR with its bundled ONNX models, recognition on the
  zone crop): on the first ``--slow`` scenes of variant "a" only, for their rate and time.

Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kiosk.domain.identity.mrz import parse_mrz  # noqa: E402
from kiosk.vision import mrz_ocr  # noqa: E402
from tests.support import synthetic  # noqa: E402

TARGET = 0.98
KINDS = ("cccd_chip_2021", "can_cuoc_2024", "passport")


class _ZoneCover:
    """Whether the scene's thumb lies over the zone's characters (instrumenting the generator:
    where it drew the zone on the page, and which frame pixels its thumb changed)."""

    def __init__(self):
        self.zone = None  # (x0, y0, x1, y1, page w, page h)
        self.covered = False
        self._draw, self._thumb = synthetic._draw_mrz, synthetic._thumb

    def __enter__(self):
        def draw(img, lines, x, y, pitch, size, line_gap, ink):
            self.zone = (x, y, x + len(lines[0]) * pitch, y + (len(lines) - 1) * line_gap + size,
                         *img.size)
            return self._draw(img, lines, x, y, pitch, size, line_gap, ink)

        def thumb(frame, to_frame, rng):
            before = frame.copy()
            self._thumb(frame, to_frame, rng)
            if self.zone is None:
                return
            x0, y0, x1, y1, pw, ph = self.zone
            sx, sy = synthetic.CARD_SIZE[0] / pw, synthetic.CARD_SIZE[1] / ph
            quad = np.array([[[x0 * sx, y0 * sy], [x1 * sx, y0 * sy], [x1 * sx, y1 * sy],
                              [x0 * sx, y1 * sy]]], np.float32)
            poly = cv2.perspectiveTransform(quad, to_frame)[0]
            zone = np.zeros(frame.shape[:2], np.uint8)
            cv2.fillPoly(zone, [np.round(poly).astype(np.int32)], 1)
            changed = np.abs(frame - before).max(axis=2) > 1
            self.covered = bool(np.count_nonzero(changed & (zone > 0)) > 0.002 * zone.sum())

        synthetic._draw_mrz, synthetic._thumb = draw, thumb
        return self

    def __exit__(self, *exc):
        synthetic._draw_mrz, synthetic._thumb = self._draw, self._thumb


def scene(kind: str, variant: str, i: int, rng: np.random.Generator):
    """(frame, the holder's number, whether a thumb covers part of the zone)."""
    with _ZoneCover() as cover:
        frame, want = _scene(kind, variant, i, rng)
    return frame, want, cover.covered


def _scene(kind: str, variant: str, i: int, rng: np.random.Generator):
    fields = synthetic.random_holder(rng, "cccd_chip_2021" if kind == "passport" else kind)
    if kind == "passport":
        image = synthetic.render_passport_page(fields, None, rng, variant)
        want = fields["passport_number"]
    else:
        image = synthetic.render_back(fields, rng, kind, variant)
        want = fields["id_number"]
    size = ((1280, 720), (640, 480))[i % 2]
    rotation = float(rng.uniform(-10, 10)) + (180.0 if rng.random() < 0.1 else 0.0)
    scale = None
    if kind == "passport":
        # held at the distance a card is held at, the 125 mm page is 1.46× a card's width
        scale = float(rng.uniform(0.55, 0.8))
    frame, _ = synthetic.place_in_scene(image, size, rng, rotation_deg=rotation, scale=scale,
                                        keep_inside=True)
    return frame, want


def _number(data, kind):
    if data is None or not data.valid:
        return None
    return data.document_number if kind == "passport" else data.personal_number


def _rapidocr():
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)

    def read(crop):
        result, _ = engine(cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR))
        lines = [r[1].upper().replace(" ", "") for r in (result or [])]
        return "\n".join(lines)
    return read


def read_with(reader: str, frame: np.ndarray, kind: str, extra=None):
    """The number the reader returns with every check digit valid, or None."""
    if reader == "kiosk":
        return _number(mrz_ocr.read_mrz(frame).data, kind)
    if reader == "grid":
        return _number(mrz_ocr.read_mrz(frame, readers=("grid",)).data, kind)
    if reader == "tesseract":
        return _number(mrz_ocr.read_mrz(frame, readers=("tesseract",)).data, kind)
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    for box in mrz_ocr.locate(gray):
        crop = mrz_ocr.crop_zone(gray, box)
        for variant in (crop, cv2.rotate(crop, cv2.ROTATE_180)):
            text = (mrz_ocr.ENGINES["pytesseract"](variant) if reader == "pytesseract"
                    else extra(variant))
            lines = mrz_ocr._mrz_lines(text)
            number = _number(parse_mrz(lines) if lines else None, kind)
            if number:
                return number
    return None


def summary(rows):
    """rows: (got, want, ms, thumb over the zone). ``wrong_valid``: check digits all valid but
    not the holder's number — a misread that would have become data (must stay 0);
    ``uncovered_*``: the scenes where no thumb lies over the zone's characters."""
    times = sorted(row[2] for row in rows)
    n = len(rows)
    read = sum(row[0] == row[1] for row in rows)
    clear = [row for row in rows if not row[3]]
    return {"n": n, "valid_rate": round(read / n, 4), "read": read,
            "wrong_valid": sum(row[0] is not None and row[0] != row[1] for row in rows),
            "thumb_over_zone": n - len(clear),
            "uncovered_valid_rate": round(sum(row[0] == row[1] for row in clear)
                                          / max(1, len(clear)), 4),
            "median_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[min(n - 1, int(0.95 * n))], 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backs", type=int, default=200)
    parser.add_argument("--slow", type=int, default=12)
    parser.add_argument("--seed", type=int, default=9303)
    parser.add_argument("--readers", default="kiosk,tesseract,grid")
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help="comma-separated subset of " + ", ".join(KINDS))
    parser.add_argument("--baseline", type=int, default=60,
                        help="the readers other than 'kiosk' run on the first N scenes only")
    args = parser.parse_args()
    readers = args.readers.split(",")
    kinds = args.kinds.split(",")
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        parser.error(f"unknown kinds: {', '.join(unknown)}")
    out = {"command": "bench/bench_mrz.py " + " ".join(sys.argv[1:]),
           "target_valid_rate": TARGET, "scenes_per_kind_and_variant": args.backs,
           "ocr_available": mrz_ocr.available(), "results": {}}
    rapid = None
    skipped = []
    for optional in ("pytesseract", "rapidocr_onnxruntime"):
        try:  # bench-only candidates, not dependencies of the kiosk
            __import__(optional)
        except ImportError:
            skipped.append(optional)
    out["not_installed"] = skipped
    for kind in kinds:
        for variant in ("a", "b"):
            rng = np.random.default_rng([args.seed, KINDS.index(kind), ord(variant)])
            rows = {r: [] for r in readers}
            slow = {name: [] for name, module in (("pytesseract", "pytesseract"),
                                                  ("rapidocr", "rapidocr_onnxruntime"))
                    if module not in skipped}
            for i in range(args.backs):
                frame, want, covered = scene(kind, variant, i, rng)
                for reader in readers:
                    if reader != "kiosk" and i >= args.baseline:
                        continue
                    started = time.perf_counter()
                    got = read_with(reader, frame, kind)
                    rows[reader].append((got, want, (time.perf_counter() - started) * 1000,
                                         covered))
                if variant == "a" and i < args.slow:
                    for reader in slow:
                        if reader == "rapidocr" and rapid is None:
                            rapid = _rapidocr()
                        started = time.perf_counter()
                        got = read_with(reader, frame, kind, rapid)
                        slow[reader].append((got, want, (time.perf_counter() - started) * 1000,
                                         covered))
            result = {r: summary(v) for r, v in rows.items()}
            for reader, values in slow.items():
                if values:
                    result[reader] = summary(values)
            out["results"][f"{kind}/{variant}"] = result
            print(json.dumps({f"{kind}/{variant}": result}), file=sys.stderr)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
