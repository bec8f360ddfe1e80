"""The identity evidence record of a registration: how the identity was read, the photos'
SHA-256, the face comparison with its thresholds, the liveness check, the decision and who made
it, and the clerk's attestation «Đã xem bản gốc giấy tờ».

Decree 23/2025/NĐ-CP asks the provider to check an applicant's documents; where the original is
shown, the provider certifies the copy. At the kiosk the machine may decide alone, so the clerk
on duty attests afterwards (the board lists today's automatic decisions not yet attested, and
takes them in bulk), or with the approval of a reviewed case.

Everything here is read from rows never purged (the registration, the audit trail, the
attestation): after the retention purge deletes the images, their hashes come from the
``images_purged`` audit row, so the record lasts as long as the signed documents.
Writes flush; the request commits (services/unit_of_work).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import Evidence, IdentityAttestation, Registration, StaffUser, utcnow
from kiosk.domain.kyc import CAPTURE_LABELS, Decision
from kiosk.domain.local_time import LOCAL_TZ, local_time
from kiosk.services import office_scope

ATTESTATION_TEXT = "Đã xem bản gốc giấy tờ"

READ_METHODS = {
    "chip": "Đọc chip trên thẻ",
    "qr": "Mã QR trên thẻ",
    "qr_preview": "Mã QR trên thẻ (đọc ở khung xem trước)",
    "mrz": "Vùng đọc máy (MRZ)",
    "ocr": "Số in trên thẻ (máy đọc chữ)",
    "typed": "Khách tự gõ số",
}
PA_LEVELS = {
    "none": "không xác thực được",
    "hashes": "khớp mã băm, chưa xác minh chữ ký nơi cấp",
    "signature": "chữ ký hợp lệ của cơ quan cấp",
    "chain": "chữ ký hợp lệ, chuỗi chứng thư đến CSCA đã xác minh",
}
DECISIONS = {
    Decision.MATCH.value: "Máy tự xác nhận: khuôn mặt khớp",
    Decision.STAFF_CONFIRMED.value: "Nhân viên xác nhận",
    Decision.STAFF_REJECTED.value: "Nhân viên không xác nhận",
    Decision.REVIEW.value: "Chờ nhân viên xem",
    Decision.NO_MATCH.value: "Không khớp",
    Decision.NO_FACE.value: "Không thấy khuôn mặt",
}
LIVENESS = {"passed": "Đạt", "failed": "Không đạt"}
PHOTO_KINDS = ("card_front", "card_back", "face", "chip_portrait")
PHOTO_LABELS = {**CAPTURE_LABELS, "chip_portrait": "Ảnh chân dung trong chip"}
ATTEST_HOW = {"board": "sau quyết định tự động, trên bảng theo dõi",
              "review": "khi nhân viên xác nhận hồ sơ"}


class AttestationError(ValueError):
    """A Vietnamese message for the board."""


@dataclass(frozen=True)
class Photo:
    kind: str
    label: str
    sha256: str
    purged: bool  # the image is gone (retention); its hash stays


@dataclass(frozen=True)
class Attestation:
    clerk: str
    at: datetime
    how: str


@dataclass(frozen=True)
class IdentityRecord:
    number: str
    full_name: str
    id_type: str
    id_number: str
    read_method: str  # a READ_METHODS key
    read_label: str
    number_source: str | None  # where step 1's number came from when it was scanned
    chip_level: str | None  # passive authentication level of a chip read, else None
    chip_label: str | None
    photos: tuple[Photo, ...]
    face_distance: float | None
    accept_threshold: float | None
    reject_threshold: float | None
    face_model: str | None
    liveness: str
    decision: str | None
    decision_label: str
    decided_by: str  # "Máy (tự động)" or the clerk's name
    decided_at: datetime | None
    automatic: bool
    attestation: Attestation | None


def _chip(reg: Registration) -> dict:
    """The newest chip read whose number matched the declared one, or {}."""
    read = audit.latest(reg, "chip_read")
    return read if read.get("id_matches_declared") else {}


def _read_method(reg: Registration, data: dict, chip: dict) -> tuple[str, str | None]:
    scan = data.get("scan") or {}
    scanned_source = scan.get("number_source") if scan.get("number") else None
    if chip and chip.get("pa_level") not in (None, "none"):
        return "chip", scanned_source
    if scanned_source in READ_METHODS and scan.get("number") == data.get("id_number"):
        return scanned_source, scanned_source
    # No scan, or the customer typed another number than the one read: it is the typed one.
    return "typed", scanned_source


def _photos(reg: Registration) -> tuple[Photo, ...]:
    rows = db.session.execute(
        select(Evidence.kind, Evidence.sha256).where(
            Evidence.registration_id == reg.id, Evidence.kind.in_(PHOTO_KINDS))
        .order_by(Evidence.id)).all()
    purged = False
    if not rows and reg.images_purged_at is not None:
        rows = [(k, h) for k, h in audit.latest(reg, "images_purged").get("hashes", [])
                if k in PHOTO_KINDS]
        purged = True
    newest = {kind: digest for kind, digest in rows}  # the newest of each kind (a retake)
    return tuple(Photo(kind, PHOTO_LABELS[kind], newest[kind], purged)
                 for kind in PHOTO_KINDS if kind in newest)


def attestation_of(reg: Registration) -> IdentityAttestation | None:
    return db.session.scalar(select(IdentityAttestation).where(
        IdentityAttestation.registration_id == reg.id))


def record(reg: Registration) -> IdentityRecord:
    data = reg.data
    chip = _chip(reg)
    method, number_source = _read_method(reg, data, chip)
    confirmed = audit.latest(reg, "kyc_confirmed")
    face = audit.latest(reg, "face_match")
    live = audit.latest(reg, "liveness_checked")
    clerk = db.session.get(StaffUser, reg.kyc_decided_by) if reg.kyc_decided_by else None
    automatic = reg.kyc_decision == Decision.MATCH.value and clerk is None
    if clerk is not None:
        decided_by = clerk.full_name
    elif reg.kyc_decision:
        decided_by = "Máy (tự động)"
    else:
        decided_by = "Chưa có quyết định"
    att = attestation_of(reg)
    level = chip.get("pa_level") if chip else None
    return IdentityRecord(
        number=reg.number, full_name=data.get("full_name", ""), id_type=data.get("id_type", ""),
        id_number=data.get("id_number", ""),
        read_method=method,
        read_label=READ_METHODS[method] + (f" (xác thực thụ động: {PA_LEVELS.get(level, level)})"
                                           if method == "chip" else ""),
        number_source=number_source,
        chip_level=level, chip_label=PA_LEVELS.get(level, level) if level else None,
        photos=_photos(reg),
        face_distance=reg.face_distance,
        accept_threshold=confirmed.get("accept_threshold", face.get("accept_threshold")),
        reject_threshold=confirmed.get("reject_threshold", face.get("reject_threshold")),
        face_model=face.get("model"),
        liveness=("Đạt" if reg.liveness_passed_at else LIVENESS.get(live.get("state"), "Chưa kiểm tra")),
        decision=reg.kyc_decision,
        decision_label=DECISIONS.get(reg.kyc_decision or "", "Chưa có quyết định"),
        decided_by=decided_by, decided_at=reg.kyc_decided_at, automatic=automatic,
        attestation=(Attestation(att.staff_user.full_name, att.attested_at, att.how)
                     if att is not None else None),
    )


# ---- the attestation ------------------------------------------------------------------------

def _local_day_bounds(now: datetime) -> tuple[datetime, datetime]:
    day = local_time(now).date()
    start = datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ)
    return start, start + timedelta(days=1)


def unattested_today(staff: StaffUser, office_filter: int | None = None,
                     now: datetime | None = None) -> list[Registration]:
    """Today's automatic decisions (Vietnam time) in the offices ``staff`` may see that no
    clerk has attested yet, oldest first."""
    start, end = _local_day_bounds(now or utcnow())
    attested = select(IdentityAttestation.registration_id)
    return list(db.session.scalars(
        office_scope.visible(select(Registration), staff, office_filter).where(
            Registration.kyc_decision == Decision.MATCH.value,
            Registration.kyc_decided_by.is_(None),
            Registration.kyc_decided_at >= start, Registration.kyc_decided_at < end,
            Registration.id.not_in(attested))
        .order_by(Registration.kyc_decided_at)))


@dataclass(frozen=True)
class UnattestedRow:
    number: str
    kiosk: str
    decided_at: datetime
    masked_id: str
    face_distance: float | None


def unattested_rows(staff: StaffUser, office_filter: int | None = None,
                    now: datetime | None = None) -> list[UnattestedRow]:
    """:func:`unattested_today` as the board's list shows it (the ID number masked)."""
    from kiosk.services.board import mask_id

    return [UnattestedRow(reg.number, reg.kiosk_id, reg.kyc_decided_at,
                          mask_id(reg.data.get("id_number", "")), reg.face_distance)
            for reg in unattested_today(staff, office_filter, now)]


