"""`flask --app kiosk chip read | selftest`: one JSON object, errors as JSON with a nonzero exit."""
from __future__ import annotations

import json

import pytest

from kiosk.chip.simulated import (
    SAMPLE_PERSON,
    SimulatedChip,
    make_card_files,
    make_test_pki,
)


def run(runner, *args):
    result = runner.invoke(args=["chip", *args])
    return result.exit_code, json.loads(result.output)


def test_selftest_passes(runner):
    code, out = run(runner, "selftest")
    assert code == 0, out
    assert out["ok"] is True and out["simulated"] is True
    assert all(check["ok"] for check in out["checks"].values())
    assert out["read"]["passive_authentication"]["level"] == "chain"
    assert set(out["read"]["portrait"]) >= {"bytes", "sha256"}


def test_read_without_a_key_is_a_json_error(runner):
    code, out = run(runner, "read")
    assert code == 2 and out["error"] == "bad_key"


def test_read_with_a_malformed_mrz_key(runner):
    code, out = run(runner, "read", "--mrz-key", "12345")
    assert code == 2 and out["error"] == "bad_key" and "MRZ" in out["message"]


class _SimulatedReader(SimulatedChip):
    reader_name = "Simulated reader"

    def close(self):
        pass


@pytest.fixture
def simulated_reader(monkeypatch):
    files = make_card_files(SAMPLE_PERSON, make_test_pki())

    def factory(name=None):
        return _SimulatedReader(files, SAMPLE_PERSON)

    monkeypatch.setattr("kiosk.chip.transport.PcscTransport", factory)
    return files


def test_read_prints_the_card_as_json(runner, simulated_reader):
    code, out = run(runner, "read", "--can", SAMPLE_PERSON.can)
    assert code == 0, out
    assert out["reader"] == "Simulated reader"
    assert out["data_groups"]["DG13"]["full_name"] == "Nguyễn Thị Thu Hà"
    assert out["passive_authentication"]["level"] == "signature"  # no CSCA installed in instance/csca
    assert "DG2" in out["timings_ms"]


def test_read_with_the_wrong_can(runner, simulated_reader):
    code, out = run(runner, "read", "--can", "999999")
    assert code == 2 and out["error"] == "access_denied"


def test_read_without_a_reader(runner, monkeypatch):
    from kiosk.chip.errors import ReaderUnavailable

    def no_reader(name=None):
        raise ReaderUnavailable()

    monkeypatch.setattr("kiosk.chip.transport.PcscTransport", no_reader)
    code, out = run(runner, "read", "--can", "123456")
    assert code == 2 and out["error"] == "reader_unavailable"


def test_selftest_needs_nothing_outside_the_package(runner, monkeypatch):
    """The installed kiosk has no tests/ folder: the self-test must neither import from it nor
    put the checkout on sys.path to find it."""
    import sys

    path_before = list(sys.path)
    monkeypatch.setitem(sys.modules, "tests", None)  # any `import tests…` now fails
    monkeypatch.setitem(sys.modules, "tests.support", None)
    code, out = run(runner, "selftest")
    assert code == 0 and out["ok"] is True, out
    assert sys.path == path_before
