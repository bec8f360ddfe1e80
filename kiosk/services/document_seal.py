"""The office's seal on signed documents: loading the certificate at start, and checking a seal.

At start (:func:`init_app`) the office's certificate is loaded once, from the first of:

1. a PKCS#11 token (``OFFICE_SIGNING_PKCS11_LIB`` + ``_TOKEN`` + ``_KEY`` + ``_PIN``);
2. a PKCS#12 file (``OFFICE_SIGNING_P12`` + ``OFFICE_SIGNING_P12_PASSWORD``);
3. the sandbox certificate in ``instance/signing/`` (made at set-up; made here on a first run
   that skipped set-up, like instance/secrets.py).

A configured certificate that cannot be used stops the start with a clear message: a kiosk
must not hand out documents sealed with the wrong certificate, or with none. A real
certificate needs its trust roots (``OFFICE_SIGNING_TRUST_ROOTS``); the sandbox CA is trusted
only while the sandbox certificate is the one in use.

Verification (:func:`documents_verify`) answers in Vietnamese, as Circular 15/2025/TT-BKHCN
asks of signing software.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select

from kiosk.core import audit
from kiosk.core.extensions import db
from kiosk.core.models import Document, Registration
from kiosk.documents.content import format_datetime_vn
from kiosk.documents.sandbox_cert import issue
from kiosk.documents.seal import OfficeSeal, SealConfigError, load_pkcs11, load_pkcs12
from kiosk.documents.seal_check import SealCheck, check, load_roots
from kiosk.domain.local_time import local_time
from kiosk.services import office_scope

EXTENSION_KEY = "kiosk_seal"
SANDBOX_DIR = "signing"
SANDBOX_P12 = "office.p12"
SANDBOX_PASSWORD_FILE = "office.p12.password"
SANDBOX_CA = "sandbox-ca.pem"
# The documents the office seals (the receipt is a slip for the customer, not a contract).
SEALED_KINDS = ("contract", "acceptance")


@dataclass(frozen=True)
class SealSetup:
    seal: OfficeSeal
    roots: tuple  # asn1crypto certificates the verification trusts


@dataclass(frozen=True)
class Verification:
    """A seal check in plain Vietnamese: ``headline`` and the facts under it."""

    valid: bool
    headline: str
    lines: tuple[str, ...]

    def text(self) -> str:
        return "\n".join((self.headline, *self.lines))


# ---- The sandbox certificate ------------------------------------------------------------------

@dataclass(frozen=True)
class SandboxFiles:
    p12: Path
    password: Path
    ca: Path

    def exist(self) -> bool:
        return self.p12.is_file() and self.password.is_file() and self.ca.is_file()


def sandbox_files(instance_path: str) -> SandboxFiles:
    folder = Path(instance_path) / SANDBOX_DIR
    return SandboxFiles(folder / SANDBOX_P12, folder / SANDBOX_PASSWORD_FILE, folder / SANDBOX_CA)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def make_sandbox_cert(instance_path: str, *, force: bool = False) -> SandboxFiles | None:
    """Write a new sandbox CA and office certificate (random password, files 0600) into
    instance/signing/. None when they exist and ``force`` is not given."""
    files = sandbox_files(instance_path)
    if files.exist() and not force:
        return None
    files.p12.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    password = secrets.token_urlsafe(24)
    issued = issue(password.encode())
    _write_private(files.password, password.encode())
    _write_private(files.p12, issued.p12)
    _write_private(files.ca, issued.ca_pem)
    return files


# ---- Loading at start -------------------------------------------------------------------------

def _roots_from_paths(paths) -> tuple:
    if isinstance(paths, str):
        paths = [p for p in paths.split(os.pathsep) if p]
    blobs = []
    for path in paths:
        try:
            blobs.append(Path(path).read_bytes())
        except OSError as exc:
            raise SealConfigError(f"Không đọc được chứng thư gốc tin cậy {path}. "
                                  f"(OFFICE_SIGNING_TRUST_ROOTS: cannot read {path})") from exc
    try:
        return tuple(load_roots(blobs))
    except ValueError as exc:
        raise SealConfigError("Chứng thư gốc tin cậy không đọc được (cần PEM hoặc DER). "
                              "(OFFICE_SIGNING_TRUST_ROOTS: not a certificate)") from exc


def load_setup(config, instance_path: str) -> SealSetup:
    """The seal and trust roots the settings name; :class:`SealConfigError` otherwise."""
    tsa_url = config.get("TSA_URL") or None
    library, p12 = config.get("OFFICE_SIGNING_PKCS11_LIB"), config.get("OFFICE_SIGNING_P12")
    if library and p12:
        raise SealConfigError("Chỉ chọn một nguồn chứng thư số: token hoặc tệp PKCS#12. "
                              "(set OFFICE_SIGNING_PKCS11_LIB or OFFICE_SIGNING_P12, not both)")
    if library or p12:
        if not config.get("OFFICE_SIGNING_TRUST_ROOTS"):
            raise SealConfigError(
                "Thiếu chứng thư gốc để kiểm tra chữ ký của đơn vị. "
                "(OFFICE_SIGNING_TRUST_ROOTS: the CA certificate(s) of the office's certificate)")
        roots = _roots_from_paths(config["OFFICE_SIGNING_TRUST_ROOTS"])
        if library:
            token, key = (config.get("OFFICE_SIGNING_PKCS11_TOKEN"),
                          config.get("OFFICE_SIGNING_PKCS11_KEY"))
            if not token or not key:
                raise SealConfigError(
                    "Thiếu tên token hoặc tên khoá. "
                    "(OFFICE_SIGNING_PKCS11_TOKEN and OFFICE_SIGNING_PKCS11_KEY are required)")
            seal = load_pkcs11(library, token, key, config.get("OFFICE_SIGNING_PKCS11_PIN"),
                               cert_label=config.get("OFFICE_SIGNING_PKCS11_CERT"),
                               tsa_url=tsa_url)
        else:
            seal = load_pkcs12(p12, config.get("OFFICE_SIGNING_P12_PASSWORD"), tsa_url=tsa_url)
        return SealSetup(seal, roots)
    files = sandbox_files(instance_path)
    if not files.exist():
        make_sandbox_cert(instance_path, force=True)
    seal = load_pkcs12(files.p12, files.password.read_bytes(), source="sandbox", tsa_url=tsa_url)
    return SealSetup(seal, _roots_from_paths([str(files.ca)]))


def init_app(app: Flask) -> None:
    setup = load_setup(app.config, app.instance_path)
    app.extensions[EXTENSION_KEY] = setup
    app.logger.info("documents are sealed with %s certificate %s", setup.seal.source,
                    setup.seal.subject)


def seal() -> OfficeSeal:
    """The office's seal for this app (documents.sign_pdf seals with it)."""
    return current_app.extensions[EXTENSION_KEY].seal


