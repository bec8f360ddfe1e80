"""Retention (docs/security.md, "What is kept, why, how long"), and the list of encrypted
columns that key rotation (services/key_rotation.py) walks.

purge: card, face and signature images are sensitive personal data (identity-document images
and biometrics) kept only as long as the registration can still be disputed at the counter.
After RETENTION_DAYS past the registration's end (finished, or last touched when abandoned) the
image rows are deleted; what stays is the audit trail (which holds each image's SHA-256 from
``evidence_captured``), the signed documents with their SHA-256, and the eKYC decision with its
distance and thresholds. Sandbox SMS bodies (activation codes, phone numbers) go too, and the
unsigned text of a document an abandoned registration's customer was reading.

purge does not commit: the command that called it does (``unit_of_work.commit()``), then
:func:`reclaim` pushes the deleted pages out of SQLite's write-ahead log.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import Document, Evidence, Registration, SmsMessage, utcnow
from kiosk.services.paperwork import TEXT_KIND


@dataclass
class PurgeReport:
    registrations: int = 0
    images: int = 0
    sms: int = 0
    unsigned_texts: int = 0
    kinds: dict[str, int] = field(default_factory=dict)


def purge(older_than_days: int, now: datetime | None = None) -> PurgeReport:
    """Delete the images of registrations that ended more than ``older_than_days`` ago."""
    if older_than_days < 0:
        raise ValueError("older_than_days must not be negative")
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    ended = func.coalesce(Registration.finished_at, Registration.updated_at)
    report = PurgeReport()
    regs = db.session.scalars(
        select(Registration).where(ended < cutoff, Registration.evidence.any())).all()
    for reg in regs:
        rows = db.session.execute(
            select(Evidence.kind, Evidence.sha256).where(Evidence.registration_id == reg.id)
            .order_by(Evidence.id)).all()
        kinds: dict[str, int] = {}
        for kind, _ in rows:
            kinds[kind] = kinds.get(kind, 0) + 1
        db.session.execute(delete(Evidence).where(Evidence.registration_id == reg.id))
        reg.images_purged_at = utcnow()
        # The hashes stay in the audit trail: a kept document can still be matched to them.
        audit.record("images_purged", reg, actor="system", kinds=kinds,
                     hashes=[[kind, digest] for kind, digest in rows],
                     retention_days=older_than_days)
        report.registrations += 1
        report.images += sum(kinds.values())
        for kind, count in kinds.items():
            report.kinds[kind] = report.kinds.get(kind, 0) + count
    report.sms = db.session.execute(
        delete(SmsMessage).where(SmsMessage.created_at < cutoff)).rowcount
    # The text a customer was reading and never signed (the registration was abandoned): of no
    # use once it can no longer be resumed or disputed; a signed copy carries its own text.
    report.unsigned_texts = db.session.execute(delete(Document).where(
        Document.kind.in_(tuple(TEXT_KIND.values())),
        Document.registration_id.in_(select(Registration.id).where(ended < cutoff))
    )).rowcount
    db.session.flush()
    return report


def reclaim() -> None:
    """After the purge is committed: on SQLite, push the WAL into the (secure_delete) main file
    so no deleted page lingers in the log. A checkpoint runs outside any transaction (inside
    one it could not copy the pages it still reads), hence a connection of its own."""
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


# Every encrypted column: (table, column). Keep in step with core/models.py.
ENCRYPTED_COLUMNS = (
    ("registration", "personal"),
    ("evidence", "content"),
    # what the vision found in each photo (the card's data), its preview and portrait
    ("evidence", "findings"),
    ("evidence", "preview"),
    ("evidence", "portrait"),
    ("evidence", "reads"),  # the card reads carried with the photo
    ("document", "content"),
    ("sms_message", "to_number"),
    ("sms_message", "body"),
)
