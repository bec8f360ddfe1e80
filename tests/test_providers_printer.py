"""Printers: browser (no-op on the server), CUPS through a fake `lp`, and files."""
from __future__ import annotations

import stat
from datetime import UTC, datetime

import pytest

from kiosk.providers import PrintResult, ProviderError
from kiosk.providers.base import PRINTER_MESSAGE
from kiosk.providers.printing import BrowserPrinter, CupsPrinter, FilePrinter, safe_job_name

PDF = b"%PDF-1.4\n% fake receipt\n%%EOF\n"
T0 = datetime(2025, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)


def _script(path, body: str):
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


@pytest.fixture
def fake_lp(tmp_path):
    record = tmp_path / "lp-record"
    return _script(
        tmp_path / "lp",
        f'printf "%s\\n" "$@" > "{record}.args"\n'
        f'cat > "{record}.stdin"\n'
        'echo "request id is Q-1 (1 file(s))"\n',
    ), record


def test_browser_printer():
    result = BrowserPrinter().print_pdf(PDF, "TH-0001-receipt")
    assert result == PrintResult("browser", result.detail, None)


def test_cups_printer_sends_the_pdf_on_stdin(fake_lp):
    lp, record = fake_lp
    result = CupsPrinter("Receipt_80mm", lp_path=str(lp)).print_pdf(PDF, "TH-0001 biên nhận")
    assert result == PrintResult("cups", "Q-1", None)
    args = record.with_suffix(".args").read_text().splitlines()
    assert args == ["-d", "Receipt_80mm", "-t", "TH-0001-bien-nhan", "-"]
    assert record.with_suffix(".stdin").read_bytes() == PDF


def test_cups_printer_failure(tmp_path):
    lp = _script(tmp_path / "lp", 'cat >/dev/null\necho "lp: The printer or class does not exist." >&2\nexit 1\n')
    with pytest.raises(ProviderError) as err:
        CupsPrinter("Nope", lp_path=str(lp)).print_pdf(PDF, "job")
    assert err.value.message == PRINTER_MESSAGE
    assert "does not exist" in err.value.detail and "exited 1" in err.value.detail


def test_cups_printer_without_lp(tmp_path):
    with pytest.raises(ProviderError) as err:
        CupsPrinter("Receipt", lp_path=str(tmp_path / "missing-lp")).print_pdf(PDF, "job")
    assert err.value.message == PRINTER_MESSAGE
    assert err.value.code == "lp_missing"


def test_cups_printer_timeout(tmp_path):
    lp = _script(tmp_path / "lp", "cat >/dev/null\nexec sleep 5\n")
    with pytest.raises(ProviderError) as err:
        CupsPrinter("Receipt", lp_path=str(lp), timeout=0.3).print_pdf(PDF, "job")
    assert err.value.code == "timeout"


def test_cups_printer_refuses_odd_queue_names():
    with pytest.raises(ValueError):
        CupsPrinter("-o evil")
    with pytest.raises(ValueError):
        CupsPrinter("")


def test_file_printer_writes_a_private_file(tmp_path):
    printer = FilePrinter(tmp_path / "prints", clock=lambda: T0)
    result = printer.print_pdf(PDF, "TH-0001/phiếu tiếp nhận")
    assert result.mode == "file"
    assert result.path == result.detail
    assert result.path == str(tmp_path / "prints" / "20250301T083015123456Z-TH-0001-phieu-tiep-nhan.pdf")
    with open(result.path, "rb") as fh:
        assert fh.read() == PDF
    assert stat.S_IMODE((tmp_path / "prints" / result.path.rsplit("/", 1)[1]).stat().st_mode) == 0o600

    # Same second, same name: a second file, never an overwrite.
    again = printer.print_pdf(PDF, "TH-0001/phiếu tiếp nhận")
    assert again.path != result.path and again.path.endswith("-1.pdf")


def test_file_printer_unwritable_directory(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(ProviderError) as err:
        FilePrinter(blocker / "prints").print_pdf(PDF, "job")
    assert err.value.message == PRINTER_MESSAGE


def test_empty_pdf_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError):
        FilePrinter(tmp_path).print_pdf(b"", "job")


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("Đăng ký SmartCA", "Dang-ky-SmartCA"),
        ("../../etc/passwd", "etc-passwd"),
        ("", "job"),
        ("ảnh", "anh"),
        ("a" * 200, "a" * 80),
    ],
)
def test_safe_job_name(name, safe):
    assert safe_job_name(name) == safe
