"""The office's digital seal on a signed document: PAdES with the office's certificate.

The customer signs on the screen (a drawing, not a digital signature: their SmartCA
certificate exists only after activation). The office then signs the document they signed
with its own certificate, PAdES baseline B-B, or B-T when a timestamp server is configured
(ETSI EN 319 142-1; Circular 15/2025/TT-BKHCN names PAdES for PDF). The key comes from a
PKCS#12 file or a PKCS#11 token (a USB token or an HSM); docs/signing.md.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_cms import Signer, SimpleSigner
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

from kiosk.documents import outside_loop
from kiosk.documents.seal_pattern import PatternSigner

SEAL_FIELD = "DauVNPT"  # the signature field's name: one seal per signed copy
SEAL_REASON = "Đóng dấu văn bản khách hàng đã ký tại quầy"


class SealError(RuntimeError):
    """The seal could not be made (a timestamp server that did not answer, a token pulled out):
    no signed copy, the customer may sign again."""


class SealConfigError(RuntimeError):
    """The configured certificate cannot be used; the message says what to fix (Vietnamese
    first, then English for the operator's logs)."""


@dataclass(frozen=True)
class OfficeSeal:
    """A loaded signer (PKCS#12 key in memory, or a token session) and its timestamp server."""

    signer: Signer
    source: str  # "pkcs12" | "pkcs11" | "sandbox": shown in logs and the console
    tsa_url: str | None = None
    location: str = "VNPT Thanh Hóa"
    # The space the signature takes in the file, learnt from this seal's first signature (what
    # pyHanko reserves: a trial signature's size plus half again, for a timestamp token that
    # comes back longer). Without it pyHanko makes that trial signature on every document, a third
    # of each seal's CPU, and asks the timestamp server twice. Not an __init__ field, so a copy
    # with another certificate or timestamp server (dataclasses.replace) learns its own.
    _reserved: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    # What pyHanko is given to sign with: the same signer, whose CMS containers after the first
    # are built from the first one's pattern (seal_pattern.py: ~20 ms of CPU less a document).
    _patterned: PatternSigner = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_patterned", PatternSigner(self.signer))

    @property
    def subject(self) -> str:
        return self.signer.signing_cert.subject.human_friendly

    def sign(self, writer: IncrementalPdfFileWriter) -> bytes:
        """Write ``writer``'s pending update with the office's signature over the whole file."""
        meta = signers.PdfSignatureMetadata(
            field_name=SEAL_FIELD, md_algorithm="sha256", subfilter=SigSeedSubFilter.PADES,
            reason=SEAL_REASON, location=self.location)
        # With a timestamp server the signature gets its token: PAdES B-T; without, B-B.
        timestamper = (RequestsHTTPTimeStamper(self.tsa_url, timeout=10)
                       if self.tsa_url else None)
        out = io.BytesIO()
        reserved = self._reserved.get("bytes")
        try:
            signer = signers.PdfSigner(meta, signer=self._patterned, timestamper=timestamper)
            outside_loop.call(lambda: signer.sign_pdf(writer, output=out,
                                                      bytes_reserved=reserved))
        # Whatever failed (the network, the token, the server's answer), there is no sealed
        # copy: one error the signing step turns into «try again», with the cause logged. The
        # next try measures the signature's space afresh (a longer timestamp token, say).
        except Exception as exc:
            self._reserved.clear()
            raise SealError(f"{type(exc).__name__}: {exc}") from exc
        sealed = out.getvalue()
        if reserved is None:
            self._reserved["bytes"] = reserved_space(sealed)
        return sealed


_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+\d+\s*\]")


def reserved_space(sealed: bytes) -> int | None:
    """The hex digits reserved for the last signature of ``sealed``: the gap its /ByteRange
    leaves, less the two angle brackets (how pyHanko measures it)."""
    found = _BYTE_RANGE.findall(sealed)
    if not found:
        return None
    start, end = (int(x) for x in found[-1])
    return end - start - 2


def load_pkcs12(path: str | Path, password: str | bytes | None, *, source: str = "pkcs12",
                tsa_url: str | None = None) -> OfficeSeal:
    """The office's seal from a PKCS#12 file; :class:`SealConfigError` when the file is
    missing, unreadable, the password is wrong, or it holds no key and certificate."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SealConfigError(
            f"Không đọc được tệp chứng thư số của đơn vị {path}: {exc.strerror}. "
            f"(OFFICE_SIGNING_P12: cannot read {path})") from exc
    if isinstance(password, str):
        password = password.encode()
    try:
        signer = SimpleSigner.load_pkcs12_data(data, other_certs=(), passphrase=password or None)
    except ValueError as exc:
        raise SealConfigError(
            f"Không mở được tệp chứng thư số {path}: sai mật khẩu hoặc tệp hỏng. "
            f"(OFFICE_SIGNING_P12: wrong password or not a PKCS#12 file with a key)") from exc
    if signer.signing_cert is None or signer.signing_key is None:
        raise SealConfigError(f"Tệp {path} không có khoá và chứng thư số. "
                              f"(OFFICE_SIGNING_P12: no key and certificate in the file)")
    return OfficeSeal(signer=signer, source=source, tsa_url=tsa_url)


def load_pkcs11(library: str, token_label: str, key_label: str, pin: str | None, *,
                cert_label: str | None = None, tsa_url: str | None = None) -> OfficeSeal:
    """The office's seal from a PKCS#11 token (python-pkcs11 through pyHanko); the session
    stays open for the process. :class:`SealConfigError` when the library, the token, the PIN
    or the key is not there."""
    try:
        from pkcs11 import PKCS11Error
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.sign import pkcs11
    except ImportError as exc:  # python-pkcs11 is a dependency; a broken install says so
        raise SealConfigError("Thiếu thư viện python-pkcs11 để dùng token. "
                              "(OFFICE_SIGNING_PKCS11_LIB needs python-pkcs11)") from exc
    if not Path(library).is_file():
        raise SealConfigError(f"Không tìm thấy thư viện PKCS#11 {library}. "
                              f"(OFFICE_SIGNING_PKCS11_LIB: no such file)")
    try:
        session = pkcs11.open_pkcs11_session(
            library, token_criteria=TokenCriteria(label=token_label), user_pin=pin)
        signer = pkcs11.PKCS11Signer(session, key_label=key_label,
                                     cert_label=cert_label or key_label)
        certificate = signer.signing_cert  # fetched now: a wrong label fails at start
        # Every EC token does raw ECDSA on a hash; many lack ECDSA-with-SHA-256 (SoftHSM does):
        # hash here, sign the hash there. RSA tokens sign SHA-256 with PKCS#1 v1.5 themselves.
        signer.use_raw_mechanism = certificate.public_key.algorithm == "ec"
    except (PKCS11Error, OSError, ValueError, SigningError) as exc:
        raise SealConfigError(
            f"Không dùng được token {token_label!r} (khoá {key_label!r}): {exc}. "
            f"(OFFICE_SIGNING_PKCS11_*: token, PIN or key label not usable)") from exc
    return OfficeSeal(signer=signer, source="pkcs11", tsa_url=tsa_url)
