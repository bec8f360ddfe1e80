"""Where a registration's vision CPU goes: each EkycEngine call a registration makes, timed on
the photos a kiosk actually sends (real engine, in-process, one thread).

    .venv/bin/python bench/profile_vision.py [--rounds 5] [--previews 8] [--profile step6_face]
                                             [--opencv-threads 1] [--as-jobs]

The photos (docs/performance.md, «Where a registration's CPU goes»):

- the card: a synthetic chip CCCD front (tests/support/synthetic.py) whose portrait is a face
  photo of ../shared/testdata/faces (evaluation split; $KIOSK_FACE_DATA moves it), and its
  back, each «photographed» on a desk in a 1280×720 frame, JPEG quality 92 (camera.js shoots
  the native frame at 0.92; guidance.js sends preview frames of the same size);
- the face: another photo of the same person in a 1280×720 webcam frame (camera.js);
- liveness: the face photo in 480-px frames at quality 80 (liveness.js), 8 a second.

A registration's calls (kiosk/services): step 1 scan = ``check_image`` + ``read_card([photo])``;
preview frames (≈3 a second while a card is held: ``--previews`` per capture, three captures;
with code that follows the card, each capture's first frame and every fifth after it searched
for it, the others ``preview_frame_followed``, given the previous frame's corners);
step 6 = ``read_card([front])``, ``read_card([back, front])``, ``frame_hash`` ×2, and
``compare([front, back], face)``; the console's review = ``card_portrait_jpeg(front)``.
``--as-jobs``: instead, the vision pool's jobs (kiosk/vision/jobs.py) as step 6 of
bench/load.py's walk sends them (:func:`job_calls`; ``--previews`` per card side).
Each call is timed as CPU seconds (process_time) per call, fresh photos per round (another
seed: nothing of one round's photos is cached for the next), median over rounds. JSON on stdout.
``--profile CALL`` prints cProfile's top functions of that call on stderr. ``--opencv-threads``:
OpenCV's threads, as a vision process of the pool runs it (VISION_THREADS, default 1); 0 leaves
OpenCV its own choice (one per core), as code before VISION_THREADS ran in the pool.
"""
from __future__ import annotations

import argparse
import cProfile
import csv
import inspect
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [os.environ.get("KIOSK_CODE", str(ROOT)), str(ROOT)]

FACE_DATA = Path(os.environ.get("KIOSK_FACE_DATA") or ROOT.parent / "shared" / "testdata" / "faces")


def jpeg(image: np.ndarray, quality: int = 92) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


