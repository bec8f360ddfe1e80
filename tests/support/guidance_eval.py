"""A labelled evaluation set for the camera guidance, from both scene generators.

    frames = dataset("calibration", 400)      # or "held_out"
    table = confusion(frames, guidance.analyse_frame)

Each :class:`Labelled` frame carries, per issue code, True (should fire), False (should not)
or None (between the "bad" and "ok" limits: not scored). The limits are in
``card_scenes`` (one set of definitions for both generators).

Split (so that what the thresholds were fitted on is not what they are judged on):

* ``calibration``: ``synthetic.place_in_scene`` frames (seed stream 1) and ``card_scenes``
  frames of the *fronts* (2021 and 2024 layouts) on wood, desk, pale and dark backgrounds;
* ``held_out``: ``synthetic.place_in_scene`` frames (seed stream 2) and ``card_scenes``
  frames of all four layouts (both backs are never in the calibration part) on all six
  backgrounds (fabric and the cluttered photo only here), from other seeds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from tests.support import card_scenes as cs
from tests.support import synthetic

SPLITS = {
    "calibration": {"seed": 1, "layouts": ("cccd2021_front", "cancuoc2024_front"),
                    "backgrounds": ("wood", "desk", "pale", "dark")},
    "held_out": {"seed": 2, "layouts": cs.LAYOUTS, "backgrounds": cs.BACKGROUNDS},
}
SCENARIOS = ("good", "good", "good", "far", "close", "roll", "tilt", "blur", "glare", "sheen",
             "bright", "dark", "no_card", "mixed", "mixed")


@dataclass
class Labelled:
    image: np.ndarray
    labels: dict  # code -> True | False | None
    source: str  # "card_scenes" | "synthetic"
    scenario: str
    truth: dict
    corners: np.ndarray | None = None  # true card corners, TL, TR, BR, BL (None: no card)

    @property
    def good(self) -> bool:
        """A frame that should be accepted: every code labelled False."""
        return all(v is False for v in self.labels.values())


def _size(rng: np.random.Generator) -> tuple[int, int]:
    r = rng.random()
    return (640, 480) if r < 0.6 else ((1280, 720) if r < 0.85 else (800, 600))


def _card_scene(rng: np.random.Generator, split: dict) -> Labelled:
    scenario = str(rng.choice(SCENARIOS))
    s = cs.Scene(size=_size(rng), layout=str(rng.choice(split["layouts"])),
                 background=str(rng.choice(split["backgrounds"])))
    sign = 1 if rng.random() < 0.5 else -1
    fraction = float(rng.uniform(0.48, 0.72))
    if scenario == "far":
        s.width_fraction = float(rng.uniform(0.14, 0.36))
    elif scenario == "close":
        s.width_fraction = float(rng.uniform(0.9, 1.2))
        s.offset = (float(rng.uniform(-0.3, 0.3)), float(rng.uniform(-0.3, 0.3)))
    elif scenario == "roll":
        s.roll = sign * float(rng.uniform(18, 45))
    elif scenario == "tilt":
        if rng.random() < 0.5:
            s.yaw, s.pitch = sign * float(rng.uniform(33, 52)), float(rng.uniform(-8, 8))
        else:
            s.pitch, s.yaw = sign * float(rng.uniform(33, 52)), float(rng.uniform(-8, 8))
    elif scenario == "blur":
        s.width_fraction = fraction
        s.blur_kind = str(rng.choice(["gauss", "defocus", "motion"]))
        s.blur = float(rng.uniform(0.0045, 0.012)) * fraction * s.size[0]
    elif scenario == "glare":
        s.glare = "streak" if rng.random() < 0.3 else "blob"
        s.glare_strength = float(rng.uniform(0.8, 1.5))
    elif scenario == "sheen":  # a soft reflection that washes nothing out: not glare
        s.glare = "sheen"
        s.glare_strength = float(rng.uniform(0.5, 1.0))
    elif scenario == "bright":  # plain white card stock, well lit: bright, but not glare
        s.white_card = True
        s.exposure = float(rng.uniform(1.0, 1.12))
    elif scenario == "dark":
        s.exposure = float(rng.uniform(0.1, 0.28))
    elif scenario == "no_card":
        s.card = False
    elif scenario == "mixed":  # values on both sides of every limit
        s.width_fraction = float(rng.uniform(0.3, 0.95))
        s.roll = float(rng.uniform(-22, 22))
        s.yaw, s.pitch = float(rng.uniform(-35, 35)), float(rng.uniform(-20, 20))
        s.blur_kind = str(rng.choice(["gauss", "defocus", "motion"]))
        s.blur = float(rng.uniform(0.0, 0.006)) * s.width_fraction * s.size[0]
        s.exposure = float(rng.uniform(0.25, 1.15))
        if rng.random() < 0.3:
            s.glare, s.glare_strength = "blob", float(rng.uniform(0.3, 1.2))
    frame = cs.render_scene(s, rng)
    return Labelled(frame.image, frame.labels, "card_scenes", scenario, frame.truth, frame.corners)


def _card_brightness(frame: np.ndarray, corners: np.ndarray) -> float:
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    mask = np.zeros(grey.shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(corners).astype(np.int32), 255)
    mask = cv2.erode(mask, np.ones((5, 5), np.uint8))
    return float(grey[mask > 0].mean()) if mask.any() else 0.0


_SYNTH_CARDS: dict[int, np.ndarray] = {}


def _synthetic_scene(rng: np.random.Generator) -> Labelled:
    """A ``synthetic.place_in_scene`` frame, labelled with the same definitions."""
    key = int(rng.integers(0, 6))
    if key not in _SYNTH_CARDS:
        _SYNTH_CARDS[key] = synthetic.render_card_front(synthetic.random_fields(key + 100), None, seed=key)
    size = _size(rng)
    scenario = str(rng.choice(SCENARIOS[:9] + ("dark", "no_card", "mixed")))
    kw: dict = {"rotation_deg": float(rng.uniform(-8, 8)),
                "perspective": (float(rng.uniform(-12, 12)), float(rng.uniform(-12, 12)))}
    glare = 0.0
    if scenario == "far":
        kw["scale"] = float(rng.uniform(0.15, 0.36))
    elif scenario == "close":
        aspect = synthetic.CARD_SIZE[0] / synthetic.CARD_SIZE[1]
        kw.update(scale=min(0.99, 0.99 * size[1] * aspect / size[0]), centre=(size[0] / 2, size[1] / 2),
                  rotation_deg=0.0, perspective=(0.0, 0.0))
    elif scenario == "roll":
        kw["rotation_deg"] = float(rng.choice([-1, 1]) * rng.uniform(18, 40))
    elif scenario == "tilt":
        kw["perspective"] = (float(rng.choice([-1, 1]) * rng.uniform(33, 45)), 0.0)
    elif scenario == "blur":
        kw["blur"] = float(rng.uniform(2.2, 4.0))
    elif scenario == "glare":
        glare = float(rng.uniform(0.5, 1.0))
    elif scenario == "dark":
        kw["brightness"] = float(rng.uniform(0.12, 0.28))
    elif scenario == "no_card":
        kw["centre"] = (-5000.0, -5000.0)
    elif scenario == "mixed":
        kw.update(rotation_deg=float(rng.uniform(-22, 22)),
                  perspective=(float(rng.uniform(-35, 35)), float(rng.uniform(-20, 20))),
                  blur=float(rng.uniform(0.3, 2.5)), brightness=float(rng.uniform(0.3, 1.05)))
    frame, corners = synthetic.place_in_scene(_SYNTH_CARDS[key], size, rng, glare=glare, **kw)
    if scenario == "no_card":
        labels = cs.label({}, False)
        return Labelled(frame, labels, "synthetic", scenario, {})
    w, h = size
    yaw, pitch = kw["perspective"]
    truth = cs.geometry_truth(corners, w, h)
    # place_in_scene's default blur is drawn from the rng inside: unknown here unless given
    blur = kw.get("blur", 1.0)
    truth.update(roll=kw["rotation_deg"],
                 tilt=math.degrees(math.acos(math.cos(math.radians(yaw)) * math.cos(math.radians(pitch)))),
                 blur_rel=blur / truth["long_edge_px"],
                 brightness=_card_brightness(frame, corners),
                 glare=0.05 if glare >= 0.5 else 0.0)
    labels = cs.label(truth, True)
    if truth["card_fraction"] < 0.25:  # a speck of a card: "no card" is a fair answer too
        labels["no_card"] = None
    if "blur" not in kw:  # default camera blur 0.3–1.0 px: sharp unless the card is tiny
        labels["blurred"] = False if 1.0 / truth["long_edge_px"] <= cs.BLUR_OK else None
    return Labelled(frame, labels, "synthetic", scenario, truth, corners)


def dataset(split: str, n: int, synthetic_share: float = 0.3) -> list[Labelled]:
    """``n`` labelled frames of ``split`` ("calibration" or "held_out"), reproducible."""
    spec = SPLITS[split]
    rng = np.random.default_rng([spec["seed"], n])
    out = []
    for _ in range(n):
        if rng.random() < synthetic_share:
            out.append(_synthetic_scene(rng))
        else:
            out.append(_card_scene(rng, spec))
    return out


def confusion(frames: list[Labelled], issues_of) -> dict:
    """Per code: tp, fp, fn, tn, precision, recall (frames labelled None not counted), and
    the share of good frames refused. ``issues_of(image) -> list of codes``."""
    table = {code: {"tp": 0, "fp": 0, "fn": 0, "tn": 0} for code in cs.CODES}
    good = refused = 0
    refusals: dict[str, int] = {}
    for frame in frames:
        issues = set(issues_of(frame.image))
        for code, want in frame.labels.items():
            if want is None:
                continue
            got = code in issues
            table[code]["tp" if want and got else "fn" if want else "fp" if got else "tn"] += 1
        if frame.good:
            good += 1
            if issues:
                refused += 1
                for code in issues:
                    refusals[code] = refusals.get(code, 0) + 1
    for row in table.values():
        row["precision"] = round(row["tp"] / (row["tp"] + row["fp"]), 3) if row["tp"] + row["fp"] else None
        row["recall"] = round(row["tp"] / (row["tp"] + row["fn"]), 3) if row["tp"] + row["fn"] else None
    return {"codes": table, "good_frames": good, "good_refused": refused,
            "good_refused_rate": round(refused / good, 3) if good else None,
            "good_refused_by": refusals}
