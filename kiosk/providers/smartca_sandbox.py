"""The sandbox SmartCA registration backend: records in the local database.

It behaves like a strict backend (unknown subscriber, steps out of order and malformed
values are refused) so that wizard bugs show up in testing, but it never contacts VNPT.
Everything it creates is marked as a test on screen and on receipts ("MÔI TRƯỜNG THỬ
NGHIỆM"). Rows are never committed: the request commits its unit of work (set_pin and complete
do not even flush, so that no write lock is held while the caller renders).

Stored per subscriber: a keyed digest of the username (never the ID number in clear), the
package code, the activation code as a keyed digest (HMAC-SHA256) with its expiry, the KYC decision
with the evidence digests, the digests of the signed documents and timestamps. The
customer's password and PIN are not stored at all, here or by the kiosk: the real backend owns
them, and the sandbox only checks them against its rules.
"""
from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import select

from kiosk.core.models import Registration, SandboxSubscriber, utcnow
from kiosk.providers.base import (
    ACTIVATION_SMS_TEMPLATE,
    ProviderError,
    RegistrationBackend,
    SmsGateway,
    VerifyResult,
    check_sha256,
)

log = logging.getLogger(__name__)

REF_PREFIX = "SBX-"


def random_code() -> str:
    """Six digits from the OS CSPRNG (leading zeros allowed)."""
    return f"{secrets.randbelow(1_000_000):06d}"


CODE_DIGEST_PREFIX = "hmac-sha256$"


def _hash_code(digest: Callable[[str], str], subscriber_ref: str, code: str) -> str:
    """A keyed digest of the code, not argon2: the code is not a secret worth a slow hash.

    It has only a million values, lives five minutes, is single use and locks after five
    wrong tries; the SMS outbox next to it holds the same code encrypted under the same
    instance keys. Whoever could brute-force an HMAC here could read the SMS anyway, and
    argon2 would add ~30 ms of CPU to every send and every try (docs/performance.md).
    """
    return CODE_DIGEST_PREFIX + digest(f"activation:{subscriber_ref}:{code}")


def _verify_code(digest: Callable[[str], str], subscriber_ref: str, code_hash: str,
                 code: str) -> bool:
    if code_hash.startswith("$argon2"):  # a code sent before the upgrade (five minutes at most)
        from kiosk.domain.credentials import verify_secret

        return verify_secret(code_hash, code)
    return hmac.compare_digest(code_hash, _hash_code(digest, subscriber_ref, code))


