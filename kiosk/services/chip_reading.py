"""Reading the customer's chip for a registration (docs/chip.md).

Opens the chip with the CAN (last 6 digits of the declared ID number), stores the DG2 portrait
as encrypted Evidence "chip_portrait" and the parsed DG1/DG13 as encrypted Evidence "chip_data"
(JSON), and audits the passive-authentication level and the clone check. Keys (CAN, MRZ key,
session keys) are never stored or logged. With CHIP_READER off, nothing here runs and the
camera path is unchanged.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from kiosk.chip import ChipError, can_from_id_number, read_card
from kiosk.core import audit
from kiosk.core.models import Evidence, Registration
from kiosk.services import evidence, registrations

TRUSTED_LEVELS = ("signature", "chain")
_TRANSPORT_KEY = "kiosk_chip_transport"


@dataclass
class ChipOutcome:
    ok: bool
    message: str
    pa_level: str = "none"
    access: str | None = None
    data: dict = field(default_factory=dict)  # DG1/DG13 as parsed (for filling steps 1 and 3)
    portrait: Evidence | None = None
    id_matches: bool | None = None


def enabled() -> bool:
    return bool(current_app.config.get("CHIP_READER"))


def set_transport_factory(app, factory) -> None:
    """Tests (and a future non-PC/SC reader) supply their own ``factory() -> transport``."""
    app.extensions[_TRANSPORT_KEY] = factory


def _open_transport():
    factory = current_app.extensions.get(_TRANSPORT_KEY)
    if factory is not None:
        return factory()
    from kiosk.chip.transport import PcscTransport

    return PcscTransport(current_app.config.get("CHIP_READER_NAME"))


def reader_status() -> dict:
    if not enabled():
        return {"ready": False, "card": False, "message": "Kiosk chưa bật đầu đọc chip."}
    if current_app.extensions.get(_TRANSPORT_KEY) is not None:
        try:
            transport = _open_transport()
        except ChipError as err:
            return {"ready": False, "card": False, "message": err.message}
        close = getattr(transport, "close", None)
        if close is not None:
            close()
        return {"ready": True, "card": True, "message": "Đã có thẻ trên đầu đọc."}
    from kiosk.chip.transport import reader_status as pcsc_status

    return pcsc_status(current_app.config.get("CHIP_READER_NAME"))


def csca_dir() -> Path:
    return Path(current_app.config.get("CHIP_CSCA_DIR") or Path(current_app.instance_path) / "csca")


@dataclass
class ChipRead:
    """What the reader gave, before anything is written: the read, or the error that stopped it."""
    result: object | None = None  # kiosk.chip.read_card's result
    error: ChipError | None = None

    @property
    def trusted(self) -> bool:
        """Passive authentication with the issuer's signature, and no failed clone check."""
        result = self.result
        return (result is not None and result.passive.level in TRUSTED_LEVELS
                and result.active_auth.get("result") != "failed")

    def data(self) -> dict:
        groups = self.result.data_groups if self.result is not None else {}
        return {k: groups[k] for k in ("DG1", "DG13") if k in groups}


def read_chip(id_number: str) -> ChipRead:
    """Talk to the chip (a second or more): nothing is written, so a caller that writes only
    afterwards holds no database lock while the card answers."""
    transport = None
    try:
        can = can_from_id_number(id_number)
        transport = _open_transport()
        return ChipRead(result=read_card(transport, can=can, csca_dir=csca_dir()))
    except ChipError as err:
        return ChipRead(error=err)
    finally:
        close = getattr(transport, "close", None)
        if close is not None:
            close()


def reference_of(read: ChipRead) -> ChipReference | None:
    """The portrait and identity a trusted read gives (what :func:`reference_for` will find once
    the read is recorded), or None."""
    if not read.trusted or read.result.portrait is None:
        return None
    scanned = scanned_fields(read.data())
    return ChipReference(read.result.portrait.data,
                         {"id_number": scanned["id_number"],
                          "date_of_birth": scanned["date_of_birth"]},
                         read.result.portrait.mime)


def record_read(reg: Registration, read: ChipRead, id_number: str) -> ChipOutcome:
    """Write what a read gave for ``reg`` (the audit row; a trusted portrait and data groups as
    evidence). Flushed, not committed: the request commits."""
    if read.error is not None:
        audit.record("chip_read_failed", reg, error=read.error.code)
        return ChipOutcome(False, read.error.message)
    result = read.result
    dg13 = result.data_groups.get("DG13", {})
    chip_id = dg13.get("id_number") or None
    id_matches = None if chip_id is None else chip_id == id_number
    pa = result.passive
    details = {"access": result.access, "pa_level": pa.level, "pa_problems": pa.problems,
               "active_authentication": result.active_auth.get("result"),
               "chip_authentication_offered": result.chip_auth_offered,
               "id_matches_declared": id_matches, "read_ms": result.timings_ms.get("total")}
    trusted = read.trusted
    portrait = None
    if trusted and result.portrait is not None:
        portrait = evidence.store(reg, "chip_portrait", result.portrait.data, result.portrait.mime, "chip")
        details["portrait_sha256"] = portrait.sha256
    if trusted:
        evidence.store(reg, "chip_data", json.dumps(read.data(), ensure_ascii=False).encode(),
                       "application/json", "chip")
    audit.record("chip_read", reg, **details)
    if not trusted:
        reason = ("Chip không ký được thử thách (nghi thẻ sao chép)."
                  if result.active_auth.get("result") == "failed" else pa.message)
        return ChipOutcome(False, reason, pa.level, result.access, id_matches=id_matches)
    if id_matches is False:
        return ChipOutcome(False, "Số định danh trong chip khác số đã khai.", pa.level, result.access,
                           id_matches=False)
    return ChipOutcome(True, pa.message, pa.level, result.access, read.data(), portrait, id_matches)


