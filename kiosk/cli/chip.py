"""`flask --app kiosk chip read [--can CAN | --mrz-key DOCNO:YYMMDD:YYMMDD]` and `chip selftest`.

One JSON object on stdout, as the vision commands: the data groups parsed (the portrait as size
and SHA-256, never bytes), the passive-authentication result and the time of each step. A failure
prints {"error": code, "message": Vietnamese text} and exits 2 (3 for a bug), never a traceback.

The self-test card is `kiosk.chip.simulated`: it ships with the package (its test CSCA and
document signer are generated at run time, nothing secret is stored), so `chip selftest` works on
any installation and never reaches outside the package.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

chip_cli = AppGroup("chip", help="Read the chip of a CCCD / căn cước (JSON on stdout).")


def _emit(payload: dict, status: int = 0) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False))
    sys.exit(status)


def _fail(code: str, message: str, status: int = 2) -> None:
    _emit({"error": code, "message": message}, status)


@chip_cli.command("read")
@click.option("--can", help="Mã CAN: 6 chữ số cuối của số định danh.")
@click.option("--mrz-key", help="Khoá MRZ: SỐ_GIẤY_TỜ:YYMMDD(sinh):YYMMDD(hết hạn).")
@click.option("--reader", help="Part of the reader's name (default: CHIP_READER_NAME, else the first).")
def read_command(can, mrz_key, reader):
    """Read the card lying on the PC/SC reader."""
    from kiosk.chip import ChipError, MrzKey, read_card
    from kiosk.chip.transport import PcscTransport

    try:
        if not can and not mrz_key:
            _fail("bad_key", "Cần --can hoặc --mrz-key để mở chip.")
        key = MrzKey.parse(mrz_key) if mrz_key else None
        transport = PcscTransport(reader or current_app.config.get("CHIP_READER_NAME"))
        try:
            result = read_card(transport, can=can, mrz_key=key, csca_dir=_csca_dir())
        finally:
            transport.close()
    except ChipError as err:
        _fail(err.code, err.message)
    except Exception as exc:  # the contract promises JSON, even for a bug
        current_app.logger.exception("chip read failed")
        _fail("internal", f"Lỗi đọc chip: {type(exc).__name__}", 3)
    _emit(result.as_dict() | {"reader": transport.reader_name})


def _csca_dir() -> str:
    return current_app.config.get("CHIP_CSCA_DIR") or str(Path(current_app.instance_path) / "csca")


@chip_cli.command("selftest")
def selftest_command():
    """A whole read against the simulated chip: PACE, BAC, tampering and the CSCA chain."""
    from kiosk.chip import AccessDenied, read_card
    from kiosk.chip import simulated as sim

    started = time.perf_counter()
    checks: dict[str, dict] = {}
    try:
        person = sim.SAMPLE_PERSON
        pki = sim.make_test_pki()
        files = sim.make_card_files(person, pki)
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / "test-csca.pem").write_bytes(pki.csca_pem())
            pace_read = read_card(sim.SimulatedChip(files, person), can=person.can, csca_dir=folder)
        checks["pace_read"] = _check(pace_read.access == "PACE" and pace_read.passive.level == "chain",
                                     access=pace_read.access, level=pace_read.passive.level)
        bac_read = read_card(sim.SimulatedChip(files, person, pace=False), mrz_key=person.mrz_key)
        checks["bac_read"] = _check(bac_read.access == "BAC" and bac_read.passive.level == "signature",
                                    access=bac_read.access, level=bac_read.passive.level)
        tampered = sim.SimulatedChip(files, person)
        tampered.tamper("DG2")
        level = read_card(tampered, can=person.can).passive.level
        checks["tampered_dg2_detected"] = _check(level == "none", level=level)
        try:
            read_card(sim.SimulatedChip(files, person), can="000000")
            refused = False
        except AccessDenied:
            refused = True
        checks["wrong_can_refused"] = _check(refused)
    except Exception as exc:
        current_app.logger.exception("chip selftest failed")
        _fail("internal", f"Tự kiểm tra lỗi: {type(exc).__name__}", 3)
    ok = all(c["ok"] for c in checks.values())
    payload = {"ok": ok, "simulated": True, "checks": checks, "read": pace_read.as_dict(),
               "elapsed_ms": round((time.perf_counter() - started) * 1000, 1)}
    _emit(payload, 0 if ok else 1)


def _check(ok: bool, **facts) -> dict:
    return {"ok": bool(ok), **facts}
