"""Database models. Personal data and biometrics are encrypted columns (see encrypted_types)."""
from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kiosk.core.encrypted_types import EncryptedBytes, EncryptedJSON
from kiosk.core.extensions import db
from kiosk.domain import flow


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_token() -> str:
    return secrets.token_urlsafe(24)


class UTCDateTime(db.TypeDecorator):
    """SQLite drops tzinfo; store UTC and hand back aware datetimes on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class Office(db.Model):
    """A VNPT office (a counter with its clerks and kiosks). One deployment serves the
    province's offices: each owns its kiosks, clerks and registrations, and prints its own
    contact details on the receipt."""

    id: Mapped[int] = mapped_column(primary_key=True)
    # Short slug (tp-thanh-hoa, sam-son) for filters, metrics labels and the CLI.
    code: Mapped[str | None] = mapped_column(String(50), unique=True, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    phone: Mapped[str] = mapped_column(String(50))
    hotline: Mapped[str] = mapped_column(String(50))
    email: Mapped[str] = mapped_column(String(200))
    website: Mapped[str] = mapped_column(String(200), default="smartca.vnpt.vn")
    app_store_url: Mapped[str] = mapped_column(String(500))
    play_store_url: Mapped[str] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ServicePackage(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    duration_months: Mapped[int] = mapped_column(Integer)
    price_vnd: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Seeded prices are examples until a staff member edits them; the screen says so.
    is_sample: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    # Why the package went off sale when no clerk did it: the 0007 migration took packages
    # longer than the decree's 36 months off sale (domain.certificate.RETIRED_TOO_LONG); the
    # settings page says so beside the package. Cleared when the package is saved again.
    retired_reason: Mapped[str | None] = mapped_column(String(50), nullable=True)


class StaffUser(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="clerk")  # clerk | admin
    # The office a clerk works for: the board, queue, search and reports show its customers
    # only. An admin without an office sees every office (with a filter).
    office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id"), nullable=True,
                                                  index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # No failure counter or lock per account: one would let whoever stands at a kiosk lock a
    # clerk out. Failed sign-ins are throttled per source (LoginThrottle).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of the Flask-Login id kept in the session cookie: a new value (logout, password
    # change, reset, disable) makes every cookie issued before it worthless, server-side.
    session_nonce: Mapped[str] = mapped_column(String(64), default=new_token)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    # Flask-Login's user protocol.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def actor(self) -> str:
        return f"staff:{self.username}"


class LoginThrottle(db.Model):
    """Failed sign-ins counted per source (console client address, kiosk form), never per
    account: whoever stands at a kiosk can only lock that kiosk's form, not a clerk."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Kiosk(db.Model):
    """A counter kiosk known to the console (Registration.kiosk_id = Kiosk.code).

    A kiosk PC is enrolled from the console with a one-time code; its browser then keeps a
    device credential (a long random token in a cookie). Only the token's keyed digest is
    stored, so the database alone cannot impersonate a kiosk. Revoking clears it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id"), nullable=True,
                                                  index=True)
    # Loaded with the kiosk by the device look-up that starts every kiosk request (one round
    # trip: most screens show the office's contact).
    office: Mapped[Office | None] = relationship()
    # One-time enrollment code (keyed digest) and until when it is good.
    enrollment_code_digest: Mapped[str | None] = mapped_column(String(64), nullable=True,
                                                               unique=True, index=True)
    enrollment_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The enrolled browser's device token (keyed digest); None = not enrolled or revoked.
    device_token_digest: Mapped[str | None] = mapped_column(String(64), nullable=True,
                                                            unique=True, index=True)
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # What the kiosk last reported of itself (camera, screen; the reader as the server sees
    # it), and when; written only by its state report.
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    device_state: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # The last receipt's print ("print": ok | error, "print_at"); written only when the server
    # prints. A column of its own: two writers of one JSON value lose each other's keys.
    print_state: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # "" = the app's PRINTER setting; else browser | cups | file
    printer: Mapped[str] = mapped_column(String(20), default="")
    printer_queue: Mapped[str | None] = mapped_column(String(100), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Registration(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    # Opaque token in URLs; the numeric id never leaves the server.
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    kiosk_id: Mapped[str] = mapped_column(String(50), default="")
    # The office whose kiosk started it (or whose clerk resumed it): whose board shows it.
    office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id"), nullable=True,
                                                  index=True)
    status: Mapped[str] = mapped_column(String(20), default="in_progress")
    current_step: Mapped[int] = mapped_column(Integer, default=flow.FIRST_STEP)
    furthest_step: Mapped[int] = mapped_column(Integer, default=flow.FIRST_STEP)
    sandbox: Mapped[bool] = mapped_column(Boolean, default=True)

    # Step 1–3 personal data: one encrypted JSON document (id_type, id_number, phone,
    # full_name, date_of_birth, gender, address, issue_date, email).
    personal: Mapped[dict | None] = mapped_column(EncryptedJSON, nullable=True)
    # Keyed digest of the ID number: lets staff find a registration without clear text.
    id_digest: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    consent_version: Mapped[str | None] = mapped_column(String(20), nullable=True)

    package_id: Mapped[int | None] = mapped_column(ForeignKey("service_package.id"))
    # Name/duration/price as chosen: the catalogue may change later.
    package_snapshot: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    subscriber_ref: Mapped[str | None] = mapped_column(String(100), nullable=True)
    provisioned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    otp_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    otp_sends: Mapped[int] = mapped_column(Integer, default=0)
    otp_failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    otp_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    # The password (step 5) and the signing PIN (step 8) go to the SmartCA backend and are
    # forgotten: only when each was set is kept (a 6-digit PIN hash falls to an offline search).
    password_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    pin_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    kyc_decision: Mapped[str | None] = mapped_column(String(30), nullable=True)
    face_distance: Mapped[float | None] = mapped_column(Float, nullable=True)
    face_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The random order of liveness actions asked of this customer (e.g. ["turn_left", "blink"]).
    liveness_challenge: Mapped[list | None] = mapped_column(JSON, nullable=True)
    liveness_passed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    kyc_decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    kyc_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    # Set while the registration waits for a clerk (kiosk "Gọi nhân viên" or an unsure machine);
    # the staff console's queue lists these; cleared when a clerk has handled it.
    help_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True,
                                                               index=True)
    help_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # A clerk's one-time code to continue this registration on a kiosk (keyed digest), and
    # until when it is good.
    resume_code_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    resume_code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    # Retention (services/retention.py): when card/face/signature images were deleted.
    images_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    package: Mapped[ServicePackage | None] = relationship()
    evidence: Mapped[list[Evidence]] = relationship(back_populates="registration")
    documents: Mapped[list[Document]] = relationship(back_populates="registration")

    @property
    def finished(self) -> bool:
        return self.status == "finished"

    @property
    def data(self) -> dict:
        return dict(self.personal or {})

    def update_personal(self, **values) -> None:
        # Reassign (not mutate) so SQLAlchemy sees the change and re-encrypts.
        merged = self.data
        merged.update(values)
        self.personal = merged


class Evidence(db.Model):
    """Photos and signature images, encrypted (AES-GCM) in the database."""

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # card_front, card_back, face, signature_*
    mime_type: Mapped[str] = mapped_column(String(50))
    content: Mapped[bytes] = mapped_column(EncryptedBytes)
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(20), default="camera")  # camera | upload | pad
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the vision found in this photo, computed once when it was taken (the card read,
    # the portrait box, the face and its embedding): the console and later decisions reuse
    # it instead of decoding the photo again. Encrypted: it holds the card's data.
    findings: Mapped[dict | None] = mapped_column(EncryptedJSON, nullable=True)
    # A downscaled JPEG for the console's pages, and the card portrait cut out (card fronts).
    preview: Mapped[bytes | None] = mapped_column(EncryptedBytes, nullable=True)
    portrait: Mapped[bytes | None] = mapped_column(EncryptedBytes, nullable=True)
    # The card reads made of this photo (vision/carried_reads): the later jobs that take the
    # photo take them along, so whichever process runs them does not read the card again.
    # Encrypted: a front's read holds its portrait.
    # Loaded only where the photo goes to a vision job (services/evidence.latest_captures).
    reads: Mapped[bytes | None] = mapped_column(EncryptedBytes, nullable=True, deferred=True)

    registration: Mapped[Registration] = relationship(back_populates="evidence")


class Document(db.Model):
    """Generated PDFs (contract, acceptance record, receipt), encrypted, with their SHA-256."""

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # contract | acceptance | receipt
    content: Mapped[bytes] = mapped_column(EncryptedBytes)
    sha256: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    registration: Mapped[Registration] = relationship(back_populates="documents")


class ActionClaim(db.Model):
    """A one-time action of a registration (provision, sign, set the PIN …) claimed by one request.

    The row is inserted and committed BEFORE the slow or provider work: a parallel request for
    the same action hits the unique constraint and does nothing (services/claims.py).
    """

    __table_args__ = (db.UniqueConstraint("registration_id", "action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"))
    action: Mapped[str] = mapped_column(String(40))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SmsMessage(db.Model):
    """Outbox of the SMS provider. The body holds the activation code: encrypted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id"))
    to_number: Mapped[dict] = mapped_column(EncryptedJSON)
    body: Mapped[dict] = mapped_column(EncryptedJSON)
    provider: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    provider_ref: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SandboxSubscriber(db.Model):
    """The sandbox SmartCA backend's own records (the real backend keeps these at VNPT)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(100), unique=True)
    username_digest: Mapped[str] = mapped_column(String(64))
    package_code: Mapped[str] = mapped_column(String(50))
    activation_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    activation_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    kyc_status: Mapped[str | None] = mapped_column(String(30), nullable=True)
    documents: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    pin_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEvent(db.Model):
    """Who did what and when. Never holds secrets (password, PIN, OTP) or raw images."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id"), index=True)
    actor: Mapped[str] = mapped_column(String(80))  # customer | staff:<username> | system
    event: Mapped[str] = mapped_column(String(60))
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class IdentityAttestation(db.Model):
    """A clerk's «Đã xem bản gốc giấy tờ» for one registration: the provider checked the
    original identity document (Decree 23/2025/NĐ-CP: the provider checks an applicant's
    documents). One per registration; never purged (it holds no image), so the identity
    evidence record it completes lasts as long as the signed documents."""

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), unique=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    attested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # "board": after an automatic decision, from the board (one by one or in bulk);
    # "review": with the clerk's own approval of the photos.
    how: Mapped[str] = mapped_column(String(20))

    staff_user: Mapped[StaffUser] = relationship()
