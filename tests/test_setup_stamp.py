"""scripts/run.sh's fast start (scripts/setup_stamp.py): the set-up runs again exactly when
something it depends on changed, or what it made is gone; the database step alone when only the
migrations, the seed or the database changed."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _module():
    spec = importlib.util.spec_from_file_location("setup_stamp", ROOT / "scripts" / "setup_stamp.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


stamp = _module()
PY = "3.11.7 (main)"


@pytest.fixture
def checkout(tmp_path):
    """A checkout as a finished set-up leaves it: inputs, the virtual environment, the face
    models, the sandbox certificate, the SQLite database, and the stamp of that set-up."""
    for name in ("setup.cfg", "pyproject.toml", "scripts/setup.sh", "scripts/install_models.py",
                 "migrations/versions/0001_initial.py", "migrations/env.py",
                 "kiosk/core/seed.py", *stamp.SETUP_OUTPUTS[:3], "instance/kiosk.sqlite",
                 *(f"models/{m}" for m in stamp.FACE_MODEL_FILES)):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"contents of {name}\n")
    (tmp_path / "instance/signing").mkdir()
    stamp.record(tmp_path, {}, PY)
    return tmp_path


def test_nothing_changed_nothing_runs(checkout):
    assert stamp.needed(checkout, {}, PY) == "nothing"


def test_no_stamp_yet_is_a_full_set_up(checkout):
    (checkout / stamp.STAMP_FILE).unlink()
    assert stamp.needed(checkout, {}, PY) == "setup"


@pytest.mark.parametrize("name", ["setup.cfg", "pyproject.toml", "scripts/setup.sh",
                                  "scripts/install_models.py"])
def test_a_changed_set_up_input_is_a_full_set_up(checkout, name):
    with open(checkout / name, "a") as fh:
        fh.write("# changed\n")
    assert stamp.needed(checkout, {}, PY) == "setup"


def test_a_new_requirements_file_is_a_full_set_up(checkout):
    (checkout / "requirements-extra.txt").write_text("somepackage==1.0\n")
    assert stamp.needed(checkout, {}, PY) == "setup"


def test_another_python_is_a_full_set_up(checkout):
    assert stamp.needed(checkout, {}, "3.12.1 (main)") == "setup"


@pytest.mark.parametrize("name", [".venv/bin/python", ".venv/bin/waitress-serve",
                                  "models/face_recognition_sface_2021dec.onnx"])
def test_something_the_set_up_made_is_gone_is_a_full_set_up(checkout, name):
    (checkout / name).unlink()
    assert stamp.needed(checkout, {}, PY) == "setup"


def test_a_new_migration_is_the_database_step_only(checkout):
    (checkout / "migrations/versions/0002_more.py").write_text("revision = '0002'\n")
    assert stamp.needed(checkout, {}, PY) == "init"


def test_a_changed_seed_is_the_database_step_only(checkout):
    with open(checkout / "kiosk/core/seed.py", "a") as fh:
        fh.write("# another package\n")
    assert stamp.needed(checkout, {}, PY) == "init"


def test_another_database_is_the_database_step_only(checkout):
    env = {"DATABASE_URL": "postgresql+psycopg://kiosk@db/kiosk"}
    assert stamp.needed(checkout, env, PY) == "init"
    stamp.record(checkout, env, PY)
    assert stamp.needed(checkout, env, PY) == "nothing"


def test_a_deleted_sqlite_database_is_made_again(checkout):
    (checkout / "instance/kiosk.sqlite").unlink()
    assert stamp.needed(checkout, {}, PY) == "init"


def test_compiled_python_caches_change_nothing(checkout):
    cache = checkout / "migrations/versions/__pycache__/0001_initial.cpython-311.pyc"
    cache.parent.mkdir()
    cache.write_bytes(b"\0compiled")
    assert stamp.needed(checkout, {}, PY) == "nothing"


def test_a_damaged_stamp_is_a_full_set_up(checkout):
    (checkout / stamp.STAMP_FILE).write_text("{not json")
    assert stamp.needed(checkout, {}, PY) == "setup"
