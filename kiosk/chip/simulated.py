"""An in-process CCCD chip: the card side of BAC, PACE (ECDH-GM, AES) and secure messaging,
serving generated data groups and an SOD signed by a test document signer issued by a test CSCA.

Everything is made at run time (keys with `cryptography`, the face with OpenCV); nothing here is
real personal data or a real card. It ships in the package because `flask --app kiosk chip
selftest` reads it on the installed kiosk (a reader seam like the PC/SC one, not a test helper);
the tests use it too. It sits behind the same ``transmit(apdu) -> bytes`` seam as
the PC/SC reader:

    pki = make_test_pki()
    card = SimulatedChip(make_card_files(SAMPLE_PERSON, pki), SAMPLE_PERSON)
    result = read_card(card, can=SAMPLE_PERSON.can)

Knobs for unhappy paths: ``pace=False`` (BAC-only chip), ``remove_after=N`` (the card leaves the
field after N APDUs), ``tamper(name)`` (change a data group after the SOD was signed).
"""
from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from kiosk.chip import bac, pace
from kiosk.chip import primitives as p
from kiosk.chip.apdu import Command
from kiosk.chip.ec import STANDARD_CURVES
from kiosk.chip.errors import ChipError
from kiosk.chip.keys import MrzKey, check_digit
from kiosk.chip.lds import CARD_ACCESS_FID, FILES
from kiosk.chip.passive_auth import DataGroupHash, DataGroupHashValues, LDSSecurityObject
from kiosk.chip.sm import SecureChannel
from kiosk.chip.tlv import iter_tlv, tlv

PACE_OID = "0.4.0.127.0.7.2.2.4.2.2"  # id-PACE-ECDH-GM-AES-CBC-CMAC-128
PACE_PARAMETER_ID = 13  # brainpoolP256r1
AA_INFO_OID = "2.23.136.1.1.5"
ECDSA_PLAIN_SHA256 = "0.4.0.127.0.7.1.1.4.1.3"


class CardRemoved(OSError):
    """What a reader library raises when the card leaves the field (not a ChipError)."""


@dataclass(frozen=True)
class Person:
    id_number: str = "038195001234"
    full_name: str = "Nguyễn Thị Thu Hà"
    mrz_name: str = "NGUYEN<<THI<THU<HA"
    birth_date: str = "950412"       # YYMMDD
    birth_date_text: str = "12/04/1995"
    sex: str = "F"
    sex_text: str = "Nữ"
    expiry_date: str = "350412"
    expiry_date_text: str = "12/04/2035"
    issue_date_text: str = "20/06/2021"
    home_town: str = "Hoằng Hoá, Thanh Hoá"
    residence: str = "Số 12 Lê Lợi, Phường Điện Biên, Thanh Hoá"
    ethnicity: str = "Kinh"
    religion: str = "Không"
    features: str = "Nốt ruồi C:1cm trên trước mày phải"
    father_name: str = "Nguyễn Văn Hùng"
    mother_name: str = "Lê Thị Mai"
    old_id_number: str = "173456789"

    @property
    def document_number(self) -> str:  # the MRZ document number: last 9 digits of the ID
        return self.id_number[-9:]

    @property
    def can(self) -> str:
        return self.id_number[-6:]

    @property
    def mrz_key(self) -> MrzKey:
        return MrzKey(self.document_number, self.birth_date, self.expiry_date)


SAMPLE_PERSON = Person()