def attest(reg: Registration, clerk: StaffUser, how: str) -> bool:
    """Record the clerk's «Đã xem bản gốc giấy tờ» for ``reg``; False when it already has one
    (the first attestation stands)."""
    if how not in ATTEST_HOW:
        raise ValueError(f"unknown attestation {how!r}")
    if reg.kyc_decided_at is None:
        raise AttestationError("Hồ sơ này chưa có quyết định xác thực.")
    if attestation_of(reg) is not None:
        return False
    db.session.add(IdentityAttestation(registration_id=reg.id, staff_user_id=clerk.id,
                                       attested_at=utcnow(), how=how))
    audit.record("original_document_seen", reg, actor=clerk.actor, how=how)
    db.session.flush()
    return True


def attest_many(clerk: StaffUser, numbers: list[str]) -> int:
    """The board's bulk action: attest each selected registration (by its number). Returns
    how many were attested now; numbers already attested, unknown or of another office are
    skipped."""
    if not numbers:
        raise AttestationError("Vui lòng chọn ít nhất một hồ sơ.")
    regs = db.session.scalars(office_scope.visible(select(Registration), clerk).where(
        Registration.number.in_(set(numbers)), Registration.kyc_decided_at.is_not(None)))
    return sum(attest(reg, clerk, "board") for reg in regs)