def pairs(split: str = "evaluation") -> list[tuple[Path, Path]]:
    """(card portrait, live face): two photos of one person, per identity of the split."""
    by_person: dict[str, list[Path]] = {}
    with open(FACE_DATA / "manifest.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row.get("split") == split:
                by_person.setdefault(row["identity"], []).append(FACE_DATA / row["file"])
    return [(files[0], files[1]) for _, files in sorted(by_person.items()) if len(files) >= 2]


def webcam_frame(face: np.ndarray, size=(1280, 720), share: float = 0.55) -> np.ndarray:
    """The photo centred in a grey webcam frame, the face area ``share`` of the frame's height."""
    if face.ndim == 2:
        face = cv2.cvtColor(face, cv2.COLOR_GRAY2BGR)
    w, h = size
    canvas = np.full((h, w, 3), 120, np.uint8)
    scale = h * share * 1.6 / face.shape[0]
    small = cv2.resize(face[:, :, :3], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small = small[:h, :w]
    y, x = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
    canvas[y:y + small.shape[0], x:x + small.shape[1]] = small
    return canvas


def registration_photos(seed: int, card_file: Path, face_file: Path,
                        card_kind: str = "cccd_chip_2021") -> dict:
    """The JPEG bytes one registration sends: front, back, face, liveness frames. ``card_kind``:
    the 2021 chip CCCD (its QR code on the front) or the 2024 căn cước (on the back)."""
    from tests.support.synthetic import place_in_scene, random_holder, render_back, render_front

    rng = np.random.default_rng(seed)
    fields = random_holder(rng, card_kind)
    portrait = cv2.imread(str(card_file), cv2.IMREAD_COLOR)
    front = render_front(fields, portrait, seed=seed, kind=card_kind)
    back = render_back(fields, seed=seed, kind=card_kind)
    scene = dict(rotation_deg=3.0, perspective=(4.0, 3.0), blur=0.4, noise=1.5, light=0.1,
                 brightness=0.95, occluder=False)
    front_frame, _ = place_in_scene(front, (1280, 720), seed, **scene)
    back_frame, _ = place_in_scene(back, (1280, 720), seed + 1, **scene)
    live = cv2.imread(str(face_file), cv2.IMREAD_COLOR)
    face_frame = webcam_frame(live)
    small = cv2.resize(webcam_frame(live, (640, 480)), (480, 360), interpolation=cv2.INTER_AREA)
    # step 1's scan is another photo of the front (another moment, another place on the desk)
    scan_frame, _ = place_in_scene(front, (1280, 720), seed + 2, **scene)
    return {"front": jpeg(front_frame), "back": jpeg(back_frame), "face": jpeg(face_frame),
            "scan": jpeg(scan_frame),
            "liveness_frame": jpeg(small, 80), "fields": fields}


def engine():
    from kiosk.core.config import DEFAULTS
    from kiosk.vision.engine import EkycEngine

    return EkycEngine.from_config({**DEFAULTS, "FACE_MODELS_DIR": os.environ.get("KIOSK_FACE_MODELS_DIR")})


def _camera_shots(method) -> dict:
    """The keyword step 6 passes for its camera shots (one side of a card held up), when the
    code measured knows it (older code read every photo as a page that may show both sides)."""
    return {"held_card": True} if "held_card" in inspect.signature(method).parameters else {}


def calls(e, p: dict, previews: int) -> list[tuple[str, int, object]]:
    """(name, times per registration, thunk) in the order a registration makes them."""
    held = _camera_shots(e.read_card)
    # Code that follows the card from frame to frame (card_track) gets, with every frame but a
    # capture's first, the corners the previous frame's answer gave, as guidance.js sends them
    # back. The frames here are one picture sent again: the card has not moved at all, the
    # best case (bench/bench_preview_tracking.py measures how often a moved card is followed).
    # After card_track.FOLLOW_AT_MOST frames followed in a row, one is searched whole.
    searched, followed = previews, []
    if "hint" in inspect.signature(e.preview).parameters:
        from kiosk.vision.card_track import FOLLOW_AT_MOST

        track = e.preview(p["front"]).track  # the previous frame's answer: not timed
        searched = -(-previews // (FOLLOW_AT_MOST + 1))
        followed = [("preview_frame_followed", (previews - searched) * 3,
                     lambda: e.preview(p["front"], hint=track))]
    # Code whose card read takes the preview's corners (read_card's ``hint``) gets, with each
    # step-6 shot, where its side's preview frames found the card, as the kiosk's form sends it.
    front_hint, back_hint = {}, {}
    if "hint" in inspect.signature(e.read_card).parameters:
        front_hint = {"hint": e.preview(p["front"]).track}  # not timed: the frames before
        back_hint = {"hint": e.preview(p["back"]).track}
    return [
        ("step1_check_image", 1, lambda: e.check_image(p["scan"])),
        ("step1_read_card", 1, lambda: e.read_card([p["scan"]])),
        ("preview_frame", searched * 3, lambda: e.preview(p["front"])),
        *followed,
        ("step6_check_image", 3, lambda: e.check_image(p["back"])),
        ("step6_front", 1, lambda: e.read_card([p["front"]], read_print=False, **held,
                                               **front_hint)),
        ("step6_back", 1, lambda: e.read_card([p["back"], p["front"]], read_print=False,
                                              **held, **back_hint)),
        ("step6_frame_hash", 2, lambda: e.frame_hash(p["back"])),
        ("step6_face", 1, lambda: e.compare([p["front"], p["back"]], p["face"], **held)),
        ("console_portrait", 1, lambda: e.card_portrait_jpeg(p["front"])),
    ]


def job_calls(e, p: dict, previews: int) -> list[tuple[str, int, object]]:
    """The vision pool's jobs (kiosk/vision/jobs.py) as step 6 of ``bench/load.py``'s walk sends
    them to one vision process: ``previews`` frames before each card side's photo (the first
    searched, the next followed from the answer before, as guidance.js sends it back; the back's
    frames look for no QR code once the front's photo gave it), each card photo's whole
    analysis (``card_photo``: the read, the portrait cut, the console's preview, the reads
    packed), the face photo's (``face_photo``) and the comparison with the card photos' carried
    reads (``compare``). Each thunk leaves what the next needs in ``state``."""
    from kiosk.vision import jobs
    from kiosk.vision.card_track import FOLLOW_AT_MOST

    state: dict = {}
    searched = -(-previews // (FOLLOW_AT_MOST + 1))

    def frame(side: str, qr_of: str | None):
        def run():
            look_for_qr = qr_of is None or not state.get(qr_of)
            advice = jobs.preview(e, p[side], look_for_qr, state.get(f"track_{side}"))
            state[f"track_{side}"] = advice.track
            return advice
        return run

    def front():
        found = jobs.card_photo(e, p["front"], [], True, False, True, (), state.get("track_front"))
        state["front"] = found
        card = found["card"] or {}
        # as step 6's page decides (services/card_preview.card_qr_known): the front carried
        # the card's only QR code, read
        state["front_qr"] = card.get("card_kind") == "cccd_chip_2021" and bool(
            (card.get("quality") or {}).get("qr_valid"))
        return found

    def back():
        found = jobs.card_photo(e, p["back"], [p["front"]], False, False, True,
                                [state["front"]["reads"]], state.get("track_back"))
        state["back"] = found
        return found

    def compare():
        return jobs.compare(e, [p["front"], p["back"]], p["face"], True,
                            [state["front"]["reads"], state["back"]["reads"]])

    def frames(side: str, qr_of: str | None):
        run = frame(side, qr_of)

        def searched_frame():
            state.pop(f"track_{side}", None)  # a capture's first frame has no answer before it
            return run()
        return [(f"{side}_preview_searched", searched, searched_frame),
                (f"{side}_preview_followed", previews - searched, run)]

    return [
        *frames("front", None),
        ("card_photo_front", 1, front),
        *frames("back", "front_qr"),
        ("card_photo_back", 1, back),
        ("face_photo", 1, lambda: jobs.face_photo(e, p["face"])),
        ("compare", 1, compare),
    ]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--previews", type=int, default=8, help="preview frames per capture")
    ap.add_argument("--as-jobs", action="store_true", help=(
        "time the vision pool's jobs as bench/load.py's walk sends them (step 6 only; "
        "--previews per card side: the walk sends 3)"))
    ap.add_argument("--profile", help="cProfile this call (its name in the output)")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--card-kind", default="cccd_chip_2021",
                    choices=("cccd_chip_2021", "can_cuoc_2024"),
                    help="the card held up: its QR code on the front (2021) or the back (2024)")
    ap.add_argument("--opencv-threads", type=int, default=1,
                    help="OpenCV's threads (the pool's VISION_THREADS); 0 = OpenCV's choice")
    args = ap.parse_args(argv)

    if args.opencv_threads:
        cv2.setNumThreads(args.opencv_threads)
    e = engine()
    e.preload()
    people = pairs()
    plan = job_calls if args.as_jobs else calls
    warm = registration_photos(999, *people[0], args.card_kind)
    for _name, _n, thunk in plan(e, warm, 1):  # models loaded, caches of code paths warm
        thunk()
    per_call: dict[str, list[float]] = {}
    outcome: dict[str, list] = {"decisions": [], "id_read": [], "sides": []}
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    for r in range(args.rounds):
        p = registration_photos(r + 1, *people[(r + 1) % len(people)], args.card_kind)
        for name, _n, thunk in plan(e, p, args.previews):
            if profiler is not None and name == args.profile:
                profiler.enable()
            c0 = time.process_time()
            result = thunk()
            per_call.setdefault(name, []).append(time.process_time() - c0)
            if profiler is not None and name == args.profile:
                profiler.disable()
            if name in ("step6_face", "compare"):
                outcome["decisions"].append(result["decision"])
                outcome["id_read"].append(result["card"].get("id_number") == p["fields"]["id_number"])
            if name == "step6_back":
                outcome["sides"].append(result["sides"])
            if name == "card_photo_back":
                outcome["sides"].append((result["card"] or {}).get("sides"))
    counts = {name: n for name, n, _ in plan(e, warm, args.previews)}
    med = {name: statistics.median(v) for name, v in per_call.items()}
    per_reg = {name: med[name] * counts[name] for name in med}
    step6 = sum(per_reg[k] for k in per_reg if k.startswith("step6")
                or (args.as_jobs and "preview" not in k))
    report = {
        "rounds": args.rounds, "previews_per_capture": args.previews, "as_jobs": args.as_jobs,
        "card_kind": args.card_kind,
        "opencv_threads": cv2.getNumThreads(),
        "cpu_ms_per_call_median": {k: round(v * 1000, 1) for k, v in med.items()},
        "calls_per_registration": counts,
        "cpu_ms_per_registration": {k: round(v * 1000, 1) for k, v in per_reg.items()},
        "step6_cpu_ms": round(step6 * 1000, 1),
        "total_cpu_ms": round(sum(per_reg.values()) * 1000, 1),
        **outcome,
    }
    json.dump(report, sys.stdout, indent=1)
    print()
    if profiler is not None:
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