# --- test PKI ---------------------------------------------------------------------------------
@dataclass
class TestPki:
    csca_key: ec.EllipticCurvePrivateKey
    csca_cert: x509.Certificate
    ds_key: ec.EllipticCurvePrivateKey
    ds_cert: x509.Certificate

    def csca_pem(self) -> bytes:
        return self.csca_cert.public_bytes(serialization.Encoding.PEM)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test issuer (not real)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_test_pki(csca_cn: str = "TEST CSCA VN") -> TestPki:
    now = datetime.now(UTC)
    csca_key = ec.generate_private_key(ec.SECP256R1())
    csca_cert = (x509.CertificateBuilder().subject_name(_name(csca_cn)).issuer_name(_name(csca_cn))
                 .public_key(csca_key.public_key()).serial_number(x509.random_serial_number())
                 .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
                 .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                 .sign(csca_key, hashes.SHA256()))
    ds_key = ec.generate_private_key(ec.SECP256R1())
    ds_cert = (x509.CertificateBuilder().subject_name(_name("TEST DOCUMENT SIGNER")).issuer_name(_name(csca_cn))
               .public_key(ds_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
               .sign(csca_key, hashes.SHA256()))
    return TestPki(csca_key, csca_cert, ds_key, ds_cert)


# --- data groups --------------------------------------------------------------------------------
def td1_mrz(person: Person) -> str:
    number = person.document_number
    opt1 = person.id_number.ljust(15, "<")
    line1 = ("IDVNM" + number + check_digit(number) + opt1)[:30]
    opt2 = "<" * 11
    line2_wo = (person.birth_date + check_digit(person.birth_date) + person.sex + person.expiry_date
                + check_digit(person.expiry_date) + "VNM" + opt2)
    composite = check_digit(line1[5:30] + line2_wo[0:7] + line2_wo[8:15] + line2_wo[18:29])
    line2 = line2_wo + composite
    line3 = person.mrz_name.ljust(30, "<")[:30]
    return line1 + line2 + line3


def face_jpeg(seed: int = 7, size: tuple[int, int] = (240, 320)) -> bytes:
    """A drawn, face-like portrait (not a photograph of anyone)."""
    rng = np.random.default_rng(seed)
    w, h = size
    img = np.full((h, w, 3), (235, 225, 215), np.uint8)
    cv2.ellipse(img, (w // 2, h // 2), (w // 3, h * 2 // 5), 0, 0, 360, (150, 180, 215), -1)
    for dx in (-1, 1):
        cv2.circle(img, (w // 2 + dx * w // 8, h * 2 // 5), 9, (60, 40, 30), -1)
    cv2.ellipse(img, (w // 2, h * 3 // 5 + 10), (w // 10, 12), 0, 0, 180, (60, 60, 160), 3)
    noise = rng.integers(0, 6, img.shape, dtype=np.uint8)
    ok, buf = cv2.imencode(".jpg", cv2.add(img, noise), [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return buf.tobytes()


def dg2_bytes(jpeg: bytes, width: int = 240, height: int = 320) -> bytes:
    facial_header = (b"\x00" * 4 + b"\x00\x00" + b"\x02\x00\x00" + b"\x00" * 3 + b"\x00\x00"
                     + b"\x00" * 3 + b"\x00" * 3)
    image_info = (b"\x01\x00" + width.to_bytes(2, "big") + height.to_bytes(2, "big")
                  + b"\x01\x02" + b"\x00\x00" + b"\x00\x00")
    record = facial_header + image_info + jpeg
    bdb = b"FAC\x00" + b"010\x00" + (14 + len(record)).to_bytes(4, "big") + b"\x00\x01" + record
    header = tlv(0xA1, tlv(0x80, b"\x01\x01") + tlv(0x87, b"\x01\x01") + tlv(0x88, b"\x00\x08"))
    instance = tlv(0x7F60, header + tlv(0x5F2E, bdb))
    return tlv(0x75, tlv(0x7F61, tlv(0x02, b"\x01") + instance))


def _utf8(text: str) -> bytes:
    return tlv(0x0C, text.encode("utf-8"))


def dg13_bytes(person: Person) -> bytes:
    def field_(n: int, *values: bytes) -> bytes:
        return tlv(0x30, tlv(0x02, bytes([n])) + b"".join(values))

    fields = [
        field_(1, tlv(0x13, person.id_number.encode())), field_(2, _utf8(person.full_name)),
        field_(3, tlv(0x13, person.birth_date_text.encode())), field_(4, _utf8(person.sex_text)),
        field_(5, _utf8("Việt Nam")), field_(6, _utf8(person.ethnicity)), field_(7, _utf8(person.religion)),
        field_(8, _utf8(person.home_town)), field_(9, _utf8(person.residence)),
        field_(10, _utf8(person.features)), field_(11, tlv(0x13, person.issue_date_text.encode())),
        field_(12, tlv(0x13, person.expiry_date_text.encode())),
        field_(13, tlv(0x30, _utf8(person.father_name)), tlv(0x30, _utf8(person.mother_name))),
        field_(14, _utf8("")), field_(15, tlv(0x13, person.old_id_number.encode())),
    ]
    return tlv(0x6D, tlv(0x30, tlv(0x02, b"\x01") + tlv(0x30, b"".join(fields))))


def _oid(dotted: str) -> bytes:
    return core.ObjectIdentifier(dotted).dump()


def pace_info() -> bytes:
    return tlv(0x30, _oid(PACE_OID) + tlv(0x02, b"\x02") + tlv(0x02, bytes([PACE_PARAMETER_ID])))


def card_access_bytes() -> bytes:
    return tlv(0x31, pace_info())


def dg14_bytes() -> bytes:
    aa_info = tlv(0x30, _oid(AA_INFO_OID) + tlv(0x02, b"\x01") + _oid(ECDSA_PLAIN_SHA256))
    return tlv(0x6E, tlv(0x31, pace_info() + aa_info))


def dg15_bytes(aa_key: ec.EllipticCurvePrivateKey) -> bytes:
    spki = aa_key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return tlv(0x6F, spki)


def com_bytes() -> bytes:
    return tlv(0x60, tlv(0x5F01, b"0107") + tlv(0x5F36, b"040000") + tlv(0x5C, bytes([0x61, 0x75, 0x6D, 0x6E, 0x6F])))


def sign_sod(data_groups: dict[int, bytes], pki: TestPki) -> bytes:
    """An EF.SOD: LDS security object with SHA-256 hashes, CMS-signed by the document signer."""
    lso = LDSSecurityObject({
        "version": 0,
        "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
        "data_group_hash_values": DataGroupHashValues([
            DataGroupHash({"data_group_number": n, "data_group_hash_value": hashlib.sha256(v).digest()})
            for n, v in sorted(data_groups.items())]),
    }).dump()
    ds_asn1 = asn1_x509.Certificate.load(pki.ds_cert.public_bytes(serialization.Encoding.DER))
    signed_attrs = cms.CMSAttributes([
        cms.CMSAttribute({"type": "content_type", "values": ["2.23.136.1.1.1"]}),
        cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(lso).digest()]}),
    ])
    signature = pki.ds_key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
    signer = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
            "issuer": ds_asn1.issuer, "serial_number": ds_asn1.serial_number})}),
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
        "signed_attrs": signed_attrs,
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
        "signature": signature,
    })
    signed = cms.SignedData({
        "version": "v3",
        "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
        "encap_content_info": cms.EncapsulatedContentInfo({
            "content_type": "2.23.136.1.1.1",
            "content": core.ParsableOctetString(lso)}),
        "certificates": [ds_asn1],
        "signer_infos": [signer],
    })
    info = cms.ContentInfo({"content_type": "signed_data", "content": signed})
    return tlv(0x77, info.dump())