def _when(value: datetime | None) -> str:
    return local_time(value).strftime("%H:%M %d/%m/%Y") if value else "—"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}".replace(".", ",")


def sections(rec: IdentityRecord) -> list:
    """The record as headed (label, value) lines, as the console and the PDF show it."""
    from kiosk.documents.identity_record import RecordSection

    attestation = (f"{ATTESTATION_TEXT}: {rec.attestation.clerk}, {_when(rec.attestation.at)} "
                   f"({ATTEST_HOW.get(rec.attestation.how, rec.attestation.how)})"
                   if rec.attestation else "Chưa có nhân viên xác nhận đã xem bản gốc")
    return [
        RecordSection("Người đăng ký", [
            ("Họ và tên", rec.full_name), ("Số giấy tờ", rec.id_number),
            ("Loại giấy tờ", rec.id_type)]),
        RecordSection("Cách đọc thông tin định danh", [
            ("Cách đọc", rec.read_label),
            ("Số giấy tờ ở bước 1", READ_METHODS.get(rec.number_source or "typed", "—")
             if rec.number_source else "Khách tự gõ số"),
            ("Chip", rec.chip_label or "Không đọc chip")]),
        RecordSection("Ảnh (SHA-256)", [
            (p.label + (" (ảnh đã xóa theo thời hạn lưu)" if p.purged else ""), p.sha256)
            for p in rec.photos] or [("Ảnh", "Chưa có ảnh")]),
        RecordSection("So khớp khuôn mặt", [
            ("Khoảng cách khuôn mặt", _number(rec.face_distance)),
            ("Ngưỡng chấp nhận / từ chối",
             f"{_number(rec.accept_threshold)} / {_number(rec.reject_threshold)}"),
            ("Mô hình", rec.face_model or "—"), ("Kiểm tra người thật", rec.liveness)]),
        RecordSection("Quyết định", [
            ("Quyết định", rec.decision_label), ("Người quyết định", rec.decided_by),
            ("Lúc", _when(rec.decided_at)), ("Xác nhận bản gốc", attestation)]),
    ]


def pdf(reg: Registration, clerk: StaffUser) -> bytes:
    """The record as a PDF for export (audited: it carries personal data)."""
    from kiosk.documents.identity_record import render_identity_record
    from kiosk.services import settings

    office = settings.office_for(reg)
    office_name = office.name if office is not None else "VNPT"
    rec = record(reg)
    audit.record("identity_record_exported", reg, actor=clerk.actor)
    return render_identity_record(rec.number, office_name, sections(rec), made_at=utcnow(),
                                  sandbox=reg.sandbox)