# ---- Verification -----------------------------------------------------------------------------

def _words(found: SealCheck) -> Verification:
    if not found.readable:
        return Verification(False, "Không kiểm tra được: tệp không phải văn bản PDF đọc được.", ())
    if not found.signed:
        return Verification(False, "Văn bản không có chữ ký số.", ())
    lines = []
    if found.common_name or found.organization:
        lines.append("Người ký: " + " — ".join(p for p in (found.common_name,
                                                           found.organization) if p))
    if found.signed_at is not None:
        when = f"Thời điểm ký: {format_datetime_vn(local_time(found.signed_at))}"
        lines.append(when + (" (theo dấu thời gian của máy chủ cấp dấu thời gian)"
                             if found.timestamped else ""))
    if not found.intact:
        lines.append("Nội dung không khớp với chữ ký: văn bản đã bị sửa sau khi ký.")
    elif not found.whole_file:
        lines.append("Văn bản đã bị thêm nội dung sau khi ký: phần thêm không được chữ ký bảo vệ.")
    else:
        lines.append("Văn bản không thay đổi kể từ khi ký (chữ ký bao trùm toàn bộ tệp).")
    if found.intact and not found.trusted:
        lines.append("Chứng thư số của người ký không do đơn vị cấp chứng thư tin cậy cấp.")
    elif found.trusted:
        lines.append("Chứng thư số của người ký do đơn vị cấp chứng thư tin cậy cấp.")
    headline = "Chữ ký số hợp lệ." if found.valid else "Chữ ký số KHÔNG hợp lệ."
    return Verification(found.valid, headline, tuple(lines))


def documents_verify(pdf_bytes: bytes) -> Verification:
    """Check the office's seal on ``pdf_bytes`` against this app's trust roots."""
    return _words(check(pdf_bytes, list(current_app.extensions[EXTENSION_KEY].roots)))


def verify_stored(number: str, document_id: int, staff) -> Verification | None:
    """A clerk checks the seal of a stored document of registration ``number``; audited.
    None when the registration has no such document, or is another office's."""
    doc = db.session.scalar(office_scope.visible(
        select(Document).join(Registration, Registration.id == Document.registration_id)
        .where(Registration.number == number, Document.id == document_id), staff))
    if doc is None:
        return None
    result = documents_verify(doc.content)
    audit.record("staff_verified_document", doc.registration, actor=staff.actor, kind=doc.kind,
                 document=doc.id, valid=result.valid)
    return result