@dataclass
class CardFiles:
    files: dict[str, bytes]
    aa_key: ec.EllipticCurvePrivateKey | None
    jpeg: bytes
    pki: TestPki


def make_card_files(person: Person, pki: TestPki, *, with_aa: bool = True, seed: int = 7) -> CardFiles:
    jpeg = face_jpeg(seed)
    aa_key = ec.generate_private_key(ec.SECP256R1()) if with_aa else None
    files = {"COM": com_bytes(), "DG1": tlv(0x61, tlv(0x5F1F, td1_mrz(person).encode())),
             "DG2": dg2_bytes(jpeg), "DG13": dg13_bytes(person), "DG14": dg14_bytes()}
    if aa_key is not None:
        files["DG15"] = dg15_bytes(aa_key)
    numbers = {int(n[2:]): v for n, v in files.items() if n.startswith("DG")}
    files["SOD"] = sign_sod(numbers, pki)
    return CardFiles(files, aa_key, jpeg, pki)


# --- the card ----------------------------------------------------------------------------------
@dataclass
class SimulatedChip:
    card: CardFiles
    person: Person
    pace: bool = True
    bac: bool = True
    remove_after: int | None = None
    card_access_by_sfi_only: bool = False  # refuse SELECT of EF.CardAccess, serve READ BINARY by SFI
    log: list[bytes] = field(default_factory=list, repr=False)

    def __post_init__(self):
        self.files = dict(self.card.files)
        self._fid = {fid: name for name, (fid, _) in FILES.items()}
        self._channel: SecureChannel | None = None
        self._app = False
        self._selected: bytes | None = None
        self._rnd_ic: bytes | None = None
        self._pace: dict = {}
        self._pending: SecureChannel | None = None

    def tamper(self, name: str, offset: int = -3) -> None:
        """Flip one byte of a file after the SOD was signed (as a forger would)."""
        data = bytearray(self.files[name])
        data[offset] ^= 0x01
        self.files[name] = bytes(data)

    # the seam
    def transmit(self, apdu: bytes) -> bytes:
        self.log.append(apdu)
        if self.remove_after is not None and len(self.log) > self.remove_after:
            raise CardRemoved("card left the field")
        protected = apdu[0] & 0x0C == 0x0C
        if self._channel is not None and protected:
            try:
                cmd = self._channel.unprotect_command(apdu)
            except ChipError:
                self._channel = None  # an SM error ends the session (ICAO 9303-11 §9.8.4)
                return b"\x69\x88"
            data, sw = self._dispatch(cmd)
            if self._channel is None:  # the command itself ended the session
                return sw.to_bytes(2, "big")
            return self._channel.protect_response(data, sw)
        if protected:
            return b"\x69\x88"
        if self._channel is not None:
            self._channel = None  # a plain command aborts secure messaging
        try:
            cmd = Command.decode(apdu)
        except ValueError:
            return b"\x67\x00"
        data, sw = self._dispatch(cmd)
        if self._pending is not None:  # BAC / PACE done: SM starts with the next command
            self._channel, self._pending = self._pending, None
        return data + sw.to_bytes(2, "big")

    def _dispatch(self, cmd: Command) -> tuple[bytes, int]:
        handler = {0xA4: self._select, 0xB0: self._read_binary, 0x84: self._get_challenge,
                   0x82: self._external_authenticate, 0x22: self._mse, 0x86: self._general_authenticate,
                   0x88: self._internal_authenticate}.get(cmd.ins)
        if handler is None:
            return b"", 0x6D00
        return handler(cmd)

    def _select(self, cmd: Command) -> tuple[bytes, int]:
        if cmd.p1 == 0x04:
            if cmd.data == bytes.fromhex("A0000002471001"):
                self._app, self._selected = True, None
                return b"", 0x9000
            return b"", 0x6A82
        if cmd.p1 == 0x00:
            self._app, self._selected = False, None
            return b"", 0x9000
        fid = int.from_bytes(cmd.data, "big")
        if fid == CARD_ACCESS_FID and self.pace and not self.card_access_by_sfi_only:
            self._selected = card_access_bytes()
            return b"", 0x9000
        name = self._fid.get(fid)
        if not self._app or name is None or name not in self.files:
            return b"", 0x6A82
        if self._channel is None:
            return b"", 0x6982
        self._selected = self.files[name]
        return b"", 0x9000

    def _read_binary(self, cmd: Command) -> tuple[bytes, int]:
        if cmd.p1 & 0x80:  # short file identifier in P1: only EF.CardAccess (0x1C) here
            if cmd.p1 & 0x1F != 0x1C or not self.pace or self._channel is not None:
                return b"", 0x6A82
            return card_access_bytes()[:cmd.le or 256], 0x9000
        if self._selected is None:
            return b"", 0x6986
        offset = (cmd.p1 << 8) | cmd.p2
        if offset > len(self._selected):
            return b"", 0x6B00
        chunk = self._selected[offset:offset + (cmd.le or 256)]
        return chunk, 0x9000 if len(chunk) == (cmd.le or 256) else 0x6282

    # BAC
    def _get_challenge(self, cmd: Command) -> tuple[bytes, int]:
        if not self.bac:
            return b"", 0x6D00
        self._rnd_ic = os.urandom(8)
        return self._rnd_ic, 0x9000

    def _external_authenticate(self, cmd: Command) -> tuple[bytes, int]:
        if self._rnd_ic is None or len(cmd.data) != 40:
            return b"", 0x6985
        keys = bac.BacKeys.from_mrz(self.person.mrz_key)
        e_ifd, m_ifd = cmd.data[:32], cmd.data[32:]
        if not hmac.compare_digest(p.retail_mac(keys.k_mac, p.pad(e_ifd, 8)), m_ifd):
            return b"", 0x6300
        s = p.des3_decrypt(keys.k_enc, e_ifd)
        rnd_ifd, rnd_ic, k_ifd = s[:8], s[8:16], s[16:]
        if rnd_ic != self._rnd_ic:
            return b"", 0x6300
        k_ic = os.urandom(16)
        e_ic = p.des3_encrypt(keys.k_enc, rnd_ic + rnd_ifd + k_ic)
        self._rnd_ic = None
        response = e_ic + p.retail_mac(keys.k_mac, p.pad(e_ic, 8))
        self._pending = bac.session_from_keys(k_ifd, k_ic, rnd_ic, rnd_ifd)
        self._channel = None
        return response, 0x9000

    # PACE
    def _mse(self, cmd: Command) -> tuple[bytes, int]:
        items = dict(iter_tlv(cmd.data))
        oid = core.ObjectIdentifier.load(tlv(0x06, items.get(0x80, b""))).dotted if 0x80 in items else None
        if not self.pace or oid != PACE_OID or items.get(0x84) != bytes([PACE_PARAMETER_ID]):
            return b"", 0x6A80
        ref = items.get(0x83, b"\x00")[0]
        if ref == pace.PASSWORD_CAN:
            password = self.person.can.encode()
        elif ref == pace.PASSWORD_MRZ:
            password = self.person.mrz_key.pace_password()
        else:
            return b"", 0x6A88
        self._pace = {"step": 0, "k_pi": pace.password_key(password, "AES", 128)}
        return b"", 0x9000

    def _general_authenticate(self, cmd: Command) -> tuple[bytes, int]:
        state = self._pace
        if not state:
            return b"", 0x6985
        curve = STANDARD_CURVES[PACE_PARAMETER_ID]
        items = dict(iter_tlv(dict(iter_tlv(cmd.data)).get(0x7C, b"")))
        step = state["step"]
        try:
            if step == 0:
                state["s"] = os.urandom(16)
                state["step"] = 1
                return tlv(0x7C, tlv(0x80, p.aes_encrypt(state["k_pi"], state["s"]))), 0x9000
            if step == 1:
                pk_map_ifd = curve.decode(items[0x81])
                sk = curve.random_scalar()
                state["g"] = pace.map_generator(curve, state["s"], curve.mul(sk, pk_map_ifd))
                state["step"] = 2
                return tlv(0x7C, tlv(0x82, curve.encode(curve.mul(sk, curve.g)))), 0x9000
            if step == 2:
                pk_ifd = curve.decode(items[0x83])
                sk = curve.random_scalar()
                pk_ic = curve.mul(sk, state["g"])
                shared = curve.mul(sk, pk_ifd)
                state.update(pk_ifd=pk_ifd, pk_ic=pk_ic, step=3)
                state["keys"] = pace.session_keys(shared[0].to_bytes(curve.size, "big"), "AES", 128)
                return tlv(0x7C, tlv(0x84, curve.encode(pk_ic))), 0x9000
            if step == 3:
                oid = core.ObjectIdentifier(PACE_OID).dump()
                ks_enc, ks_mac = state["keys"]
                expected = pace.auth_token(ks_mac, oid, curve, state["pk_ic"])
                self._pace = {}
                if not hmac.compare_digest(items.get(0x85, b""), expected):
                    return b"", 0x6300
                token = pace.auth_token(ks_mac, oid, curve, state["pk_ifd"])
                self._pending = SecureChannel("AES", ks_enc, ks_mac, 0)
                return tlv(0x7C, tlv(0x86, token)), 0x9000
        except (KeyError, ChipError):
            self._pace = {}
            return b"", 0x6A80
        return b"", 0x6985

    def _internal_authenticate(self, cmd: Command) -> tuple[bytes, int]:
        key = self.card.aa_key
        if key is None or not self._app:
            return b"", 0x6D00
        r, s = decode_dss_signature(key.sign(cmd.data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big"), 0x9000
