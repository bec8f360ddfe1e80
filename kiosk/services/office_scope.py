"""Who sees which office's customers: the one rule every console read of registrations (and of
what hangs off them: audit events, attestations, SMS) goes through.

- A clerk sees the registrations of their own office only. A clerk without an office sees
  none (the accounts page refuses to make one; an old row is caught here too).
- An administrator sees every office, and may narrow to one with the console's office filter.
- A registration without an office (made before offices, by a kiosk not enrolled in one) is
  shown to administrators only.

A registration reached by number that the clerk may not see is reported as not found (404),
never «forbidden»: a 403 would tell another office's clerk that the number exists.
"""
from __future__ import annotations

from sqlalchemy import false, or_, select

from kiosk.core.models import AuditEvent, Registration, StaffUser


def _admin(staff: StaffUser | None) -> bool:
    return staff is not None and staff.role == "admin"


def office_of(staff: StaffUser | None, office_filter: int | None = None) -> int | None:
    """The one office whose registrations this person is looking at, or None for every office
    (an administrator without a filter)."""
    if _admin(staff):
        return office_filter or None
    return staff.office_id if staff is not None else None


def registration_condition(staff: StaffUser | None, office_filter: int | None = None):
    """A WHERE clause on Registration for what ``staff`` may see (narrowed by the filter)."""
    if staff is None:
        return false()
    if _admin(staff):
        return Registration.office_id == office_filter if office_filter else None
    if staff.office_id is None:
        return false()
    return Registration.office_id == staff.office_id


def visible(query, staff: StaffUser | None, office_filter: int | None = None):
    """``query`` (a select that has Registration in its FROM) narrowed to what ``staff`` may
    see."""
    condition = registration_condition(staff, office_filter)
    return query if condition is None else query.where(condition)


def visible_registration_ids(staff: StaffUser | None, office_filter: int | None = None):
    """A subquery of the ids of the registrations ``staff`` may see (for tables that point at a
    registration: audit events, attestations, SMS)."""
    return visible(select(Registration.id), staff, office_filter)


def visible_events(query, staff: StaffUser | None, office_filter: int | None = None):
    """Audit events narrowed for ``staff``: an administrator sees every event (the filter
    narrows those tied to a registration); a clerk sees the events of their office's
    registrations, and events tied to no registration only when a clerk of their office did
    them (their own sign-ins, their colleagues'), never another office's or the settings."""
    if staff is None:
        return query.where(false())
    if _admin(staff):
        if not office_filter:
            return query
        return query.where(AuditEvent.registration_id.in_(
            visible_registration_ids(staff, office_filter)))
    if staff.office_id is None:
        return query.where(false())
    colleagues = select("staff:" + StaffUser.username).where(
        StaffUser.office_id == staff.office_id)
    return query.where(or_(
        AuditEvent.registration_id.in_(visible_registration_ids(staff)),
        AuditEvent.registration_id.is_(None) & AuditEvent.actor.in_(colleagues)))


def can_see(staff: StaffUser | None, reg: Registration | None) -> bool:
    """One registration, reached by its number: an administrator sees any (the office filter
    narrows lists, not links); a clerk only their own office's."""
    if staff is None or reg is None:
        return False
    if _admin(staff):
        return True
    return staff.office_id is not None and reg.office_id == staff.office_id
