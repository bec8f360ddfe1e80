"""Provider interfaces, result types and the one exception the wizard has to handle.

Each provider (SmartCA registration backend, SMS gateway, printer) is an interface with a
sandbox implementation (the embedded default) and a real adapter. The wizard only talks to
these interfaces, so swapping sandbox for production is configuration, not code.
"""
from __future__ import annotations

import abc
import enum
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

BUSY_MESSAGE = "Hệ thống đăng ký đang bận, quý khách vui lòng thử lại sau ít phút."
PRINTER_MESSAGE = "Không in được phiếu. Nhân viên vui lòng kiểm tra máy in."
SMS_MESSAGE = "Không gửi được tin nhắn SMS, quý khách vui lòng thử lại sau ít phút."

# SMS without diacritics is the norm in Vietnam (a 160-character GSM-7 segment instead of
# 70 UCS-2 characters), so this text is plain ASCII.
ACTIVATION_SMS_TEMPLATE = (
    "VNPT SmartCA: Ma kich hoat cua Quy khach la {code}. Ma co hieu luc {minutes} phut. "
    "Khong cung cap ma nay cho bat ky ai."
)

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class ProviderError(Exception):
    """A provider could not do its job.

    ``message`` is Vietnamese text for the customer screen; ``detail`` is technical text for
    the logs and the staff console. Neither ever holds a password, PIN or activation code.
    ``code`` is a short machine-readable reason ("timeout", "http_503", "unknown_subscriber" …).
    """

    def __init__(self, detail: str, message: str = BUSY_MESSAGE, code: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.detail


class ProviderConfigError(RuntimeError):
    """The provider settings are incomplete or contradictory (raised at start-up)."""


class VerifyResult(str, enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    NO_CODE = "no_code"  # no code was sent, or the last one was already used


@dataclass(frozen=True)
class PrintResult:
    mode: str  # browser | cups | file
    detail: str  # CUPS job id, file path or a note for the logs
    path: str | None = None  # the written file (file printer only)


def check_service_url(url: str | None, setting: str) -> str:
    """HTTPS only, except plain HTTP to this machine (a local proxy or a test server):
    passwords, PINs and bearer tokens never cross the network in clear."""
    parts = urlsplit(url or "")
    if parts.scheme == "https" and parts.hostname:
        return url.rstrip("/")
    if parts.scheme == "http" and parts.hostname in _LOOPBACK:
        return url.rstrip("/")
    shown = f"{parts.scheme}://{parts.hostname}" if parts.scheme else repr(url)[:40]
    raise ProviderConfigError(
        f"{setting} must be an https:// URL (plain http only to localhost), got {shown}"
    )


def check_sha256(value: str, what: str = "sha256") -> str:
    if not isinstance(value, str) or not _SHA256_RE.match(value):
        raise ProviderError(f"{what} is not a lower-case hex SHA-256 digest", code="bad_request")
    return value


class RegistrationBackend(abc.ABC):
    """The SmartCA registration backend (steps 4–9 of the official flow).

    Every method raises :class:`ProviderError` when the backend refuses or cannot be reached.
    """

    sandbox: bool = False

    @abc.abstractmethod
    def create_subscriber(
        self,
        *,
        username: str,
        id_type: str,
        full_name: str,
        phone_e164: str,
        email: str | None,
        date_of_birth: date,
        package_code: str,
        registration_number: str,
        address: str | None = None,
    ) -> str:
        """Create the subscription; return the backend's subscriber reference.

        Idempotent per ``registration_number``: calling again returns the same reference.
        ``address`` is the customer's address as it is today (two tiers since 1/7/2025,
        docs/addresses.md); optional so that a caller without one still works.
        """

    @abc.abstractmethod
    def send_activation(self, subscriber_ref: str, phone_e164: str) -> None:
        """Generate a new 6-digit activation code (replacing any earlier one) and SMS it."""

    @abc.abstractmethod
    def verify_activation(self, subscriber_ref: str, code: str) -> VerifyResult:
        """Check an activation code. A correct code is used up (single use)."""

    @abc.abstractmethod
    def set_password(self, subscriber_ref: str, password: str) -> None:
        """Set the login password. The backend owns it: the kiosk keeps neither it nor a hash."""

    @abc.abstractmethod
    def submit_kyc(
        self, subscriber_ref: str, decision: str, evidence_sha256: dict[str, str]
    ) -> None:
        """Report the identity-check decision and the SHA-256 of each evidence image."""

    @abc.abstractmethod
    def register_document(
        self, subscriber_ref: str, kind: str, sha256: str, signed_at: datetime
    ) -> None:
        """Register a signed document (contract, acceptance record) by its SHA-256."""

    @abc.abstractmethod
    def set_pin(self, subscriber_ref: str, pin: str) -> None:
        """Set the 6-digit signing PIN."""

    @abc.abstractmethod
    def complete(self, subscriber_ref: str) -> None:
        """Finish the registration; the service becomes usable in the SmartCA app."""

    def close(self) -> None:
        """Release network resources (called at the end of the request)."""


class SmsGateway(abc.ABC):
    provider: str = ""

    @abc.abstractmethod
    def send(self, to_e164: str, text: str, registration_id: int | None = None) -> Any:
        """Send one SMS; return the recorded ``SmsMessage`` row (flushed, not committed)."""

    def close(self) -> None:
        """Release network resources (called at the end of the request)."""


class Printer(abc.ABC):
    mode: str = ""

    @abc.abstractmethod
    def print_pdf(self, pdf: bytes, job_name: str) -> PrintResult:
        """Print a PDF. ``job_name`` is visible to operators: never put personal data in it."""
