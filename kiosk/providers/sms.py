"""SMS gateway: the sandbox outbox and an HTTP adapter.

Every message, sent or not, is recorded as an ``SmsMessage`` row whose number and text are
encrypted columns (the text holds the activation code). Rows are flushed, not committed:
the caller commits the request's unit of work.
"""
from __future__ import annotations

import logging
import time
from typing import Any

import requests
from sqlalchemy import select

from kiosk.core.models import SmsMessage
from kiosk.providers.base import SMS_MESSAGE, ProviderError, SmsGateway, check_service_url

log = logging.getLogger(__name__)


def _record(session, *, provider, to_e164, text, registration_id, status, provider_ref=None):
    msg = SmsMessage(
        registration_id=registration_id,
        to_number={"e164": to_e164},
        body={"text": text},
        provider=provider,
        status=status,
        provider_ref=provider_ref,
    )
    session.add(msg)
    session.flush()
    return msg


class SandboxSms(SmsGateway):
    """Nobody receives anything: the message goes to the outbox shown on the staff console
    (and, with SANDBOX_SHOW_SMS, on the kiosk screen, labelled as a test)."""

    provider = "sandbox"

    def __init__(self, session):
        self.session = session

    def send(self, to_e164: str, text: str, registration_id: int | None = None) -> SmsMessage:
        msg = _record(
            self.session,
            provider=self.provider,
            to_e164=to_e164,
            text=text,
            registration_id=registration_id,
            status="sandbox",
        )
        log.info("sandbox SMS #%s recorded (registration %s)", msg.id, registration_id)
        return msg


class HttpSms(SmsGateway):
    """SMS through an HTTP gateway (e.g. a brandname SMS provider behind a small proxy).

    Wire format::

        POST <url>
        Authorization: Bearer <token>
        Content-Type: application/json
        {"to": "+84912345678", "text": "...", "sender": "VNPT"}

        2xx  {"id": "<provider message id>"}     (also accepted: "message_id")
        else failure; the body is not logged (it may echo the text)

    No automatic retry: a POST that timed out may still have been delivered, and the kiosk
    has its own resend button with a cooldown.
    """

    provider = "http"

    def __init__(
        self,
        url: str,
        token: str,
        sender: str,
        session,
        *,
        timeout: float = 10,
        http: requests.Session | None = None,
    ):
        self.url = check_service_url(url, "SMS_GATEWAY_URL")
        self._token = token
        self.sender = sender
        self.session = session
        self.timeout = timeout
        self._http = http or requests.Session()
        self._owns_http = http is None

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def send(self, to_e164: str, text: str, registration_id: int | None = None) -> SmsMessage:
        started = time.monotonic()
        try:
            response = self._http.post(
                self.url,
                json={"to": to_e164, "text": text, "sender": self.sender},
                headers={
                    "Authorization": f"Bearer {self._token}",
                    "Accept": "application/json",
                    "User-Agent": "smartca-kiosk",
                },
                timeout=self.timeout,
            )
        except requests.Timeout as exc:
            self._fail(to_e164, text, registration_id)
            raise ProviderError(
                f"SMS gateway timed out after {self.timeout}s", SMS_MESSAGE, "timeout"
            ) from exc
        except requests.RequestException as exc:
            self._fail(to_e164, text, registration_id)
            raise ProviderError(
                f"SMS gateway unreachable: {type(exc).__name__}", SMS_MESSAGE, "unreachable"
            ) from exc
        elapsed_ms = int((time.monotonic() - started) * 1000)

        if not 200 <= response.status_code < 300:
            self._fail(to_e164, text, registration_id)
            log.warning("SMS gateway answered %s in %d ms", response.status_code, elapsed_ms)
            raise ProviderError(
                f"SMS gateway answered HTTP {response.status_code}",
                SMS_MESSAGE,
                f"http_{response.status_code}",
            )
        provider_ref = _message_id(response)
        msg = _record(
            self.session,
            provider=self.provider,
            to_e164=to_e164,
            text=text,
            registration_id=registration_id,
            status="sent",
            provider_ref=provider_ref,
        )
        log.info("SMS #%s sent (ref %s) in %d ms", msg.id, provider_ref, elapsed_ms)
        return msg

    def _fail(self, to_e164, text, registration_id) -> None:
        _record(
            self.session,
            provider=self.provider,
            to_e164=to_e164,
            text=text,
            registration_id=registration_id,
            status="failed",
        )


def _message_id(response) -> str | None:
    try:
        data: Any = response.json()
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    value = data.get("id") or data.get("message_id")
    return None if value is None else str(value)[:100]


def latest_sandbox_message(session, registration_id: int) -> SmsMessage | None:
    """The last sandbox SMS of a registration (the kiosk shows it in the test environment)."""
    return session.execute(
        select(SmsMessage)
        .where(SmsMessage.registration_id == registration_id, SmsMessage.provider == "sandbox")
        .order_by(SmsMessage.created_at.desc(), SmsMessage.id.desc())
        .limit(1)
    ).scalar_one_or_none()
