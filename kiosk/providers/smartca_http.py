"""HTTP adapter for a SmartCA registration backend.

VNPT publishes no API for SmartCA *registration* (its partner API covers certificates and
signing only), so this docstring is the adapter contract: a VNPT-side service, or a small
integration proxy in front of whatever VNPT provides, implements these endpoints.

Transport
    HTTPS only (plain HTTP is accepted to localhost, for a local proxy or tests). JSON
    bodies (UTF-8). Every request carries ``Authorization: Bearer <token>`` and
    ``Accept: application/json``.

Idempotency
    Every call except ``activation/verify`` carries ``Idempotency-Key``. A retry of the same
    call sends the same key; the server must answer a repeated key with the original result
    and must not act twice (send a second SMS, create a second subscriber …).

    =========================  ==================================================
    operation                  Idempotency-Key
    =========================  ==================================================
    create subscriber          ``<registration_number>:create``
    send activation code       ``<subscriber_ref>:activation:<random>`` (a resend is new)
    set password / PIN         ``<subscriber_ref>:password|pin:<random>``
    KYC / document             ``<subscriber_ref>:kyc|document:<sha256 of the body, 16 hex>``
    complete                   ``<subscriber_ref>:complete``
    =========================  ==================================================

Endpoints (``{ref}`` is URL-encoded)
    ``POST {base}/subscribers``
        ``{"registration_number", "username", "id_type": "cccd"|"cmnd"|"passport",
        "full_name", "phone": "+84…", "email": str|null, "date_of_birth": "YYYY-MM-DD",
        "package_code"}`` → 200/201 ``{"subscriber_ref": str}``
    ``POST {base}/subscribers/{ref}/activation``
        ``{"phone": "+84…"}`` → 2xx. The backend generates a 6-digit code, valid for a few
        minutes, replacing any earlier code, and sends it by SMS itself.
    ``POST {base}/subscribers/{ref}/activation/verify``
        ``{"code": "123456"}`` → 200 ``{"result": "ok"|"wrong"|"expired"|"no_code"}``.
        Never retried (a lost answer must not count twice); a correct code is used up.
    ``PUT {base}/subscribers/{ref}/password``   ``{"password": str}`` → 2xx
    ``POST {base}/subscribers/{ref}/kyc``
        ``{"decision": str, "evidence_sha256": {"card_front": hex, …}}`` → 2xx
    ``POST {base}/subscribers/{ref}/documents``
        ``{"kind": "contract"|"acceptance", "sha256": hex, "signed_at": ISO-8601}`` → 2xx
    ``PUT {base}/subscribers/{ref}/pin``        ``{"pin": "6 digits"}`` → 2xx
    ``POST {base}/subscribers/{ref}/complete``  ``{}`` → 2xx

Errors
    Non-2xx answers may carry ``{"error": "<short code>"}``; the code goes into
    ``ProviderError.detail`` and ``.code``. 5xx and connection failures are retried (at most
    twice, with backoff) for every call except verify; 4xx are not retried. A read timeout
    is not retried (the kiosk customer is waiting); it raises ``ProviderError``.

Secrets
    The password, PIN and activation code travel only in request bodies over HTTPS. They
    are never logged, never put in URLs or headers, and never copied into error details.
"""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import requests

from kiosk.providers.base import ProviderError, RegistrationBackend, VerifyResult, check_service_url

log = logging.getLogger(__name__)

MAX_RETRIES = 2
_RESULTS = {r.value: r for r in VerifyResult}


