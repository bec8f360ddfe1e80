"""Receipt printing: the kiosk browser, a CUPS queue, or PDF files under instance/.

Job names are visible to operators (``lpstat``, file names): never put a customer's name,
ID number or phone number in them — use the registration number and the document kind.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from kiosk.providers.base import PRINTER_MESSAGE, Printer, PrintResult, ProviderError

log = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"request id is (\S+)")


def utcnow() -> datetime:
    return datetime.now(UTC)


def safe_job_name(job_name: str, limit: int = 80) -> str:
    """ASCII letters, digits, '.', '_' and '-' only (Vietnamese letters lose their marks)."""
    text = unicodedata.normalize("NFKD", job_name or "").replace("đ", "d").replace("Đ", "D")
    text = text.encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return text[:limit].rstrip("-.") or "job"


def _check_pdf(pdf: bytes) -> None:
    if not isinstance(pdf, (bytes, bytearray)) or not pdf:
        raise ValueError("print_pdf needs the PDF as non-empty bytes")


class BrowserPrinter(Printer):
    """Nothing happens on the server: the done page opens the receipt PDF and the kiosk
    browser prints it (print dialog, or silently with Chromium ``--kiosk-printing``)."""

    mode = "browser"

    def print_pdf(self, pdf: bytes, job_name: str) -> PrintResult:
        _check_pdf(pdf)
        return PrintResult(self.mode, "printed by the kiosk browser", None)


class CupsPrinter(Printer):
    """``lp -d QUEUE -t JOB -`` with the PDF on standard input."""

    mode = "cups"

    def __init__(self, queue: str, lp_path: str = "lp", timeout: float = 20):
        if not queue or not re.fullmatch(r"[A-Za-z0-9._@/-]+", queue):
            raise ValueError(f"invalid CUPS queue name {queue!r}")
        self.queue = queue
        self.lp_path = lp_path
        self.timeout = timeout

    def print_pdf(self, pdf: bytes, job_name: str) -> PrintResult:
        _check_pdf(pdf)
        lp = shutil.which(self.lp_path)
        if lp is None:
            raise ProviderError(f"printer: {self.lp_path!r} not found (is cups-client installed?)",
                                PRINTER_MESSAGE, "lp_missing")
        title = safe_job_name(job_name)
        try:
            proc = subprocess.run(
                [lp, "-d", self.queue, "-t", title, "-"],
                input=bytes(pdf),
                capture_output=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ProviderError(f"printer: lp did not finish within {self.timeout}s",
                                PRINTER_MESSAGE, "timeout") from exc
        except OSError as exc:
            raise ProviderError(f"printer: cannot run lp ({exc.strerror or exc})",
                                PRINTER_MESSAGE, "lp_failed") from exc
        stdout = proc.stdout.decode(errors="replace").strip()
        if proc.returncode != 0:
            stderr = proc.stderr.decode(errors="replace").strip()[:300]
            raise ProviderError(
                f"printer: lp -d {self.queue} exited {proc.returncode}: {stderr}",
                PRINTER_MESSAGE, "lp_failed",
            )
        match = _REQUEST_ID.search(stdout)
        detail = match.group(1) if match else (stdout[:200] or f"queued on {self.queue}")
        log.info("printed %s on %s: %s", title, self.queue, detail)
        return PrintResult(self.mode, detail, None)


class FilePrinter(Printer):
    """Writes ``<directory>/<UTC timestamp>-<job name>.pdf`` (mode 0600) — for tests and for
    kiosks whose printing is handled by another program watching the folder."""

    mode = "file"

    def __init__(self, directory: str | os.PathLike, clock: Callable[[], datetime] = utcnow):
        self.directory = Path(directory)
        self.clock = clock

    def print_pdf(self, pdf: bytes, job_name: str) -> PrintResult:
        _check_pdf(pdf)
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            stem = f"{self.clock().strftime('%Y%m%dT%H%M%S%fZ')}-{safe_job_name(job_name)}"
            path = self._create(stem, bytes(pdf))
        except OSError as exc:
            raise ProviderError(f"printer: cannot write into {self.directory}: {exc.strerror}",
                                PRINTER_MESSAGE, "write_failed") from exc
        log.info("printed into %s", path)
        return PrintResult(self.mode, str(path), str(path))

    def _create(self, stem: str, data: bytes) -> Path:
        for n in range(100):
            path = self.directory / (f"{stem}.pdf" if n == 0 else f"{stem}-{n}.pdf")
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            return path
        raise FileExistsError(f"too many files named {stem}*.pdf")
