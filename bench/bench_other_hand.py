"""The command-line contract on scenes drawn by another hand than the project's own. JSON.

    .venv/bin/python bench/bench_other_hand.py [--scenes 12] [--pairs 40] [--seed 20261207]
        [--keep DIR] [--out FILE]

Outside checks run ``vision read-card`` and ``vision verify`` on scenes "made by other
generators". tests/support/other_hand.py draws them with no code shared with
tests/support/synthetic.py or the kiosk (its fonts, card size, layout, check digits, QR payload
and scene model; what it shares is said there). This runs them exactly as outside checks do: ``flask --app kiosk vision
read-card --jsonl`` (``--scenes`` of each of the four sides: 2021 and 2024, front and back)
and ``vision verify --jsonl`` (``--pairs`` card fronts against a webcam frame, half of the
holder in another photo, half of a stranger; the face test photos' evaluation split).

Prints, per kind and side: scenes, right and wrong ID (from the QR code, or the zone's number
on a 2021 back), the kind, the side, the zone valid and right, the portrait found; and for the
pairs, the decisions for the same person and for strangers (a stranger matched is a false
accept). Nothing is kept unless ``--keep`` names a folder.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import faces_data as faces  # noqa: E402
from tests.faces_data import load  # noqa: E402
from tests.support import other_hand  # noqa: E402

FLASK = ROOT / ".venv" / "bin" / "flask"


def _contract(command: str, requests: list[dict]) -> list[dict]:
    """One ``vision COMMAND --jsonl`` process, one request per line."""
    lines = "".join(json.dumps(r) + "\n" for r in requests)
    done = subprocess.run([str(FLASK), "--app", "kiosk", "vision", command, "--jsonl"],
                          input=lines, capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ}, check=False)
    answers = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    if len(answers) != len(requests):
        raise SystemExit(f"vision {command}: {len(answers)} answers to {len(requests)} requests\n"
                         f"{done.stderr[-2000:]}")
    return answers


def draw_scenes(folder: Path, per_side: int, rng: random.Random) -> list[dict]:
    people = faces.people("evaluation")
    every_photo = sorted(f for files in people.values() for f in files)
    scenes = []
    for kind, side in other_hand.KINDS:
        for i in range(per_side):
            person = other_hand.holder(rng)
            photo = load(rng.choice(every_photo)) if side == "front" else None
            path = folder / f"{kind}-{side}-{i:03d}.jpg"
            path.write_bytes(other_hand.scene(other_hand.draw_card(kind, side, person, rng, photo), rng))
            scenes.append({"path": str(path), "kind": kind, "side": side, "person": person})
    return scenes


def draw_pairs(folder: Path, count: int, rng: random.Random) -> list[dict]:
    people = faces.people("evaluation")
    pairs = []
    for i in range(count):
        who = rng.choice(sorted(people))
        on_card, own = rng.sample(people[who], 2)
        same = i % 2 == 0
        live = own if same else rng.choice(people[rng.choice(sorted(p for p in people if p != who))])
        kind = ("cccd_chip_2021", "can_cuoc_2024")[(i // 2) % 2]
        card = other_hand.draw_card(kind, "front", other_hand.holder(rng), rng, load(on_card))
        card_path, face_path = folder / f"pair{i:03d}-card.jpg", folder / f"pair{i:03d}-face.jpg"
        card_path.write_bytes(other_hand.scene(card, rng))
        face_path.write_bytes(other_hand.selfie(load(live), rng))
        pairs.append({"card": str(card_path), "face": str(face_path), "same": same})
    return pairs


def read_cards(scenes: list[dict]) -> dict:
    answers = _contract("read-card", [{"images": [s["path"]]} for s in scenes])
    counts: dict[str, Counter] = defaultdict(Counter)
    for scene, answer in zip(scenes, answers, strict=True):
        person, key = scene["person"], f'{scene["kind"]}/{scene["side"]}'
        zone = answer.get("mrz") or {}
        number = answer.get("id_number")
        if scene["side"] == "back" and scene["kind"] == "cccd_chip_2021":
            number = zone.get("personal_number") if zone.get("valid") else None
        # a 2024 front carries no QR code and nothing that names its kind alone
        want_kind = None if key == "can_cuoc_2024/front" else scene["kind"]
        c = counts[key]
        c["scenes"] += 1
        c["errors"] += "error" in answer  # counted as a miss in every column below too
        c["id_right"] += number == person["id_number"]
        c["id_wrong"] += bool(number) and number != person["id_number"]
        c["kind_right"] += answer.get("card_kind") == want_kind
        c["side_right"] += (answer.get("sides") or [None])[0] == scene["side"]
        c["portrait_found"] += bool(answer.get("portrait_found"))
        if scene["side"] == "back":
            c["zone_valid"] += bool(zone.get("valid"))
            c["zone_right"] += bool(zone.get("valid")) and zone.get("personal_number") == \
                person["id_number"] and zone.get("date_of_birth") == person["date_of_birth"].isoformat()
    return {key: dict(c) for key, c in sorted(counts.items())}


def verify_pairs(pairs: list[dict]) -> dict:
    answers = _contract("verify", [{"card": p["card"], "face": p["face"]} for p in pairs])
    same, strangers = Counter(), Counter()
    for pair, answer in zip(pairs, answers, strict=True):
        (same if pair["same"] else strangers)[answer.get("decision") or "error"] += 1
    return {"same_person": dict(same), "strangers": dict(strangers),
            "false_accepts": strangers["match"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenes", type=int, default=12, help="scenes of each kind and side")
    ap.add_argument("--pairs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--keep", type=Path, help="draw into this folder and keep it")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        scenes = draw_scenes(folder, args.scenes, rng)
        pairs = draw_pairs(folder, args.pairs, rng) if args.pairs else []
        result = {"benchmark": "other_hand", "command": " ".join(sys.argv), "seed": args.seed,
                  "read_card": read_cards(scenes),
                  "verify": verify_pairs(pairs) if pairs else None}
    result["wall_s"] = round(time.monotonic() - started, 1)
    text = json.dumps(result, indent=1, ensure_ascii=False)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
