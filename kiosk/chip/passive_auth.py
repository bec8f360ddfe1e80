"""Passive authentication (ICAO 9303-11 §5.1): the data groups are what the issuer signed.

Levels reached, each including the previous one:
  "none"      - no usable SOD, or a data group does not match its hash
  "hashes"    - every data group read matches the hash in the SOD's LDS security object
  "signature" - and the SOD's CMS signature verifies with the document-signer certificate in it
  "chain"     - and that certificate was issued by a CSCA certificate the operator installed
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import algos, cms, core
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from kiosk.chip.errors import ParseError
from kiosk.chip.tlv import read_tlv

LDS_SECURITY_OBJECT_OID = "2.23.136.1.1.1"


class DataGroupHash(core.Sequence):
    _fields = [("data_group_number", core.Integer), ("data_group_hash_value", core.OctetString)]


class DataGroupHashValues(core.SequenceOf):
    _child_spec = DataGroupHash


class LDSVersionInfo(core.Sequence):
    _fields = [("lds_version", core.PrintableString), ("unicode_version", core.PrintableString)]


class LDSSecurityObject(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("data_group_hash_values", DataGroupHashValues),
        ("lds_version_info", LDSVersionInfo, {"optional": True}),
    ]


_HASHES = {"sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
           "sha384": hashes.SHA384, "sha512": hashes.SHA512}


def _digest(name: str, data: bytes) -> bytes:
    if name not in _HASHES:
        raise ParseError(f"SOD dùng thuật toán băm lạ ({name}).")
    return hashlib.new(name, data).digest()


@dataclass
class SodContent:
    hash_algorithm: str
    hashes: dict[int, bytes]
    signed_data: cms.SignedData = field(repr=False)
    econtent: bytes = field(repr=False)


def parse_sod(data: bytes) -> SodContent:
    try:
        tag, value, _ = read_tlv(data)
        if tag != 0x77:
            raise ValueError(f"tag {tag:X}")
        info = cms.ContentInfo.load(value)
        if info["content_type"].native != "signed_data":
            raise ValueError("not SignedData")
        signed = info["content"]
        encap = signed["encap_content_info"]
        if encap["content_type"].dotted != LDS_SECURITY_OBJECT_OID:
            raise ValueError("not an LDS security object")
        econtent = encap["content"].contents
        if econtent[:1] == b"\x04":  # some encoders leave the inner OCTET STRING header
            econtent = core.OctetString.load(econtent).native
        lso = LDSSecurityObject.load(econtent)
        algorithm = lso["hash_algorithm"]["algorithm"].native
        table = {int(h["data_group_number"].native): h["data_group_hash_value"].native
                 for h in lso["data_group_hash_values"]}
    except ParseError:
        raise
    except Exception as exc:
        raise ParseError("Đối tượng bảo mật (SOD) của chip không đọc được.", detail=str(exc)) from None
    return SodContent(algorithm, table, signed, econtent)


@dataclass
class PassiveAuthResult:
    level: str = "none"
    hash_algorithm: str | None = None
    data_groups: dict[int, str] = field(default_factory=dict)  # n → "match" | "mismatch" | "not_read"
    problems: list[str] = field(default_factory=list)
    signer: str | None = None
    csca: str | None = None

    def as_dict(self) -> dict:
        return {"level": self.level, "hash_algorithm": self.hash_algorithm,
                "data_groups": {f"DG{n}": s for n, s in sorted(self.data_groups.items())},
                "problems": list(self.problems), "signer": self.signer, "csca": self.csca}

    @property
    def message(self) -> str:
        return {
            "none": "Không xác thực được dữ liệu chip (dữ liệu bị sửa hoặc thiếu chữ ký).",
            "hashes": "Dữ liệu khớp mã băm trong chip nhưng chữ ký của nơi cấp chưa xác minh được.",
            "signature": "Dữ liệu chip có chữ ký hợp lệ của cơ quan cấp (chưa đối chiếu chứng thư gốc CSCA).",
            "chain": "Dữ liệu chip có chữ ký hợp lệ, chuỗi chứng thư đến CSCA đã được xác minh.",
        }[self.level]


def verify(sod_bytes: bytes | None, data_groups: dict[int, bytes], csca_dir: str | Path | None = None,
           now: datetime | None = None) -> PassiveAuthResult:
    result = PassiveAuthResult()
    if not sod_bytes:
        result.problems.append("sod_missing")
        return result
    try:
        sod = parse_sod(sod_bytes)
    except ParseError:
        result.problems.append("sod_unreadable")
        return result
    result.hash_algorithm = sod.hash_algorithm
    ok = True
    for number, content in sorted(data_groups.items()):
        expected = sod.hashes.get(number)
        if expected is None:
            result.data_groups[number] = "not_in_sod"
            result.problems.append(f"dg{number}_not_in_sod")
            ok = False
            continue
        match = hmac.compare_digest(_digest(sod.hash_algorithm, content), expected)
        result.data_groups[number] = "match" if match else "mismatch"
        if not match:
            result.problems.append(f"dg{number}_hash_mismatch")
            ok = False
    for number in sod.hashes:
        result.data_groups.setdefault(number, "not_read")
    if not ok:
        return result
    result.level = "hashes"
    try:
        cert = _verify_signature(sod)
    except _Invalid as exc:
        result.problems.append(exc.args[0])
        return result
    result.level = "signature"
    result.signer = cert.subject.rfc4514_string()
    now = now or datetime.now(UTC)
    if not (cert.not_valid_before_utc <= now <= cert.not_valid_after_utc):
        # a document signer signs for a few months but its documents stay valid for years:
        # report, do not fail (ICAO 9303-12 §5)
        result.problems.append("signer_certificate_outside_validity")
    if csca_dir:
        csca = _find_issuer(cert, Path(csca_dir))
        if csca is None:
            result.problems.append("csca_not_found")
        else:
            result.level = "chain"
            result.csca = csca.subject.rfc4514_string()
    return result


class _Invalid(Exception):
    pass


def _verify_signature(sod: SodContent) -> x509.Certificate:
    signed = sod.signed_data
    infos = signed["signer_infos"]
    if len(infos) == 0:
        raise _Invalid("no_signer_info")
    signer = infos[0]
    cert_choice = _signer_certificate(signed, signer)
    if cert_choice is None:
        raise _Invalid("signer_certificate_missing")
    cert = x509.load_der_x509_certificate(cert_choice.dump())
    digest_name = signer["digest_algorithm"]["algorithm"].native
    attrs = signer["signed_attrs"]
    if attrs.native is None or len(attrs) == 0:
        message = sod.econtent
    else:
        digests = [a["values"][0].native for a in attrs if a["type"].native == "message_digest"]
        if not digests or not hmac.compare_digest(digests[0], _digest(digest_name, sod.econtent)):
            raise _Invalid("message_digest_mismatch")
        message = b"\x31" + attrs.dump()[1:]  # signed over the SET OF, not the [0] tag
    signature = signer["signature"].native
    algo = signer["signature_algorithm"]
    hash_cls = _HASHES.get(digest_name)
    if hash_cls is None:
        raise _Invalid("unknown_digest")
    key = cert.public_key()
    try:
        sig_name = algo.signature_algo
        if sig_name == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(hash_cls()))
        elif sig_name == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), hash_cls())
        elif sig_name == "rsassa_pss" and isinstance(key, rsa.RSAPublicKey):
            params = algo["parameters"]
            pss_hash = _HASHES[params["hash_algorithm"]["algorithm"].native]
            key.verify(signature, message,
                       padding.PSS(padding.MGF1(pss_hash()), params["salt_length"].native), pss_hash())
        else:
            raise _Invalid("unsupported_signature_algorithm")
    except InvalidSignature:
        raise _Invalid("bad_signature") from None
    except ValueError:
        raise _Invalid("unsupported_signature_algorithm") from None
    return cert


def _signer_certificate(signed: cms.SignedData, signer: cms.SignerInfo):
    sid = signer["sid"]
    for choice in signed["certificates"] or []:
        if choice.name != "certificate":
            continue
        cert = choice.chosen
        if sid.name == "issuer_and_serial_number":
            if (cert.issuer == sid.chosen["issuer"]
                    and cert.serial_number == sid.chosen["serial_number"].native):
                return cert
        elif cert.key_identifier == sid.chosen.native:
            return cert
    return None


def load_cscas(folder: Path) -> list[x509.Certificate]:
    certs = []
    if not folder.is_dir():
        return certs
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in (".pem", ".crt", ".cer", ".der"):
            continue
        data = path.read_bytes()
        try:
            if b"-----BEGIN CERTIFICATE-----" in data:
                certs.extend(x509.load_pem_x509_certificates(data))
            else:
                certs.append(x509.load_der_x509_certificate(data))
        except ValueError:
            continue  # an unreadable file in the folder does not stop the others
    return certs


def _find_issuer(cert: x509.Certificate, folder: Path) -> x509.Certificate | None:
    for csca in load_cscas(folder):
        if csca.subject != cert.issuer:
            continue
        try:
            cert.verify_directly_issued_by(csca)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return csca
    return None