class SandboxRegistrationBackend(RegistrationBackend):
    sandbox = True

    def __init__(
        self,
        session,
        sms_gateway: SmsGateway,
        *,
        digest: Callable[[str], str],
        clock: Callable[[], datetime] = utcnow,
        code_ttl_seconds: int = 300,
        code_generator: Callable[[], str] = random_code,
    ):
        self.session = session
        self.sms = sms_gateway
        self.digest = digest
        self.clock = clock
        self.code_ttl_seconds = code_ttl_seconds
        self.code_generator = code_generator

    # -- helpers -----------------------------------------------------------------------
    def _get(self, subscriber_ref: str) -> SandboxSubscriber:
        sub = self.session.execute(
            select(SandboxSubscriber).where(SandboxSubscriber.ref == subscriber_ref)
        ).scalar_one_or_none()
        if sub is None:
            raise ProviderError(f"sandbox: unknown subscriber {subscriber_ref!r}",
                                code="unknown_subscriber")
        return sub

    def _require_active(self, sub: SandboxSubscriber, operation: str) -> None:
        if sub.activated_at is None:
            raise ProviderError(f"sandbox: {operation} before activation of {sub.ref}",
                                code="not_activated")

    def _registration_id(self, subscriber_ref: str) -> int | None:
        """The kiosk registration behind a sandbox ref (so the SMS shows up in its outbox)."""
        number = subscriber_ref[len(REF_PREFIX):]
        return self.session.execute(
            select(Registration.id).where(
                (Registration.number == number) | (Registration.subscriber_ref == subscriber_ref)
            ).limit(1)
        ).scalar_one_or_none()

    # -- RegistrationBackend ---------------------------------------------------------
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
        for name, value in (("username", username), ("id_type", id_type),
                            ("full_name", full_name), ("phone_e164", phone_e164),
                            ("package_code", package_code),
                            ("registration_number", registration_number)):
            if not value or not str(value).strip():
                raise ProviderError(f"sandbox: create_subscriber without {name}",
                                    code="bad_request")
        if not phone_e164.startswith("+"):
            raise ProviderError("sandbox: phone number is not in E.164 form", code="bad_request")
        if address is not None and (not isinstance(address, str) or not address.strip()):
            # The sandbox keeps no personal data, but it refuses what the real backend would.
            raise ProviderError("sandbox: address is empty", code="bad_request")
        if not isinstance(date_of_birth, date):
            raise ProviderError("sandbox: date_of_birth is not a date", code="bad_request")

        ref = REF_PREFIX + registration_number
        username_digest = self.digest(username)
        existing = self.session.execute(
            select(SandboxSubscriber).where(SandboxSubscriber.ref == ref)
        ).scalar_one_or_none()
        if existing is not None:
            if existing.username_digest != username_digest:
                raise ProviderError(
                    f"sandbox: registration {registration_number} already created for "
                    "another username", code="conflict")
            return existing.ref

        sub = SandboxSubscriber(
            ref=ref,
            username_digest=username_digest,
            package_code=package_code,
            created_at=self.clock(),
        )
        self.session.add(sub)
        self.session.flush()
        log.info("sandbox subscriber %s created (package %s)", ref, package_code)
        return ref

    def send_activation(self, subscriber_ref: str, phone_e164: str) -> None:
        sub = self._get(subscriber_ref)
        if sub.activated_at is not None:
            raise ProviderError(f"sandbox: {sub.ref} is already activated",
                                code="already_activated")
        code = self.code_generator()
        if len(code) != 6 or not code.isdigit():
            raise ValueError("activation codes are six digits")
        # A new code replaces the old one: only the latest SMS is valid.
        sub.activation_hash = _hash_code(self.digest, sub.ref, code)
        sub.activation_expires_at = self.clock() + timedelta(seconds=self.code_ttl_seconds)
        self.session.flush()
        minutes = max(1, round(self.code_ttl_seconds / 60))
        text = ACTIVATION_SMS_TEMPLATE.format(code=code, minutes=minutes)
        self.sms.send(phone_e164, text, registration_id=self._registration_id(subscriber_ref))
        log.info("sandbox activation code sent for %s", sub.ref)

    def verify_activation(self, subscriber_ref: str, code: str) -> VerifyResult:
        sub = self._get(subscriber_ref)
        if sub.activation_hash is None or sub.activation_expires_at is None:
            return VerifyResult.NO_CODE
        if self.clock() >= sub.activation_expires_at:
            return VerifyResult.EXPIRED
        code = (code or "").strip()
        if not (len(code) == 6 and code.isdigit()) or not _verify_code(
            self.digest, sub.ref, sub.activation_hash, code
        ):
            return VerifyResult.WRONG
        # Single use: the code cannot activate anything a second time.
        sub.activation_hash = None
        sub.activation_expires_at = None
        sub.activated_at = self.clock()
        self.session.flush()
        return VerifyResult.OK

    def set_password(self, subscriber_ref: str, password: str) -> None:
        sub = self._get(subscriber_ref)
        self._require_active(sub, "set_password")
        if not password or len(password) < 8:
            raise ProviderError("sandbox: password shorter than 8 characters",
                                code="bad_request")
        # Nothing is stored: the sandbox has no login to check it against.

    def submit_kyc(
        self, subscriber_ref: str, decision: str, evidence_sha256: dict[str, str]
    ) -> None:
        sub = self._get(subscriber_ref)
        self._require_active(sub, "submit_kyc")
        if not decision or len(decision) > 30:
            raise ProviderError("sandbox: bad KYC decision", code="bad_request")
        evidence = {str(kind): check_sha256(value, f"evidence {kind}")
                    for kind, value in (evidence_sha256 or {}).items()}
        sub.kyc_status = decision
        documents = dict(sub.documents or {})  # reassign: SQLAlchemy sees the change
        documents["kyc_evidence"] = evidence
        sub.documents = documents
        self.session.flush()

    def register_document(
        self, subscriber_ref: str, kind: str, sha256: str, signed_at: datetime
    ) -> None:
        sub = self._get(subscriber_ref)
        self._require_active(sub, "register_document")
        if not kind or kind == "kyc_evidence":
            raise ProviderError("sandbox: bad document kind", code="bad_request")
        check_sha256(sha256)
        documents = dict(sub.documents or {})
        documents[kind] = {"sha256": sha256, "signed_at": signed_at.isoformat()}
        sub.documents = documents
        self.session.flush()

    def set_pin(self, subscriber_ref: str, pin: str) -> None:
        sub = self._get(subscriber_ref)
        self._require_active(sub, "set_pin")
        if not (isinstance(pin, str) and len(pin) == 6 and pin.isdigit()):
            raise ProviderError("sandbox: the PIN is not 6 digits", code="bad_request")
        # Not flushed: the step still renders its answer before the request commits, and a
        # flush here would hold SQLite's write lock through that (docs/performance.md).
        sub.pin_set_at = self.clock()

    def complete(self, subscriber_ref: str) -> None:
        sub = self._get(subscriber_ref)
        self._require_active(sub, "complete")
        missing = [name for name, value in (("kyc", sub.kyc_status), ("pin", sub.pin_set_at))
                   if value is None]
        if missing:
            raise ProviderError(
                f"sandbox: complete {sub.ref} without {', '.join(missing)}", code="incomplete"
            )
        if sub.completed_at is None:
            # Not flushed, like set_pin: the receipt is rendered before the caller commits.
            sub.completed_at = self.clock()
        log.info("sandbox subscriber %s completed", sub.ref)
