"""The printed-number OCR (kiosk/vision/printed_number.py) on 2021 chip-CCCD fronts. JSON out.

    .venv/bin/python bench/bench_printed_number.py DIR [--manifest bench/real_photos/manifest.json]
        [--limit N] [--failures]
    .venv/bin/python bench/bench_printed_number.py --drawn 60 [--seed 7]

DIR holds real photographs named by the manifest (``images[].file``; only entries of kind
``cccd_chip_2021`` and side ``front`` are read). They are real people's cards: nothing here
prints, logs or writes an ID number or a date — the number read is compared with the manifest's
``id_sha256`` (sha256 of the ID digits) by its hash only, and only counts (and, with
``--failures``, file names) come out.

Each photo: the card is found with ``kiosk.vision.card_outline.find_card`` and straightened with
``warp_card``; when it is not found the whole image is taken as the card (tight crops). Per
image one outcome: ``accepted_right`` (the number given, its hash is the manifest's),
``accepted_wrong`` (a number given whose hash differs — the figure that must stay at zero),
``refused`` (no number given), split by whether the raw OCR read was right anyway
(``refused_raw_right``: the checks threw away a good read), and per refusal code.
Times: median / p90 of the OCR per image (find_card + warp timed apart).

``--drawn N``: the same on drawn fronts instead (tests/support/synthetic.py, generators "a" and
the held-out "b", half flat, half placed in 1280×720 / 640×480 scenes and found again;
tests/support/card_scenes.py scenes) — the truth is known, no manifest is needed.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kiosk.vision import card_outline, printed_number  # noqa: E402

DEFAULT_MANIFEST = ROOT / "bench" / "real_photos" / "manifest.json"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("ascii", "ignore")).hexdigest()


def straighten(image: np.ndarray) -> tuple[np.ndarray, bool]:
    """The card straightened (found; warped at its own resolution when that is larger than
    856×540, which the reader uses for its re-reads) or the whole image as the card (an image
    taller than wide is turned a quarter first)."""
    corners = card_outline.find_card(image)
    if corners is not None:
        width = float(max(np.linalg.norm(corners[1] - corners[0]),
                          np.linalg.norm(corners[2] - corners[3])))
        k = min(2.0, max(1.0, width / card_outline.CARD_SIZE[0]))
        size = (round(card_outline.CARD_SIZE[0] * k), round(card_outline.CARD_SIZE[1] * k))
        return card_outline.warp_card(image, corners, size), True
    if image.shape[0] > image.shape[1]:
        image = cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
    return image, False


def judge(read, truth_sha: str | None) -> dict:
    raw_right = bool(read.raw_id and truth_sha and sha(read.raw_id) == truth_sha)
    if read.id_number is None:
        outcome = "refused"
    elif truth_sha is None:
        outcome = "unjudged"
    else:
        outcome = "accepted_right" if sha(read.id_number) == truth_sha else "accepted_wrong"
    return {"outcome": outcome, "raw_right": raw_right, "problems": list(read.problems),
            "dob_read": read.date_of_birth is not None, "sex_read": read.sex is not None}


def summarise(rows: list[dict]) -> dict:
    outcomes = Counter(r["outcome"] for r in rows)
    problems = Counter(p for r in rows if r["outcome"] == "refused" for p in r["problems"])
    ocr = [r["ocr_s"] for r in rows]
    out = {
        "n": len(rows),
        "accepted_right": outcomes["accepted_right"],
        "accepted_wrong": outcomes["accepted_wrong"],
        "refused": outcomes["refused"],
        "unjudged": outcomes["unjudged"],
        "refused_raw_right": sum(r["outcome"] == "refused" and r["raw_right"] for r in rows),
        "raw_right": sum(r["raw_right"] for r in rows),
        "dob_read": sum(r["dob_read"] for r in rows),
        "sex_read": sum(r["sex_read"] for r in rows),
        "refusal_codes": dict(problems.most_common()),
    }
    if rows and "card_found" in rows[0]:
        out["card_found"] = sum(r["card_found"] for r in rows)
    if ocr:
        out["ocr_ms_median"] = round(1000 * statistics.median(ocr), 1)
        out["ocr_ms_p90"] = round(1000 * sorted(ocr)[int(0.9 * (len(ocr) - 1))], 1)
    locate = [r["locate_s"] for r in rows if "locate_s" in r]
    if locate:
        out["locate_ms_median"] = round(1000 * statistics.median(locate), 1)
    return out


def run_real(folder: Path, manifest_path: Path, limit: int | None, failures: bool) -> dict:
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    entries = [e for e in manifest.get("images", []) if isinstance(e, dict)
               and e.get("kind") == "cccd_chip_2021" and e.get("side") == "front"
               and e.get("file")]
    if limit:
        entries = entries[:limit]
    rows, missing = [], 0
    by_condition: dict[str, list[dict]] = {}
    for entry in entries:
        path = folder / entry["file"]
        image = cv2.imread(str(path), cv2.IMREAD_COLOR) if path.is_file() else None
        if image is None:
            missing += 1
            continue
        start = time.perf_counter()
        card, found = straighten(image)
        locate = time.perf_counter() - start
        read, seconds = printed_number.timed_read(card)
        if read.raw_id is None and not found and card.shape[0] * 1.2 < card.shape[1] and \
                image.shape[0] > image.shape[1]:  # turned the wrong way: the other quarter
            read, more = printed_number.timed_read(cv2.rotate(card, cv2.ROTATE_180))
            seconds += more
        truth = str(entry.get("id_sha256") or "").strip().lower() or None
        row = judge(read, truth) | {"file": entry["file"], "card_found": found,
                                    "ocr_s": seconds, "locate_s": locate}
        del read  # nothing read is kept beyond its judgement
        rows.append(row)
        conditions = entry.get("conditions") or []
        for condition in (conditions if isinstance(conditions, list) else [conditions]):
            by_condition.setdefault(str(condition), []).append(row)
    out = {"source": "real", "manifest_fronts_2021": len(entries), "missing": missing,
           "summary": summarise(rows),
           "by_condition": {c: {k: v for k, v in summarise(r).items()
                                if k in ("n", "accepted_right", "accepted_wrong", "refused",
                                         "raw_right")}
                            for c, r in sorted(by_condition.items())}}
    if failures:
        out["failures"] = {
            "accepted_wrong": [r["file"] for r in rows if r["outcome"] == "accepted_wrong"],
            "refused": [(r["file"], r["problems"]) for r in rows if r["outcome"] == "refused"],
        }
    return out


def run_drawn(count: int, seed: int) -> dict:
    from tests.support import card_scenes, synthetic

    rows: dict[str, list[dict]] = {}
    rng = np.random.default_rng(seed)
    for k in range(count):
        kind = ("flat_a", "flat_b", "scene_a", "scene_b", "scenes2")[k % 5]
        s = int(rng.integers(0, 2**31))
        r = np.random.default_rng(s)
        if kind == "scenes2":  # the independent generator: record the person it draws
            person: dict = {}
            draw = card_scenes._person

            def spy(g, draw=draw, person=person):
                person.update(draw(g))
                return person.copy()

            card_scenes._person = spy
            try:
                frame = card_scenes.render_scene(
                    card_scenes.Scene(size=((1280, 720), (640, 480))[k % 2]), r)
            finally:
                card_scenes._person = draw
            image = frame.image
            truth = person["number"]
        else:
            fields = synthetic.random_holder(r)
            image = synthetic.render_front(fields, None, seed=r, variant=kind[-1])
            truth = fields["id_number"]
            if kind.startswith("scene"):
                image, _ = synthetic.place_in_scene(image, ((1280, 720), (640, 480))[k % 2], r)
        start = time.perf_counter()
        card, found = (image, True) if kind.startswith("flat") else straighten(image)
        locate = time.perf_counter() - start
        read, seconds = printed_number.timed_read(card)
        row = judge(read, sha(truth)) | {"card_found": found, "ocr_s": seconds,
                                         "locate_s": locate}
        # the drawn generator 2 uses random province codes: a refusal for that alone is right
        row["province_only"] = read.problems == ("unknown_province",) and row["raw_right"]
        rows.setdefault(kind, []).append(row)
    every = [r for group in rows.values() for r in group]
    out = {"source": "drawn", "summary": summarise(every),
           "refused_for_unknown_province_only": sum(r["province_only"] for r in every),
           "by_kind": {kind: summarise(group) for kind, group in rows.items()}}
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir", nargs="?", metavar="DIR", help="folder holding the photographs")
    parser.add_argument("--manifest", default=str(DEFAULT_MANIFEST))
    parser.add_argument("--limit", type=int)
    parser.add_argument("--failures", action="store_true")
    parser.add_argument("--drawn", type=int, metavar="N", help="N drawn fronts instead")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.drawn:
        result = run_drawn(args.drawn, args.seed)
    elif args.dir:
        manifest = Path(args.manifest)
        if not manifest.is_file():
            parser.error(f"no manifest at {manifest}")
        result = run_real(Path(args.dir), manifest, args.limit, args.failures)
    else:
        parser.error("give DIR (with a manifest) or --drawn N")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
