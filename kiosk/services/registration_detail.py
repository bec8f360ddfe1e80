"""One registration as a clerk sees it in the console: its facts, trail and documents, and the
pictures and PDFs opened on request.

Lists show personal numbers masked (services/board); opening a registration's page, its
pictures or one of its documents shows them in full, so each opening is audited with the clerk
who did it. Nothing here commits: the request does (services/unit_of_work).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import defer

from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Document, Evidence, Registration, StaffUser
from kiosk.domain.face_decision import FaceThresholds
from kiosk.services import counter_actions, ekyc, review, rows


@dataclass
class Detail:
    events: list[AuditEvent]  # the registration's trail, oldest first
    documents: list[Document]  # listed without their (encrypted) content
    face_match: dict  # the latest automatic or clerk decision's details ({} before step 6)
    liveness: dict  # the latest liveness check's details ({} when none)
    otp_locked: bool
    in_review: bool  # a clerk must look at the photos (the kiosk waits)
    thresholds: FaceThresholds


def detail(reg: Registration) -> Detail:
    """What the detail page and its actions panel show (reads only)."""
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.registration_id == reg.id)
                                     .order_by(AuditEvent.id)))
    # The list shows kind, time and hash; the PDF is read and decrypted only when opened.
    documents = list(db.session.scalars(select(Document).where(Document.registration_id == reg.id)
                                        .options(defer(Document.content)).order_by(Document.id)))
    return Detail(events=events, documents=documents, face_match=ekyc.latest_face_match(reg),
                  liveness=audit.latest(reg, "liveness_checked"),
                  otp_locked=counter_actions.otp_locked(reg), in_review=review.needs_clerk(reg),
                  thresholds=ekyc.thresholds())


def opened(reg: Registration, clerk: StaffUser) -> None:
    """The clerk opened the registration's page (its ID number and phone shown in full)."""
    audit.record("staff_viewed_registration", reg, actor=clerk.actor)


def photos(reg: Registration, clerk: StaffUser) -> list[Evidence]:
    """Every picture of the registration, for the clerk who asked to see them (audited).
    The pictures themselves are decrypted when each is fetched, not to list them."""
    found = list(db.session.scalars(select(Evidence).where(Evidence.registration_id == reg.id)
                                    .options(defer(Evidence.content)).order_by(Evidence.id)))
    audit.record("staff_viewed_photos", reg, actor=clerk.actor)
    return found


def open_document(reg: Registration, clerk: StaffUser, document_id: int) -> Document | None:
    """One of this registration's documents, opened by the clerk (audited); None when the id
    names nothing of this registration (another registration's document included)."""
    doc = rows.get(Document, document_id)
    if doc is None or doc.registration_id != reg.id:
        return None
    audit.record("staff_opened_document", reg, actor=clerk.actor, kind=doc.kind, document=doc.id)
    return doc
