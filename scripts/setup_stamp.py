"""Whether scripts/run.sh must run the set-up again: a stamp of what the set-up depends on.

    python scripts/setup_stamp.py check    → prints "setup", "init" or "nothing"
    python scripts/setup_stamp.py record   → remembers the inputs of a set-up that just succeeded

The whole set-up (scripts/setup.sh: system packages, the virtual environment, pip, the face
models, the database, the sandbox certificate) takes seconds even when nothing changed (pip
alone resolves every dependency again). It depends on: the package's requirements (setup.cfg,
pyproject.toml, any requirements*.txt), scripts/setup.sh, scripts/install_models.py and the
Python version — the **setup stamp**. The database step (``flask init``: migrate and seed)
depends on the migrations folder, the seed, and which database is used (DATABASE_URL,
KIOSK_INSTANCE_PATH) — the **database stamp**.

``check`` answers "setup" when the setup stamp differs from the last successful set-up's (or
there was none, or what it made is gone: the virtual environment, the face models, the sandbox
certificate), "init" when only the database stamp differs (or the SQLite file is gone), else
"nothing". Stamps are sha256 digests of file contents and names, kept in
``instance/.setup-stamp`` (instance/ is git-ignored; deleting the file forces a full set-up).
Standard library only: it runs before the set-up has installed anything.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAMP_FILE = "instance/.setup-stamp"

SETUP_INPUTS = ("setup.cfg", "pyproject.toml", "scripts/setup.sh", "scripts/install_models.py")
DATABASE_INPUTS = ("migrations", "kiosk/core/seed.py")
# What the set-up makes, whose absence means it must run again whatever the stamps say.
SETUP_OUTPUTS = (".venv/bin/python", ".venv/bin/flask", ".venv/bin/waitress-serve",
                 "instance/signing")
FACE_MODEL_FILES = ("face_detection_yunet_2023mar.onnx", "face_recognition_sface_2021dec.onnx")


def _files(root: Path, names) -> list[Path]:
    """The named files, and every file under the named folders (sorted, caches left out)."""
    found = []
    for name in names:
        path = root / name
        if path.is_dir():
            found += [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        elif path.is_file():
            found.append(path)
    return sorted(found)


def _digest(root: Path, files: list[Path], extra: dict) -> str:
    h = hashlib.sha256(json.dumps(extra, sort_keys=True).encode())
    for path in files:
        h.update(str(path.relative_to(root)).encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def setup_stamp(root: Path, python_version: str) -> str:
    inputs = list(SETUP_INPUTS) + sorted(p.name for p in root.glob("requirements*.txt"))
    return _digest(root, _files(root, inputs), {"python": python_version})


def database_stamp(root: Path, env: dict) -> str:
    return _digest(root, _files(root, DATABASE_INPUTS),
                   {"database": env.get("DATABASE_URL", ""),
                    "instance": env.get("KIOSK_INSTANCE_PATH", "")})


def _models_dir(root: Path, env: dict) -> Path:
    override = env.get("KIOSK_FACE_MODELS_DIR")
    return Path(override) if override else root / "models"


def _outputs_missing(root: Path, env: dict) -> bool:
    if any(not (root / name).exists() for name in SETUP_OUTPUTS):
        return True
    return any(not (_models_dir(root, env) / name).is_file() for name in FACE_MODEL_FILES)


def _database_missing(root: Path, env: dict) -> bool:
    """The default SQLite file is gone (a server database is not looked at: init then runs
    only when its stamp changes)."""
    if env.get("DATABASE_URL"):
        return False
    instance = Path(env["KIOSK_INSTANCE_PATH"]) if env.get("KIOSK_INSTANCE_PATH") else root / "instance"
    return not (instance / "kiosk.sqlite").is_file()


def current(root: Path, env: dict, python_version: str) -> dict:
    return {"setup": setup_stamp(root, python_version), "database": database_stamp(root, env)}


def recorded(root: Path) -> dict:
    try:
        return json.loads((root / STAMP_FILE).read_text())
    except (OSError, ValueError):
        return {}


def needed(root: Path, env: dict, python_version: str) -> str:
    """"setup", "init" or "nothing" (see the module docstring)."""
    last, now = recorded(root), current(root, env, python_version)
    if last.get("setup") != now["setup"] or _outputs_missing(root, env):
        return "setup"
    if last.get("database") != now["database"] or _database_missing(root, env):
        return "init"
    return "nothing"


def record(root: Path, env: dict, python_version: str) -> None:
    path = root / STAMP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(current(root, env, python_version)) + "\n")
    tmp.replace(path)


def main(argv: list[str]) -> int:
    # the virtual environment's Python when it exists (the one the kiosk runs on)
    version = sys.version
    if len(argv) != 2 or argv[1] not in ("check", "record"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    if argv[1] == "check":
        print(needed(ROOT, dict(os.environ), version))
    else:
        record(ROOT, dict(os.environ), version)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
