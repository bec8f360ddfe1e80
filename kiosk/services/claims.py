"""One-time actions and counters that hold under parallel requests.

A double tap, a retried request or an attacker's 20 parallel posts all pass the step's checks
at the same moment (each request read the same row). What makes an action happen once is the
database, not Python:

- :func:`claim` inserts an ``action_claim`` row and COMMITS it before the slow or provider work
  (creating the subscriber, sending the PIN, rendering and registering a PDF, printing). The
  unique (registration, action) constraint lets exactly one request through; the others get
  False and show "being processed" (or the next step once the first has finished).
- :func:`take_resend` is one conditional UPDATE: the resend limit and the cooldown are in its
  WHERE clause, so the counter cannot lose updates.
- :func:`reserve_otp_attempt` takes one of the activation code's tries the same way, *before*
  the code is checked: 20 parallel guesses cannot slip past the limit of 5 (a read-modify-write
  in Python would let each of them read "4 left").

Why these commit early when every other service only flushes (services/unit_of_work.py): the
commit *is* the guard — the row or the count must be visible to the parallel request now, not
when this one ends — and it leaves no write pending (so no SQLite write lock held) over the slow
provider call that follows. The give-backs (:func:`release`, :func:`give_back_resend`,
:func:`give_back_otp_attempt`) commit for the same reason: a try or a claim that was not used is
free again at once. Nothing else here commits.

A claim whose request died (kill -9 between claim and commit) would block the action forever;
one older than :data:`STALE_AFTER_SECONDS` and not done may be taken over.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from kiosk.core.extensions import db
from kiosk.core.models import ActionClaim, Registration, utcnow

STALE_AFTER_SECONDS = 120  # provider timeouts are 10 s by default; a PDF renders in seconds

PROVISION = "provision"
SIGN_CONTRACT = "sign_contract"
SET_PIN = "set_pin"
SIGN_ACCEPTANCE = "sign_acceptance"


def claim(reg: Registration, action: str) -> bool:
    """Take ``action`` for this request (committed at once). False: another request has it."""
    reg_id = reg.id
    db.session.add(ActionClaim(registration_id=reg_id, action=action, claimed_at=utcnow()))
    try:
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
    stale = utcnow() - timedelta(seconds=STALE_AFTER_SECONDS)
    taken = db.session.execute(
        update(ActionClaim)
        .where(ActionClaim.registration_id == reg_id, ActionClaim.action == action,
               ActionClaim.done_at.is_(None), ActionClaim.claimed_at < stale)
        .values(claimed_at=utcnow())
    ).rowcount
    db.session.commit()
    return taken == 1


def release(reg: Registration, action: str) -> None:
    """The action failed (provider refused, bad input found late): it may be tried again."""
    db.session.rollback()
    db.session.execute(delete(ActionClaim).where(
        ActionClaim.registration_id == reg.id, ActionClaim.action == action,
        ActionClaim.done_at.is_(None)))
    db.session.commit()


def mark_done(reg: Registration, action: str) -> None:
    """Part of the caller's unit of work: committed together with the step's result."""
    # No ORM synchronisation: no ActionClaim row is kept in the session (claim() commits its
    # new row and nothing reads one back), so evaluating the WHERE against it is wasted work.
    db.session.execute(update(ActionClaim).where(
        ActionClaim.registration_id == reg.id, ActionClaim.action == action
    ).values(done_at=utcnow()).execution_options(synchronize_session=False))


def is_done(reg: Registration, action: str) -> bool:
    return db.session.scalar(select(ActionClaim.done_at).where(
        ActionClaim.registration_id == reg.id, ActionClaim.action == action)) is not None


def take_resend(reg: Registration, max_resends: int, cooldown_seconds: int,
                now: datetime | None = None) -> bool:
    """Count one more activation SMS, if the limit and the cooldown allow it (atomic, committed).

    ``otp_sends`` counts every SMS, the first one of step 4 included: ``max_resends`` more may
    follow it.
    """
    now = now or utcnow()
    ready = now - timedelta(seconds=cooldown_seconds)
    sends = db.session.execute(
        update(Registration)
        .where(Registration.id == reg.id,
               Registration.otp_verified_at.is_(None),
               Registration.otp_sends < 1 + max_resends,
               (Registration.otp_sent_at.is_(None)) | (Registration.otp_sent_at <= ready))
        .values(otp_sends=Registration.otp_sends + 1, otp_sent_at=now)
        .returning(Registration.otp_sends)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    db.session.commit()
    if sends is None:
        # Refused: a parallel request sent one. Read what it stored, so the message says the
        # true wait or that no resend is left (reg holds what this request read before).
        db.session.refresh(reg, ["otp_sends", "otp_sent_at"])
        return False
    _seen(reg, "otp_sends", sends)
    _seen(reg, "otp_sent_at", now)
    return True


def give_back_resend(reg: Registration) -> None:
    """The SMS could not be sent: it does not count against the limit (the cooldown stays)."""
    db.session.rollback()
    _count(reg, Registration.otp_sends, -1, Registration.otp_sends > 0)


def reserve_otp_attempt(reg: Registration, max_attempts: int) -> int | None:
    """Take one of the ``max_attempts`` tries at the activation code (atomic, committed) before
    the code is checked: the tries used, this one included; None when none was left. The caller
    gives it back when the check turns out not to be a guess (right or expired code, provider
    down).

    The count comes back from the UPDATE itself (RETURNING), not from ``reg``: the session does
    not expire objects on commit, so ``reg`` still holds what this request read before parallel
    guesses counted theirs; and exactly one request sees the last try go.
    """
    used = _count(reg, Registration.otp_failed_attempts, +1,
                  Registration.otp_failed_attempts < max_attempts)
    if used is None:
        _seen(reg, "otp_failed_attempts", max_attempts)
    return used


def give_back_otp_attempt(reg: Registration) -> None:
    """The try reserved by :func:`reserve_otp_attempt` was not a wrong guess: it does not count.

    No rollback first (unlike :func:`release`): what the provider's check wrote (the sandbox
    marks its code used) belongs to the outcome and is committed with the try given back.
    """
    _count(reg, Registration.otp_failed_attempts, -1, Registration.otp_failed_attempts > 0)


def _count(reg: Registration, column, delta: int, guard) -> int | None:
    """Move one counter of ``reg`` by ``delta`` where ``guard`` holds, in one conditional UPDATE,
    committed at once; the new value as the database has it (None: the guard refused), also put
    into ``reg``."""
    value = db.session.execute(
        update(Registration)
        .where(Registration.id == reg.id, guard)
        .values({column.key: column + delta})
        .returning(column)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    db.session.commit()
    if value is not None:
        _seen(reg, column.key, value)
    return value


def _seen(reg: Registration, name: str, value) -> None:
    """Put what the database just said into ``reg`` as its stored value (not a change to write
    back: an assignment would later overwrite the parallel requests' counts)."""
    set_committed_value(reg, name, value)


def refresh_after_race(reg: Registration) -> None:
    """A parallel request finished ``reg``'s one-time action after this one read the row: read
    it again, so what this request shows next is what the winner stored."""
    db.session.refresh(reg)
