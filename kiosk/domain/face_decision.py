"""The three-way face decision (docs/vision-faces.md); pure, no models, no Flask.

    distance ≤ accept           → "match"     (automatic)
    accept < distance ≤ reject  → "review"    (a staff member compares the two pictures)
    distance > reject           → "no_match"  (retry, then staff)
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

MATCH, REVIEW, NO_MATCH, NO_FACE = "match", "review", "no_match", "no_face"


@dataclass(frozen=True)
class FaceThresholds:
    accept: float
    reject: float

    def __post_init__(self):
        for name in ("accept", "reject"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"{name} must be a number")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite, non-negative distance")
        if self.accept > self.reject:
            raise ValueError(f"accept ({self.accept}) must not exceed reject ({self.reject})")


# Calibrated by bench/calibrate_faces.py on the calibration split (docs/vision-faces.md).
DEFAULT_THRESHOLDS = FaceThresholds(accept=0.42, reject=0.59)


def decide(distance: float, thresholds: FaceThresholds = DEFAULT_THRESHOLDS) -> str:
    """"match", "review" or "no_match" for a face distance."""
    if isinstance(distance, bool) or not isinstance(distance, numbers.Real):
        raise TypeError("distance must be a number")
    if not math.isfinite(distance) or distance < 0:
        raise ValueError("distance must be a finite, non-negative number")
    if distance <= thresholds.accept:
        return MATCH
    if distance <= thresholds.reject:
        return REVIEW
    return NO_MATCH
