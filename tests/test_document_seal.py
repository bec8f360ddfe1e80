"""The office's PAdES seal on the signed contract and acceptance record: made, checked with
pyHanko's own validator, broken by one changed byte, chosen from the right certificate, and
shown in Vietnamese by the command line and the staff console."""
from __future__ import annotations

import base64
import io
import os
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Document
from kiosk.documents import render_acceptance, render_contract, sign_pdf
from kiosk.documents.sandbox_cert import SANDBOX_ORGANIZATION, issue
from kiosk.documents.seal import SealConfigError, load_pkcs12
from kiosk.documents.seal_check import check, load_roots
from kiosk.services import document_seal
from tests.app_factory import kiosk_client, make_app, sandbox_signing_dir
from tests.staff_console import Clerk
from tests.test_documents import SIGNATURE, make_ctx

RENDER = {"contract": render_contract, "acceptance": render_acceptance}
INK = (10, 30, 120)  # tests.test_documents.signature_png draws in this colour


@pytest.fixture(scope="module")
def sandbox():
    """The session's sandbox seal and its CA (what set-up writes in instance/signing/)."""
    files = document_seal.sandbox_files(sandbox_signing_dir())
    seal = load_pkcs12(files.p12, files.password.read_bytes(), source="sandbox")
    return seal, load_roots([files.ca.read_bytes()])


@pytest.fixture(scope="module")
def real_certificate(tmp_path_factory):
    """A second CA and office certificate standing for the office's real one."""
    folder = tmp_path_factory.mktemp("real-cert")
    issued = issue(b"real-pass", organization="VNPT Thanh Hoa", common_name="Quay SmartCA",
                   ca_name="Real Office CA")
    (folder / "office.p12").write_bytes(issued.p12)
    (folder / "ca.pem").write_bytes(issued.ca_pem)
    return folder


def bare_config(instance) -> dict:
    """An app with no migrated database: enough to see what the start does."""
    return {"TESTING": True, "INSTANCE_PATH": str(instance), "SECRET_KEY": "k",
            "DATA_KEY": base64.b64encode(os.urandom(32)).decode(),
            "SQLALCHEMY_DATABASE_URI": "sqlite://"}


