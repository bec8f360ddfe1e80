"""Locate the face test photos and read their manifest (docs/vision-faces.md).

The photos are not ours to redistribute: they live outside the repository, in
``$KIOSK_FACE_DATA`` (by default a ``shared/testdata/faces`` folder beside the checkout). When they (or dlib's models) are missing
the tests that need them are skipped with the reason — except under ``CI=true``, where a
missing prerequisite is a failure, so a CI run can never pass by skipping everything.
"""
from __future__ import annotations

import csv
import os
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FACE_DATA = ROOT.parent / "shared" / "testdata" / "faces"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def skip_or_fail(reason: str):
    """Skip (locally) or fail (under CI=true) the calling test."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: missing test prerequisites are failures)")
    pytest.skip(reason)


def face_data_dir() -> Path:
    """The face photo folder, or skip/fail with a clear reason."""
    folder = Path(os.environ.get("KIOSK_FACE_DATA") or DEFAULT_FACE_DATA)
    if not (folder / "manifest.csv").is_file():
        skip_or_fail(f"face test photos not found at {folder} "
                     "(set KIOSK_FACE_DATA to the folder holding manifest.csv)")
    return folder


def require_face_models() -> None:
    """Skip/fail unless dlib and the face_recognition_models weights are installed."""
    try:
        import dlib  # noqa: F401

        from kiosk.vision import dlib_models as models

        for name in ("shape_5", "shape_68", "encoder"):
            path = models.models_dir() / models.MODEL_FILES[name]
            if not path.is_file():
                raise models.ModelsUnavailable(f"missing {path}")
    except (ImportError, OSError, RuntimeError) as exc:  # RuntimeError: ModelsUnavailable
        skip_or_fail(f"dlib face models unavailable: {exc}")


def require_sface_models() -> None:
    """Skip/fail unless YuNet and SFace are installed and intact (scripts/setup.sh does it)."""
    from kiosk.vision import sface

    try:
        sface.check_models(sface.default_models_dir())
    except sface.ModelsMissing as exc:
        skip_or_fail(str(exc))


@lru_cache(maxsize=4)
def _manifest(folder: str) -> tuple[dict, ...]:
    with open(Path(folder) / "manifest.csv", newline="", encoding="utf-8") as fh:
        return tuple(csv.DictReader(fh))


def manifest() -> list[dict]:
    return list(_manifest(str(face_data_dir())))


def photos(split: str | None = None, identity: str | None = None) -> list[dict]:
    return [row for row in manifest()
            if (split is None or row["split"] == split)
            and (identity is None or row["identity"] == identity)]


def people(split: str, at_least: int = 2) -> dict[str, list[str]]:
    """The split's identities with at least ``at_least`` photos: identity → files."""
    by_person: dict[str, list[str]] = {}
    for r in photos(split=split):
        by_person.setdefault(r["identity"], []).append(r["file"])
    return {who: files for who, files in by_person.items() if len(files) >= at_least}


def row(file: str) -> dict:
    for r in manifest():
        if r["file"] == file:
            return r
    raise KeyError(file)


def load(file: str):
    """A photo as a BGR (or grayscale / BGRA, as stored) uint8 array."""
    import cv2

    image = cv2.imread(str(face_data_dir() / file), cv2.IMREAD_UNCHANGED)
    if image is None:
        skip_or_fail(f"cannot read face photo {file}")
    return image


def calibration_photo(identity: str = "junichiro_koizumi"):
    """The first calibration-split photo of ``identity`` (skips, or fails under CI=true,
    without the test data)."""
    rows = photos(split="calibration", identity=identity)
    if not rows:
        skip_or_fail(f"no calibration photo of {identity} in the face test data")
    return load(rows[0]["file"])
