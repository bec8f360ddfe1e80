"""Evidence photos (card front, card back, face): stored encrypted, one row per capture."""
from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import defer, undefer

from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import Evidence, Registration
from kiosk.domain.kyc import REQUIRED_CAPTURES


def store(reg: Registration, kind: str, data: bytes, mime: str, source: str, *,
          findings: dict | None = None, preview: bytes | None = None,
          portrait: bytes | None = None, reads: bytes | None = None) -> Evidence:
    """Add one photo (flushed for its id, not committed: the request commits it with the step's
    other changes), with what the vision found in it when it was taken (services/photo_findings:
    the console and later decisions reuse them, never decoding the photo again) and the card
    reads made of it (vision/carried_reads: the later jobs that take the photo take them)."""
    evidence = Evidence(registration_id=reg.id, kind=kind, mime_type=mime, content=data,
                        sha256=hashlib.sha256(data).hexdigest(), source=source,
                        findings=findings, preview=preview, portrait=portrait, reads=reads)
    db.session.add(evidence)
    db.session.flush()
    audit.record("evidence_captured", reg, kind=kind, source=source, sha256=evidence.sha256)
    return evidence


def latest_captures(reg: Registration, with_content: bool = False) -> dict[str, Evidence]:
    """The newest photo of each kind (a retake replaces the earlier one).

    Without ``with_content`` the photos' bytes are left in the database until something reads
    them: the screens list kinds, ids and hashes, and on PostgreSQL every row's encrypted
    picture (a few hundred kB) crossed the wire and was decrypted only to be dropped. The
    card reads stored with the photos come with the bytes: the jobs that take one take both."""
    query = (select(Evidence).where(Evidence.registration_id == reg.id,
                                    Evidence.kind.in_(REQUIRED_CAPTURES))
             .order_by(Evidence.id))
    # the preview and the portrait are read when a page asks for them (their own routes)
    query = query.options(defer(Evidence.preview), defer(Evidence.portrait))
    if not with_content:
        query = query.options(defer(Evidence.content))
    else:
        query = query.options(undefer(Evidence.reads))
    return {row.kind: row for row in db.session.scalars(query)}


def find(reg: Registration, evidence_id: int, *, with_content: bool = True) -> Evidence | None:
    """One of this registration's photos, or None (another registration's id finds nothing).
    ``with_content=False``: the photo's own bytes (and its portrait) stay in the database until
    something reads them (a page that shows the stored preview needs only that)."""
    options = [] if with_content else [defer(Evidence.content), defer(Evidence.portrait)]
    row = db.session.get(Evidence, evidence_id, options=options)
    if row is None or row.registration_id != reg.id or row.kind not in REQUIRED_CAPTURES:
        return None
    return row