def read_for(reg: Registration, id_number: str) -> ChipOutcome:
    """Read the chip of the card on the reader for ``reg``, then record it (flushed: the caller's
    request, or CLI command, commits)."""
    if not enabled():
        return ChipOutcome(False, "Kiosk chưa bật đầu đọc chip.")
    return record_read(reg, read_chip(id_number), id_number)


def read_at_step1(reg: Registration, id_number: str) -> tuple[ChipOutcome, dict | None]:
    """Step 1: consent (the caller has checked the customer gave it), the chip read with the
    typed number, and on a verified read its fields kept to fill steps 1 and 3.
    Returns (the outcome, the fields read or None)."""
    registrations.record_consent(reg)  # pending only: nothing reaches the database before the read
    outcome = read_for(reg, id_number)
    if not outcome.ok:
        return outcome, None
    scanned = scanned_fields(outcome.data)
    reg.update_personal(scanned=scanned)
    return outcome, scanned


# ---- for the wizard: steps 1/3 (what the chip says) and step 6 (the reference portrait) ----------

def _iso_date(text: str | None) -> str | None:
    """DG13 dates as ISO (the chip writes dd/mm/yyyy or ddmmyyyy); None when unreadable."""
    from datetime import datetime

    value = (text or "").strip()
    for fmt in ("%d/%m/%Y", "%d%m%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def scanned_fields(data: dict) -> dict:
    """DG13 in the shape of the card scan (account.SCANNED_FIELDS), to prefill steps 1 and 3."""
    dg13 = data.get("DG13") or {}
    return {
        "id_number": dg13.get("id_number") or None,
        "old_id_number": dg13.get("old_id_number") or None,
        "full_name": dg13.get("full_name") or None,
        "date_of_birth": _iso_date(dg13.get("birth_date")),
        "gender": dg13.get("sex") if dg13.get("sex") in ("Nam", "Nữ") else None,
        "address": dg13.get("residence") or None,
        "issue_date": _iso_date(dg13.get("issue_date")),
    }


@dataclass
class ChipReference:
    portrait: bytes
    identity: dict  # {"id_number", "date_of_birth"} as the chip says them
    mime: str = "image/jpeg"


def reference_for(reg: Registration) -> ChipReference | None:
    """The newest trusted chip portrait of ``reg`` and the chip's identity, or None.

    Only portraits that passed passive authentication (and no failed clone check) are stored,
    so a stored one is a trusted one.
    """
    from sqlalchemy import select

    from kiosk.core.extensions import db

    rows = {row.kind: row for row in db.session.scalars(
        select(Evidence).where(Evidence.registration_id == reg.id,
                               Evidence.kind.in_(("chip_portrait", "chip_data")))
        .order_by(Evidence.id))}
    if "chip_portrait" not in rows:
        return None
    identity = {}
    if "chip_data" in rows:
        scanned = scanned_fields(json.loads(rows["chip_data"].content))
        identity = {"id_number": scanned["id_number"], "date_of_birth": scanned["date_of_birth"]}
    return ChipReference(rows["chip_portrait"].content, identity, rows["chip_portrait"].mime_type)


PA_LABELS = {
    "none": "không xác thực được",
    "hashes": "khớp mã băm, chưa xác minh chữ ký",
    "signature": "có chữ ký của cơ quan cấp (chưa đối chiếu CSCA)",
    "chain": "có chữ ký, đã đối chiếu chứng thư gốc CSCA",
}
AA_LABELS = {"passed": "đạt", "failed": "KHÔNG đạt (nghi thẻ sao chép)", "not_offered": "thẻ không hỗ trợ",
             "error": "lỗi khi kiểm tra"}


def latest_check(reg: Registration) -> dict | None:
    """The last chip read of ``reg`` in words, for the clerk's review panel (None: no read)."""
    details = audit.latest(reg, "chip_read")
    if not details:
        return None
    return {"pa_level": details.get("pa_level"),
            "pa_label": PA_LABELS.get(details.get("pa_level"), details.get("pa_level")),
            "aa_label": AA_LABELS.get(details.get("active_authentication"), "—"),
            "id_matches": details.get("id_matches_declared"),
            "portrait": bool(details.get("portrait_sha256"))}
