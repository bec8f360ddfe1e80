"""Step 4 «Khởi tạo dịch vụ»: create the subscriber at the SmartCA backend and send its
activation code, once, from data checked again.

The order keeps SQLite's write lock out of the provider calls: the re-check only reads; the
claim (services/claims.py) commits on its own, so nothing is pending while the backend is
called; what the step stores afterwards is committed by the request once it has answered
(services/unit_of_work.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app

from kiosk import providers
from kiosk.core import audit
from kiosk.core.models import Registration, utcnow
from kiosk.domain import registration_rules
from kiosk.providers import ProviderError
from kiosk.services import claims, registrations

STEP = 4


@dataclass(frozen=True)
class Provisioned:
    """The subscriber exists and the first SMS is sent: go on to ``next_step``."""

    next_step: int


@dataclass(frozen=True)
class Refused:
    """Earlier steps no longer hold: (step to fix, message) pairs; nothing was created."""

    problems: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class ProviderFailed:
    """The backend refused or did not answer; the step may be tried again. Vietnamese."""

    message: str


@dataclass(frozen=True)
class Busy:
    """A parallel submit holds the claim (it may already have finished: see web/wizard/lost_race)."""


Outcome = Provisioned | Refused | ProviderFailed | Busy


def revalidate(reg: Registration, today: date | None = None) -> list[tuple[int, str]]:
    """Steps 1–3 checked again from the stored data (domain.registration_rules.revalidate)."""
    return registration_rules.revalidate(
        reg.data, reg.consent_at is not None, reg.package_snapshot,
        today or utcnow().date(), current_app.config["MIN_CUSTOMER_AGE"])


def provision(reg: Registration) -> Outcome:
    problems = revalidate(reg)
    if problems:
        audit.record("provisioning_refused", reg, steps=sorted({s for s, _ in problems}))
        return Refused(tuple(problems))
    # One subscriber, one SMS: parallel submits stop here.
    if not claims.claim(reg, claims.PROVISION):
        return Busy()
    data = reg.data
    backend = providers.registration_backend()
    try:
        subscriber_ref = backend.create_subscriber(
            username=data["id_number"], id_type=data["id_type"], full_name=data["full_name"],
            phone_e164=data["phone"], email=data.get("email"),
            date_of_birth=date.fromisoformat(data["date_of_birth"]),
            package_code=reg.package_snapshot["code"], registration_number=reg.number,
            # Today's address (step 3); the card's text for a registration started before.
            address=data.get("current_address") or data.get("address") or None,
        )
        backend.send_activation(subscriber_ref, data["phone"])
    except ProviderError as err:
        # release() rolls back what the failed call left in the session, frees the claim.
        claims.release(reg, claims.PROVISION)
        current_app.logger.warning("provisioning failed for %s: %s", reg.number, err.detail)
        audit.record("provisioning_failed", reg, detail=err.detail)
        return ProviderFailed(err.message)
    now = utcnow()
    reg.subscriber_ref = subscriber_ref
    reg.provisioned_at = reg.otp_sent_at = now
    reg.otp_sends = 1
    audit.record("service_initialised", reg, subscriber_ref=subscriber_ref)
    claims.mark_done(reg, claims.PROVISION)  # committed with the rest by the request
    return Provisioned(registrations.complete_step(reg, STEP))