def pyhanko_status(pdf: bytes, roots):
    signature = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures[-1]
    return validate_pdf_signature(signature, signer_validation_context=ValidationContext(
        trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail"))


def flip_byte(pdf: bytes, at: int) -> bytes:
    changed = bytearray(pdf)
    changed[at] ^= 0x01
    return bytes(changed)


# ---- The seal, checked by pyHanko's validator ---------------------------------------------------

@pytest.mark.parametrize("kind", ["contract", "acceptance"])
def test_sealed_document_is_intact_trusted_and_covers_the_whole_file(kind, sandbox):
    seal, roots = sandbox
    unsigned = RENDER[kind](make_ctx())
    sealed = sign_pdf(unsigned, SIGNATURE, seal=seal)
    assert sealed.startswith(unsigned)  # the text the customer read, byte for byte
    status = pyhanko_status(sealed, roots)
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    assert status.signing_cert.subject.native["organization_name"] == SANDBOX_ORGANIZATION
    assert status.md_algorithm == "sha256"


@pytest.mark.parametrize("kind", ["contract", "acceptance"])
def test_one_changed_byte_of_the_signed_content_breaks_the_seal(kind, sandbox):
    seal, roots = sandbox
    unsigned = RENDER[kind](make_ctx())
    sealed = sign_pdf(unsigned, SIGNATURE, seal=seal)
    # A byte of the customer's text, and a byte of the update that drew their signature.
    for at in (len(unsigned) // 2, len(unsigned) + 40):
        status = pyhanko_status(flip_byte(sealed, at), roots)
        assert not (status.intact and status.valid), at


def test_a_seal_measures_its_signature_once_and_every_copy_still_checks(sandbox, monkeypatch):
    """pyHanko sizes a signature by making a trial one first: once per seal, not per document."""
    from pyhanko.sign.signers.pdf_signer import PdfSigningSession

    from kiosk.documents.seal import reserved_space

    _, roots = sandbox
    seal = load_pkcs12(*_sandbox_p12(), source="sandbox")  # a seal of its own: nothing learnt
    trials = []
    estimate = PdfSigningSession.estimate_signature_container_size

    async def counted(self, *args, **kwargs):
        trials.append(1)
        return await estimate(self, *args, **kwargs)

    monkeypatch.setattr(PdfSigningSession, "estimate_signature_container_size", counted)
    copies = [sign_pdf(RENDER[kind](make_ctx()), SIGNATURE, seal=seal)
              for kind in ("contract", "acceptance", "contract")]
    assert len(trials) == 1
    assert len({reserved_space(copy) for copy in copies}) == 1
    for copy in copies:
        status = pyhanko_status(copy, roots)
        assert status.intact and status.valid and status.trusted


def test_a_seal_that_no_longer_fits_fails_once_then_measures_again(sandbox):
    """A timestamp token that came back longer than the space learnt: that seal fails (the
    customer signs again, as for any seal error) and the next one measures afresh."""
    from kiosk.documents.seal import SealError

    _, roots = sandbox
    seal = load_pkcs12(*_sandbox_p12(), source="sandbox")
    sign_pdf(RENDER["contract"](make_ctx()), SIGNATURE, seal=seal)
    seal._reserved["bytes"] = 64  # far less than any signature
    with pytest.raises(SealError):
        sign_pdf(RENDER["contract"](make_ctx()), SIGNATURE, seal=seal)
    again = sign_pdf(RENDER["contract"](make_ctx()), SIGNATURE, seal=seal)
    assert pyhanko_status(again, roots).valid
    assert seal._reserved["bytes"] > 64


# ---- The container pattern (seal_pattern.py) ---------------------------------------------------

def _signed_data_of(pdf: bytes):
    """The last signature's CMS SignedData in ``pdf``."""
    return PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures[-1].signed_data


def test_later_seals_are_built_from_the_first_ones_pattern_and_all_check(sandbox, monkeypatch):
    from pyhanko.sign.signers.pdf_cms import Signer

    _, roots = sandbox
    seal = load_pkcs12(*_sandbox_p12(), source="sandbox")  # a seal of its own: nothing learnt
    built_by_pyhanko = []
    original = Signer.async_sign  # pyHanko's container building, whichever signer asks

    async def counted(self, *args, **kwargs):
        if not kwargs.get("dry_run"):  # the first seal's trial, to size the signature
            built_by_pyhanko.append(1)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(Signer, "async_sign", counted)
    texts = [RENDER[kind](make_ctx()) for kind in ("contract", "acceptance", "contract")]
    copies = [sign_pdf(text, SIGNATURE, seal=seal) for text in texts]
    assert len(built_by_pyhanko) == 1  # the first; the other two from its pattern
    assert seal._patterned.learnt("sha256")
    first = _signed_data_of(copies[0])
    for copy in copies:
        status = pyhanko_status(copy, roots)
        assert status.intact and status.valid and status.trusted
        assert status.coverage.name == "ENTIRE_FILE"
        assert check(copy, roots).valid
        signed = _signed_data_of(copy)
        # the same certificates and signer, each copy's own digest and signature
        assert signed["certificates"].dump() == first["certificates"].dump()
        assert signed["signer_infos"][0]["sid"].dump() == first["signer_infos"][0]["sid"].dump()
    digests = {_signed_data_of(c)["signer_infos"][0]["signed_attrs"][1]["values"][0].native
               for c in copies}
    assert len(digests) == 3


def test_a_pattern_rebuilds_pyhankos_own_container_byte_for_byte(sandbox):
    import asyncio
    import hashlib

    from kiosk.documents.seal_pattern import learn

    seal, _ = sandbox
    signer = seal.signer
    first, second = (hashlib.sha256(word).digest() for word in (b"one", b"two"))
    built = [asyncio.run(signer.async_sign(d, "sha256", use_pades=True)).dump()
             for d in (first, second)]
    pattern = learn(built[0], first)
    assert pattern is not None
    # pyHanko's container for another document, rebuilt from the pattern and its signature
    from asn1crypto import cms

    signature = cms.ContentInfo.load(built[1])["content"]["signer_infos"][0]["signature"].native
    assert pattern.container(second, signature) == built[1]
    with pytest.raises(ValueError):
        pattern.signed_attributes(first[:20])


def test_a_container_with_a_signing_time_or_another_digest_is_not_learnt(sandbox):
    import asyncio
    import hashlib
    from datetime import UTC, datetime

    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    from kiosk.documents.seal_pattern import learn

    seal, _ = sandbox
    digest = hashlib.sha256(b"document").digest()
    timed = asyncio.run(seal.signer.async_sign(
        digest, "sha256", use_pades=False,
        signed_attr_settings=PdfCMSSignedAttributes(signing_time=datetime.now(UTC))))
    assert learn(timed, digest) is None  # the time differs from one seal to the next
    plain = asyncio.run(seal.signer.async_sign(digest, "sha256", use_pades=True))
    assert learn(plain, hashlib.sha256(b"another").digest()) is None
    assert learn(plain, digest) is not None


def test_a_container_that_cannot_be_learnt_costs_no_seal(sandbox, monkeypatch):
    from kiosk.documents import seal_pattern

    def broken(*_args):
        raise KeyError("an unforeseen container")

    monkeypatch.setattr(seal_pattern, "learn", broken)
    _, roots = sandbox
    seal = load_pkcs12(*_sandbox_p12(), source="sandbox")
    copies = [sign_pdf(RENDER["contract"](make_ctx()), SIGNATURE, seal=seal) for _ in range(2)]
    assert not seal._patterned.learnt("sha256")  # pyHanko builds each one
    assert all(check(copy, roots).valid for copy in copies)


def test_a_timestamped_seal_is_built_by_pyhanko_every_time(sandbox, tsa_url):
    from dataclasses import replace

    seal, roots = sandbox
    stamped = replace(seal, tsa_url=tsa_url)
    copies = [sign_pdf(render_contract(make_ctx()), SIGNATURE, seal=stamped) for _ in range(2)]
    assert not stamped._patterned.learnt("sha256")
    for copy in copies:  # each with its own token: no pattern can carry one
        assert check(copy, roots).timestamped


def _sandbox_p12():
    files = document_seal.sandbox_files(sandbox_signing_dir())
    return files.p12, files.password.read_bytes()


def test_sealing_and_checking_work_in_a_thread_whose_event_loop_is_running(sandbox):
    # pyHanko's blocking API starts its own loop: an async host (or a test driving a browser
    # with Playwright's sync API in the same thread) made every seal fail «asyncio.run() cannot
    # be called from a running event loop» and the customer could never sign.
    import asyncio

    seal, roots = sandbox
    unsigned = RENDER["contract"](make_ctx())

    async def inside_a_loop():
        sealed = sign_pdf(unsigned, SIGNATURE, seal=seal)
        return sealed, check(sealed, roots)

    sealed, result = asyncio.run(inside_a_loop())
    assert pyhanko_status(sealed, roots).intact
    assert result.signed and result.intact and result.trusted


def test_a_seal_by_an_unknown_certificate_is_intact_but_not_trusted(sandbox, real_certificate):
    seal, sandbox_roots = sandbox
    sealed = sign_pdf(render_contract(make_ctx()), SIGNATURE, seal=seal)
    other_roots = load_roots([(real_certificate / "ca.pem").read_bytes()])
    status = pyhanko_status(sealed, other_roots)
    assert status.intact and not status.trusted


def _ink_pixels(pdf: bytes, tmp_path, name: str) -> int:
    """Pixels of the pad's ink colour on the last page (where the customer's box is)."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils pdftoppm is not installed")
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-l", "9", "-png", str(path),
                    str(tmp_path / name)], check=True, capture_output=True)
    pages = sorted(tmp_path.glob(f"{name}-*.png"))
    pixels = np.asarray(Image.open(pages[-1]).convert("RGB"), dtype=np.int16)
    return int((np.abs(pixels - np.array(INK)).max(axis=2) < 40).sum())


def test_the_drawn_signature_is_still_visible_in_the_sealed_copy(sandbox, tmp_path):
    """poppler draws the customer's drawing in the box of the sealed copy; the text without
    the update has no ink there. The time line is still text."""
    seal, _roots = sandbox
    unsigned = render_contract(make_ctx())
    sealed = sign_pdf(unsigned, SIGNATURE, seal=seal)
    assert _ink_pixels(unsigned, tmp_path, "unsigned") == 0
    assert _ink_pixels(sealed, tmp_path, "sealed") > 50
    from tests.test_documents import pdftotext

    assert "Ký lúc 14:12 ngày 24/11/2026" in pdftotext(sealed)


def test_a_pdf_without_the_customers_box_is_refused_before_any_seal(sandbox):
    from kiosk.documents import render_receipt
    from tests.test_documents import make_receipt_ctx

    seal, _roots = sandbox
    with pytest.raises(ValueError):
        sign_pdf(render_receipt(make_receipt_ctx()), SIGNATURE, seal=seal)


# ---- The wizard stores sealed documents ---------------------------------------------------------

def _stored(app, kind: str) -> bytes:
    with app.app_context():
        return db.session.scalar(select(Document).where(Document.kind == kind)
                                 .order_by(Document.id.desc())).content


def test_the_wizard_stores_a_sealed_contract_and_acceptance_record(app, kiosk):
    kiosk.walk_to(10)
    with app.test_request_context():
        for kind in ("contract", "acceptance"):
            result = document_seal.documents_verify(_stored(app, kind))
            assert result.valid, result.text()
            assert result.headline == "Chữ ký số hợp lệ."
            assert any(SANDBOX_ORGANIZATION in line for line in result.lines)
            assert any("toàn bộ tệp" in line for line in result.lines)
        receipt = document_seal.documents_verify(_stored(app, "receipt"))
        assert not receipt.valid and receipt.headline == "Văn bản không có chữ ký số."


# ---- flask documents verify / make-sandbox-cert -------------------------------------------------

def test_cli_verify_prints_vietnamese_and_exits_0_then_1_on_a_tampered_file(app, kiosk, tmp_path):
    kiosk.walk_to(8)
    sealed = _stored(app, "contract")
    good, bad, garbage = tmp_path / "good.pdf", tmp_path / "bad.pdf", tmp_path / "x.pdf"
    good.write_bytes(sealed)
    bad.write_bytes(flip_byte(sealed, len(sealed) // 3))
    garbage.write_bytes(b"not a pdf")
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["documents", "verify", str(good)])
    assert ok.exit_code == 0, ok.output
    assert "Chữ ký số hợp lệ." in ok.output and "Người ký:" in ok.output
    assert "Thời điểm ký:" in ok.output
    broken = runner.invoke(args=["documents", "verify", str(bad)])
    assert broken.exit_code == 1
    assert "Chữ ký số KHÔNG hợp lệ." in broken.output
    assert "văn bản đã bị sửa sau khi ký" in broken.output
    unreadable = runner.invoke(args=["documents", "verify", str(garbage)])
    assert unreadable.exit_code == 1 and "không phải văn bản PDF" in unreadable.output


def test_cli_verify_reports_content_added_after_signing(app, kiosk, tmp_path):
    kiosk.walk_to(8)
    appended = tmp_path / "appended.pdf"
    appended.write_bytes(_stored(app, "contract") + b"\n% added later\n")
    result = app.test_cli_runner().invoke(args=["documents", "verify", str(appended)])
    assert result.exit_code == 1
    assert "thêm nội dung sau khi ký" in result.output


def test_make_sandbox_cert_keeps_an_existing_one_unless_forced(app):
    runner = app.test_cli_runner()
    files = document_seal.sandbox_files(app.instance_path)
    before = files.p12.read_bytes()
    kept = runner.invoke(args=["documents", "make-sandbox-cert"])
    assert kept.exit_code == 0 and "đã có sẵn" in kept.output
    assert files.p12.read_bytes() == before
    made = runner.invoke(args=["documents", "make-sandbox-cert", "--force"])
    assert made.exit_code == 0 and "Đã tạo" in made.output
    assert files.p12.read_bytes() != before
    for path in (files.p12, files.password, files.ca):
        assert os.stat(path).st_mode & 0o077 == 0  # the key and its password: owner only


def test_a_first_start_without_set_up_makes_the_sandbox_certificate(tmp_path):
    from kiosk import create_app

    app = create_app(bare_config(tmp_path / "fresh"))
    files = document_seal.sandbox_files(app.instance_path)
    assert files.exist()
    assert app.extensions[document_seal.EXTENSION_KEY].seal.source == "sandbox"


# ---- A real certificate, and settings that cannot work ------------------------------------------

def _real_settings(folder, **extra):
    return {"OFFICE_SIGNING_P12": str(folder / "office.p12"),
            "OFFICE_SIGNING_P12_PASSWORD": "real-pass",
            "OFFICE_SIGNING_TRUST_ROOTS": str(folder / "ca.pem"), **extra}


def test_the_sandbox_certificate_is_never_used_when_a_real_one_is_configured(
        tmp_path, real_certificate):
    from tests.kiosk_driver import KioskDriver

    app = make_app(tmp_path, fake_vision=True, **_real_settings(real_certificate))
    # Set-up's sandbox files are there (make_app copies them) and still not used.
    assert document_seal.sandbox_files(app.instance_path).exist()
    assert app.extensions[document_seal.EXTENSION_KEY].seal.source == "pkcs12"
    KioskDriver(kiosk_client(app)).walk_to(8)
    sealed = _stored(app, "contract")
    real_roots = load_roots([(real_certificate / "ca.pem").read_bytes()])
    status = pyhanko_status(sealed, real_roots)
    assert status.trusted and status.coverage.name == "ENTIRE_FILE"
    assert status.signing_cert.subject.native["organization_name"] == "VNPT Thanh Hoa"
    with app.test_request_context():
        result = document_seal.documents_verify(sealed)
        assert result.valid and any("VNPT Thanh Hoa" in line for line in result.lines)
        # The sandbox CA is not trusted while the real certificate is in use.
        sandbox_files = document_seal.sandbox_files(sandbox_signing_dir())
        by_sandbox = sign_pdf(render_contract(make_ctx()), SIGNATURE, seal=load_pkcs12(
            sandbox_files.p12, sandbox_files.password.read_bytes()))
        refused = document_seal.documents_verify(by_sandbox)
        assert not refused.valid
        assert any("không do đơn vị cấp chứng thư tin cậy cấp" in line for line in refused.lines)


@pytest.mark.parametrize(("change", "message"), [
    ({"OFFICE_SIGNING_P12_PASSWORD": "wrong"}, "sai mật khẩu"),
    ({"OFFICE_SIGNING_P12_PASSWORD": None}, "sai mật khẩu"),
    ({"OFFICE_SIGNING_P12": "/nonexistent/office.p12"}, "Không đọc được tệp chứng thư số"),
    ({"OFFICE_SIGNING_TRUST_ROOTS": None}, "Thiếu chứng thư gốc"),
    ({"OFFICE_SIGNING_TRUST_ROOTS": "/nonexistent/ca.pem"}, "Không đọc được chứng thư gốc"),
    ({"OFFICE_SIGNING_PKCS11_LIB": "/usr/lib/x.so"}, "Chỉ chọn một nguồn"),
])
def test_a_configured_certificate_that_cannot_be_used_stops_the_start(
        tmp_path, real_certificate, change, message):
    from kiosk import create_app

    settings = {**_real_settings(real_certificate), **change}
    with pytest.raises(SealConfigError, match=message):
        create_app({**bare_config(tmp_path / "i"), **settings})


@pytest.mark.parametrize(("settings", "message"), [
    ({"OFFICE_SIGNING_PKCS11_LIB": "/nonexistent/libtoken.so",
      "OFFICE_SIGNING_PKCS11_TOKEN": "VNPT", "OFFICE_SIGNING_PKCS11_KEY": "seal"},
     "Không tìm thấy thư viện PKCS#11"),
    ({"OFFICE_SIGNING_PKCS11_LIB": "/nonexistent/libtoken.so"}, "Thiếu tên token"),
])
def test_a_token_that_cannot_be_used_stops_the_start(tmp_path, real_certificate, settings,
                                                     message):
    from kiosk import create_app

    with pytest.raises(SealConfigError, match=message):
        create_app({**bare_config(tmp_path / "i"),
                    "OFFICE_SIGNING_TRUST_ROOTS": str(real_certificate / "ca.pem"), **settings})


# ---- The staff console ---------------------------------------------------------------------------

def test_console_checks_the_seal_of_a_stored_document(app, kiosk):
    kiosk.walk_to(8)
    reg = kiosk.registration()
    clerk = Clerk(app)
    detail = clerk.html(f"/staff/r/{reg.number}")
    with app.app_context():
        contract = db.session.scalar(select(Document).where(Document.kind == "contract"))
        contract_id = contract.id
    url = f"/staff/r/{reg.number}/document/{contract_id}/verify"
    assert "Kiểm tra chữ ký" in detail and url in detail
    html = clerk.html(url)
    assert "Chữ ký số hợp lệ." in html and SANDBOX_ORGANIZATION in html
    assert "không thay đổi kể từ khi ký" in html
    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent).where(
            AuditEvent.event == "staff_verified_document")))
    assert len(events) == 1 and events[0].details["valid"] is True
    assert clerk.get(f"/staff/r/{reg.number}/document/999999/verify").status_code == 404
    assert clerk.get(f"/staff/r/NOPE/document/{contract_id}/verify").status_code == 404


def test_console_shows_a_tampered_document_as_not_valid(app, kiosk):
    kiosk.walk_to(8)
    reg = kiosk.registration()
    with app.app_context():
        contract = db.session.scalar(select(Document).where(Document.kind == "contract"))
        contract.content = flip_byte(contract.content, len(contract.content) // 2)
        contract_id = contract.id
        db.session.commit()
    html = Clerk(app).html(f"/staff/r/{reg.number}/document/{contract_id}/verify")
    assert "Chữ ký số KHÔNG hợp lệ." in html and "đã bị sửa sau khi ký" in html


# ---- Timestamping (PAdES B-T) ---------------------------------------------------------------------

@pytest.fixture
def tsa_url():
    """An RFC 3161 timestamp server on localhost: pyHanko's own test TSA behind HTTP, with a
    self-signed certificate for timeStamping."""
    import datetime as dt
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from asn1crypto import keys, tsp
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # the test TSA: RSA only
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                           critical=True)
            .sign(key, hashes.SHA256()))
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            body = stamper.request_tsa_response(request).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def test_with_a_timestamp_server_the_seal_carries_a_timestamp(sandbox, tsa_url):
    from dataclasses import replace

    seal, roots = sandbox
    sign_pdf(render_contract(make_ctx()), SIGNATURE, seal=seal)  # learns the space without one
    sealed = sign_pdf(render_contract(make_ctx()), SIGNATURE, seal=replace(seal, tsa_url=tsa_url))
    status = pyhanko_status(sealed, roots)
    assert status.intact and status.trusted and status.coverage.name == "ENTIRE_FILE"
    assert status.timestamp_validity is not None and status.timestamp_validity.intact
    from kiosk.documents.seal_check import check

    assert check(sealed, roots).timestamped


def test_a_timestamp_server_that_does_not_answer_leaves_the_step_to_sign_again(app, kiosk):
    """No seal, no signed copy: the customer sees why and signs again once it works."""
    from dataclasses import replace

    from kiosk.services import signing

    kiosk.walk_to(7)
    setup = app.extensions[document_seal.EXTENSION_KEY]
    app.extensions[document_seal.EXTENSION_KEY] = replace(
        setup, seal=replace(setup.seal, tsa_url="http://127.0.0.1:9/"))
    refused = kiosk.sign(7)
    assert refused.status_code == 200
    assert signing.SEAL_FAILED in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Document).where(Document.kind == "contract")) is None
    app.extensions[document_seal.EXTENSION_KEY] = setup
    kiosk.sign(7)
    assert kiosk.registration().furthest_step >= 8


# ---- A PKCS#11 token (SoftHSM) ------------------------------------------------------------------

SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"


@pytest.fixture(scope="module")
def softhsm_token(tmp_path_factory, real_certificate):
    """A SoftHSM token holding the «real» office key and certificate (label ``seal``)."""
    if not os.path.exists(SOFTHSM) or shutil.which("softhsm2-util") is None:
        pytest.skip("softhsm2 is not installed (scripts/setup.sh --test)")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)  # read when the library initialises, once
    key, cert, _ = pkcs12.load_key_and_certificates(
        (real_certificate / "office.p12").read_bytes(), b"real-pass")
    (folder / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    util = ["softhsm2-util"]
    subprocess.run(util + ["--init-token", "--free", "--label", "VNPT-TEST", "--pin", "1234",
                           "--so-pin", "5678"], check=True, capture_output=True)
    subprocess.run(util + ["--import", str(folder / "key.pem"), "--token", "VNPT-TEST",
                           "--label", "seal", "--id", "01", "--pin", "1234"],
                   check=True, capture_output=True)
    import pkcs11
    from pkcs11 import Attribute, CertificateType, ObjectClass

    token = pkcs11.lib(SOFTHSM).get_token(token_label="VNPT-TEST")
    with token.open(rw=True, user_pin="1234") as session:
        session.create_object({
            Attribute.CLASS: ObjectClass.CERTIFICATE,
            Attribute.CERTIFICATE_TYPE: CertificateType.X_509, Attribute.TOKEN: True,
            Attribute.LABEL: "seal", Attribute.ID: b"\x01",
            Attribute.SUBJECT: cert.subject.public_bytes(),  # SoftHSM requires it
            Attribute.VALUE: cert.public_bytes(serialization.Encoding.DER)})
    return {"OFFICE_SIGNING_PKCS11_LIB": SOFTHSM, "OFFICE_SIGNING_PKCS11_TOKEN": "VNPT-TEST",
            "OFFICE_SIGNING_PKCS11_KEY": "seal", "OFFICE_SIGNING_PKCS11_PIN": "1234",
            "OFFICE_SIGNING_TRUST_ROOTS": str(real_certificate / "ca.pem")}


def test_a_token_seals_the_documents(tmp_path, softhsm_token, real_certificate):
    from tests.kiosk_driver import KioskDriver

    app = make_app(tmp_path, fake_vision=True, **softhsm_token)
    assert app.extensions[document_seal.EXTENSION_KEY].seal.source == "pkcs11"
    KioskDriver(kiosk_client(app)).walk_to(10)
    # the contract built by pyHanko, the acceptance record from its pattern: both signed on the
    # token
    assert app.extensions[document_seal.EXTENSION_KEY].seal._patterned.learnt("sha256")
    for kind in ("contract", "acceptance"):
        status = pyhanko_status(_stored(app, kind),
                                load_roots([(real_certificate / "ca.pem").read_bytes()]))
        assert status.intact and status.trusted and status.coverage.name == "ENTIRE_FILE"
        assert status.signing_cert.subject.native["organization_name"] == "VNPT Thanh Hoa"


@pytest.mark.parametrize(("change", "message"), [
    ({"OFFICE_SIGNING_PKCS11_PIN": "0000"}, "Không dùng được token"),
    ({"OFFICE_SIGNING_PKCS11_TOKEN": "NO-SUCH-TOKEN"}, "Không dùng được token"),
    ({"OFFICE_SIGNING_PKCS11_KEY": "no-such-key"}, "Không dùng được token"),
])
def test_a_token_with_a_wrong_pin_label_or_key_stops_the_start(tmp_path, softhsm_token, change,
                                                               message):
    from kiosk import create_app

    with pytest.raises(SealConfigError, match=message):
        create_app({**bare_config(tmp_path / "i"), **softhsm_token, **change})