def _body_key(body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class HttpRegistrationBackend(RegistrationBackend):
    sandbox = False

    def __init__(
        self,
        base_url: str,
        token: str,
        timeout: float = 10,
        session: requests.Session | None = None,
        *,
        backoff: float = 0.5,
        max_retries: int = MAX_RETRIES,
    ):
        self.base_url = check_service_url(base_url, "SMARTCA_BACKEND_URL")
        if not token:
            raise ValueError("SMARTCA_BACKEND_TOKEN is empty")
        self._token = token
        self.timeout = timeout
        self.backoff = backoff
        self.max_retries = max_retries
        self._http = session or requests.Session()
        self._owns_http = session is None

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    # -- transport ---------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        body: dict,
        *,
        idempotency_key: str | None,
        operation: str,
        secret: str | None = None,
    ) -> Any:
        """Send one call (with retries if it is idempotent); return the decoded JSON or None.

        Log lines and error details name the method, path and status only: bodies may hold
        a password, PIN or activation code.
        """
        url = self.base_url + path
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json",
            "User-Agent": "smartca-kiosk",
        }
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        retries = self.max_retries if idempotency_key else 0
        where = f"{method} {path}"

        for attempt in range(retries + 1):
            if attempt:
                time.sleep(self.backoff * (2 ** (attempt - 1)))
            started = time.monotonic()
            try:
                response = self._http.request(
                    method, url, json=body, headers=headers, timeout=self.timeout
                )
            except requests.ConnectionError as exc:
                # Includes ConnectTimeout: nothing reached the server, retrying is safe.
                log.warning("%s: connection failed (%s), attempt %d",
                            where, type(exc).__name__, attempt + 1)
                if attempt < retries:
                    continue
                raise ProviderError(
                    f"{where}: SmartCA backend unreachable ({type(exc).__name__})",
                    code="unreachable",
                ) from exc
            except requests.Timeout as exc:
                raise ProviderError(
                    f"{where}: no answer from the SmartCA backend within {self.timeout}s",
                    code="timeout",
                ) from exc
            except requests.RequestException as exc:
                raise ProviderError(
                    f"{where}: request failed ({type(exc).__name__})", code="request_failed"
                ) from exc

            elapsed_ms = int((time.monotonic() - started) * 1000)
            status = response.status_code
            log.info("%s -> %s in %d ms (attempt %d)", where, status, elapsed_ms, attempt + 1)
            if 500 <= status < 600 and attempt < retries:
                continue
            if not 200 <= status < 300:
                code = _error_code(response)
                if code and secret and secret in code:
                    code = None  # a server that echoes the secret back does not get logged
                detail = f"{where} ({operation}) answered HTTP {status}"
                if code:
                    detail += f" [{code}]"
                raise ProviderError(detail, code=code or f"http_{status}")
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:
                raise ProviderError(f"{where}: answer is not JSON", code="bad_response") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _sub(ref: str, suffix: str = "") -> str:
        if not ref:
            raise ProviderError("empty subscriber reference", code="bad_request")
        return f"/subscribers/{quote(ref, safe='')}{suffix}"

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
        body = {
            "registration_number": registration_number,
            "username": username,
            "id_type": id_type,
            "full_name": full_name,
            "phone": phone_e164,
            "email": email,
            "date_of_birth": date_of_birth.isoformat(),
            "package_code": package_code,
        }
        if address:
            # Today's address (docs/addresses.md); left out rather than sent empty.
            body["address"] = address
        data = self._call("POST", "/subscribers", body,
                          idempotency_key=f"{registration_number}:create", operation="create")
        ref = data.get("subscriber_ref") if isinstance(data, dict) else None
        if not isinstance(ref, str) or not ref or len(ref) > 100:
            raise ProviderError("POST /subscribers: answer has no valid subscriber_ref",
                                code="bad_response")
        return ref

    def send_activation(self, subscriber_ref: str, phone_e164: str) -> None:
        self._call("POST", self._sub(subscriber_ref, "/activation"), {"phone": phone_e164},
                   idempotency_key=f"{subscriber_ref}:activation:{secrets.token_hex(8)}",
                   operation="send_activation")

    def verify_activation(self, subscriber_ref: str, code: str) -> VerifyResult:
        data = self._call("POST", self._sub(subscriber_ref, "/activation/verify"),
                          {"code": code}, idempotency_key=None, operation="verify_activation",
                          secret=code)
        result = data.get("result") if isinstance(data, dict) else None
        if result not in _RESULTS:
            raise ProviderError("activation/verify: unexpected result", code="bad_response")
        return _RESULTS[result]

    def set_password(self, subscriber_ref: str, password: str) -> None:
        self._call("PUT", self._sub(subscriber_ref, "/password"), {"password": password},
                   idempotency_key=f"{subscriber_ref}:password:{secrets.token_hex(8)}",
                   operation="set_password", secret=password)

    def submit_kyc(
        self, subscriber_ref: str, decision: str, evidence_sha256: dict[str, str]
    ) -> None:
        body = {"decision": decision, "evidence_sha256": dict(evidence_sha256)}
        self._call("POST", self._sub(subscriber_ref, "/kyc"), body,
                   idempotency_key=f"{subscriber_ref}:kyc:{_body_key(body)}",
                   operation="submit_kyc")

    def register_document(
        self, subscriber_ref: str, kind: str, sha256: str, signed_at: datetime
    ) -> None:
        body = {"kind": kind, "sha256": sha256, "signed_at": signed_at.isoformat()}
        self._call("POST", self._sub(subscriber_ref, "/documents"), body,
                   idempotency_key=f"{subscriber_ref}:document:{_body_key(body)}",
                   operation="register_document")

    def set_pin(self, subscriber_ref: str, pin: str) -> None:
        self._call("PUT", self._sub(subscriber_ref, "/pin"), {"pin": pin},
                   idempotency_key=f"{subscriber_ref}:pin:{secrets.token_hex(8)}",
                   operation="set_pin", secret=pin)

    def complete(self, subscriber_ref: str) -> None:
        self._call("POST", self._sub(subscriber_ref, "/complete"), {},
                   idempotency_key=f"{subscriber_ref}:complete", operation="complete")


def _error_code(response) -> str | None:
    """The server's short error code, if any (never the rest of the body: it may echo input)."""
    try:
        data = response.json()
    except ValueError:
        return None
    code = data.get("error") if isinstance(data, dict) else None
    if not isinstance(code, str):
        return None
    cleaned = "".join(ch for ch in code if ch.isalnum() or ch in "_-.")[:60]
    return cleaned or None
