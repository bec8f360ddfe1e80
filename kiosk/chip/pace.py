"""PACE v2 with ECDH generic mapping and AES secure messaging (ICAO 9303-11 §4.4).

The password is the CAN (6 digits printed on a CCCD) or the MRZ information. The card's
EF.CardAccess lists the PACE variants it offers; the first supported one is used.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from asn1crypto.core import ObjectIdentifier

from kiosk.chip import primitives as p
from kiosk.chip.apdu import SW_OK, Command, split_response
from kiosk.chip.ec import STANDARD_CURVES, Curve
from kiosk.chip.errors import (
    AccessDenied,
    ChipError,
    ParseError,
    SecureMessagingError,
    UnsupportedError,
)
from kiosk.chip.sm import SecureChannel
from kiosk.chip.tlv import iter_tlv, tlv

ID_PACE = "0.4.0.127.0.7.2.2.4"
ID_PACE_ECDH_GM = ID_PACE + ".2"
# suffix → (cipher, key bits) of ICAO 9303-11 §9.2.3
_CIPHERS = {1: ("3DES", 128), 2: ("AES", 128), 3: ("AES", 192), 4: ("AES", 256)}
PASSWORD_MRZ, PASSWORD_CAN = 1, 2


@dataclass(frozen=True)
class PaceInfo:
    protocol: str
    version: int
    parameter_id: int | None

    @property
    def mapping(self) -> str:
        family = self.protocol.rsplit(".", 1)[0]
        return {ID_PACE + ".1": "DH-GM", ID_PACE + ".2": "ECDH-GM", ID_PACE + ".3": "DH-IM",
                ID_PACE + ".4": "ECDH-IM", ID_PACE + ".6": "ECDH-CAM"}.get(family, "unknown")

    @property
    def supported(self) -> bool:
        suffix = int(self.protocol.rsplit(".", 1)[1])
        return (self.protocol.rsplit(".", 1)[0] == ID_PACE_ECDH_GM
                and _CIPHERS.get(suffix, ("", 0))[0] == "AES"
                and self.parameter_id in STANDARD_CURVES)

    @property
    def oid_der(self) -> bytes:
        return ObjectIdentifier(self.protocol).dump()


def parse_security_infos(data: bytes) -> list[tuple[str, list[tuple[int, bytes]]]]:
    """SecurityInfos (a SET OF SEQUENCE { OID, ... }) as (dotted OID, [(tag, value), ...])."""
    out = []
    try:
        items = list(iter_tlv(data))
        if len(items) == 1 and items[0][0] == 0x31:
            items = list(iter_tlv(items[0][1]))
        for tag, value in items:
            if tag != 0x30:
                continue
            fields = list(iter_tlv(value))
            if not fields or fields[0][0] != 0x06:
                continue
            oid = ObjectIdentifier.load(tlv(0x06, fields[0][1])).dotted
            out.append((oid, fields[1:]))
    except ChipError:
        raise
    except Exception as exc:
        raise ParseError("Danh sách cơ chế bảo mật của chip không đọc được.", detail=str(exc)) from None
    return out


def pace_infos(card_access: bytes) -> list[PaceInfo]:
    infos = []
    for oid, fields in parse_security_infos(card_access):
        if not oid.startswith(ID_PACE + ".") or len(oid.split(".")) != 11:
            continue
        ints = [int.from_bytes(v, "big") for t, v in fields if t == 0x02]
        if not ints:
            continue
        infos.append(PaceInfo(oid, ints[0], ints[1] if len(ints) > 1 else None))
    return infos


def password_key(password: bytes, cipher: str, key_bits: int) -> bytes:
    return p.kdf(password, 3, cipher, key_bits)


def auth_token(ks_mac: bytes, oid_der: bytes, curve: Curve, point) -> bytes:
    """T = MAC(KSmac, 7F49 { 06 oid, 86 public point }) (ICAO 9303-11 §4.4.3.4)."""
    data = tlv(0x7F49, oid_der + tlv(0x86, curve.encode(point)))
    return p.cmac8(ks_mac, data)


def map_generator(curve: Curve, nonce: bytes, h_point):
    """Generic mapping: G~ = s·G + H."""
    mapped = curve.add(curve.mul(int.from_bytes(nonce, "big"), curve.g), h_point)
    if mapped is None:
        raise AccessDenied(detail="mapped generator at infinity")
    return mapped


def session_keys(shared_x: bytes, cipher: str, key_bits: int) -> tuple[bytes, bytes]:
    return p.kdf(shared_x, 1, cipher, key_bits), p.kdf(shared_x, 2, cipher, key_bits)


def _general_authenticate(transmit, payload: bytes, last: bool) -> bytes:
    cmd = Command(0x00 if last else 0x10, 0x86, 0x00, 0x00, tlv(0x7C, payload), le=256)
    data, sw = split_response(transmit(cmd.encode()))
    if sw != SW_OK:
        # 6300 on the last step: the tokens disagree, i.e. a wrong CAN/MRZ password
        raise AccessDenied(detail=f"general authenticate sw={sw:04X}")
    items = dict(iter_tlv(data))
    if 0x7C not in items:
        raise ParseError(detail="dynamic authentication data missing")
    return items[0x7C]


def authenticate(transmit, info: PaceInfo, password: bytes, password_ref: int, *,
                 map_secret: int | None = None, agreement_secret: int | None = None) -> SecureChannel:
    """Terminal side of PACE; the two secrets are injectable only for worked-example tests."""
    if not info.supported:
        raise UnsupportedError(detail=f"PACE {info.protocol} param {info.parameter_id}")
    curve = STANDARD_CURVES[info.parameter_id]
    cipher, bits = _CIPHERS[int(info.protocol.rsplit(".", 1)[1])]
    mse = Command(0x00, 0x22, 0xC1, 0xA4, tlv(0x80, info.oid_der[2:]) + tlv(0x83, bytes([password_ref]))
                  + tlv(0x84, bytes([info.parameter_id])))
    _, sw = split_response(transmit(mse.encode()))
    if sw != SW_OK:
        raise UnsupportedError(detail=f"MSE:Set AT sw={sw:04X}")
    # 1. encrypted nonce
    z = dict(iter_tlv(_general_authenticate(transmit, b"", False))).get(0x80)
    if not z or len(z) % 16:
        raise ParseError(detail="encrypted nonce missing")
    nonce = p.aes_decrypt(password_key(password, cipher, bits), z)
    # 2. map the nonce (ECDH generic mapping)
    sk_map = map_secret or curve.random_scalar()
    resp = dict(iter_tlv(_general_authenticate(
        transmit, tlv(0x81, curve.encode(curve.mul(sk_map, curve.g))), False)))
    pk_map_ic = curve.decode(resp.get(0x82, b""))
    h_point = curve.mul(sk_map, pk_map_ic)
    g_mapped = map_generator(curve, nonce, h_point)
    # 3. key agreement on the mapped generator
    sk = agreement_secret or curve.random_scalar()
    pk_ifd = curve.mul(sk, g_mapped)
    resp = dict(iter_tlv(_general_authenticate(transmit, tlv(0x83, curve.encode(pk_ifd)), False)))
    pk_ic = curve.decode(resp.get(0x84, b""))
    if pk_ic == pk_ifd:
        raise AccessDenied(detail="chip echoed our public key")
    shared = curve.mul(sk, pk_ic)
    if shared is None:
        raise AccessDenied(detail="shared secret at infinity")
    ks_enc, ks_mac = session_keys(shared[0].to_bytes(curve.size, "big"), cipher, bits)
    # 4. mutual authentication
    t_ifd = auth_token(ks_mac, info.oid_der, curve, pk_ic)
    resp = dict(iter_tlv(_general_authenticate(transmit, tlv(0x85, t_ifd), True)))
    expected = auth_token(ks_mac, info.oid_der, curve, pk_ifd)
    if not hmac.compare_digest(resp.get(0x86, b""), expected):
        raise SecureMessagingError(detail="chip authentication token mismatch")
    return SecureChannel("AES", ks_enc, ks_mac, 0)


def can_password(can: str) -> bytes:
    return can.encode("ascii")


def mrz_password(mrz_information: str) -> bytes:
    return hashlib.sha1(mrz_information.encode("ascii")).digest()
