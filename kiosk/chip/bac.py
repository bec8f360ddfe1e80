"""Basic Access Control (ICAO 9303-11 §4.3): mutual authentication from the MRZ key."""
from __future__ import annotations

import hmac
import os
from dataclasses import dataclass

from kiosk.chip import primitives as p
from kiosk.chip.apdu import SW_OK, Command, split_response
from kiosk.chip.errors import AccessDenied, SecureMessagingError
from kiosk.chip.keys import MrzKey
from kiosk.chip.sm import SecureChannel


@dataclass(frozen=True)
class BacKeys:
    k_enc: bytes
    k_mac: bytes

    @classmethod
    def from_mrz(cls, key: MrzKey) -> BacKeys:
        seed = key.key_seed()
        return cls(p.kdf(seed, 1), p.kdf(seed, 2))


def session_from_keys(k_ifd: bytes, k_ic: bytes, rnd_ic: bytes, rnd_ifd: bytes) -> SecureChannel:
    seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True))
    ssc = int.from_bytes(rnd_ic[4:8] + rnd_ifd[4:8], "big")
    return SecureChannel("3DES", p.kdf(seed, 1), p.kdf(seed, 2), ssc)


def authenticate(transmit, key: MrzKey, *, rnd_ifd: bytes | None = None,
                 k_ifd: bytes | None = None) -> SecureChannel:
    """Run GET CHALLENGE + EXTERNAL AUTHENTICATE; return the 3DES secure channel."""
    keys = BacKeys.from_mrz(key)
    rnd_ifd = rnd_ifd or os.urandom(8)
    k_ifd = k_ifd or os.urandom(16)
    rnd_ic, sw = split_response(transmit(Command(0x00, 0x84, 0x00, 0x00, le=8).encode()))
    if sw != SW_OK or len(rnd_ic) != 8:
        raise AccessDenied("Thẻ không hỗ trợ BAC hoặc không trả lời.", detail=f"challenge sw={sw:04X}")
    s = rnd_ifd + rnd_ic + k_ifd
    e_ifd = p.des3_encrypt(keys.k_enc, s)
    m_ifd = p.retail_mac(keys.k_mac, p.pad(e_ifd, 8))
    resp, sw = split_response(
        transmit(Command(0x00, 0x82, 0x00, 0x00, e_ifd + m_ifd, le=40).encode()))
    if sw != SW_OK or len(resp) != 40:
        # 6300 / 6982: the card computed a different key from the MRZ we gave it
        raise AccessDenied(detail=f"external authenticate sw={sw:04X}")
    e_ic, m_ic = resp[:32], resp[32:]
    if not hmac.compare_digest(p.retail_mac(keys.k_mac, p.pad(e_ic, 8)), m_ic):
        raise SecureMessagingError(detail="BAC response MAC mismatch")
    r = p.des3_decrypt(keys.k_enc, e_ic)
    if r[:8] != rnd_ic or r[8:16] != rnd_ifd:
        raise AccessDenied(detail="BAC response does not echo our challenge")
    return session_from_keys(k_ifd, r[16:32], rnd_ic, rnd_ifd)
