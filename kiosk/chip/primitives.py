"""Symmetric primitives of ICAO 9303 part 11 (§9.7 key derivation, §9.8 secure messaging).

3DES (two-key, CBC, IV zero) with the ISO/IEC 9797-1 MAC algorithm 3 for BAC; AES (CBC, CMAC)
for PACE. Built on pycryptodome because `cryptography` moved 3DES to its "decrepit" corner.
"""
from __future__ import annotations

import hashlib

from Crypto.Cipher import AES, DES, DES3
from Crypto.Hash import CMAC

ZERO_IV8 = bytes(8)
ZERO_IV16 = bytes(16)


def pad(data: bytes, block: int) -> bytes:
    """ISO/IEC 9797-1 padding method 2: 0x80 then zeros up to the block size (always adds)."""
    data = data + b"\x80"
    return data + bytes(-len(data) % block)


def unpad(data: bytes) -> bytes:
    stripped = data.rstrip(b"\x00")
    if not stripped.endswith(b"\x80"):
        raise ValueError("bad padding")
    return stripped[:-1]


def _adjust_parity(key: bytes) -> bytes:
    out = bytearray()
    for b in key:
        high = b & 0xFE
        out.append(high | (bin(high).count("1") + 1) % 2)
    return bytes(out)


def kdf(secret: bytes, counter: int, cipher: str = "3DES", key_bits: int = 128) -> bytes:
    """KDF(K, c) of ICAO 9303-11 §9.7.1: counter 1 = encryption key, 2 = MAC key, 3 = PACE π."""
    data = secret + counter.to_bytes(4, "big")
    if cipher == "3DES":
        digest = hashlib.sha1(data).digest()
        return _adjust_parity(digest[:16])
    if key_bits == 128:
        return hashlib.sha1(data).digest()[:16]
    digest = hashlib.sha256(data).digest()
    return digest[: key_bits // 8]


def des3_encrypt(key: bytes, data: bytes, iv: bytes = ZERO_IV8) -> bytes:
    return DES3.new(key, DES3.MODE_CBC, iv=iv).encrypt(data)


def des3_decrypt(key: bytes, data: bytes, iv: bytes = ZERO_IV8) -> bytes:
    return DES3.new(key, DES3.MODE_CBC, iv=iv).decrypt(data)


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 (retail MAC) with DES, over data already padded."""
    if len(data) % 8:
        raise ValueError("MAC input must be padded")
    k1, k2 = key[:8], key[8:16]
    h = DES.new(k1, DES.MODE_CBC, iv=ZERO_IV8).encrypt(data)[-8:]
    h = DES.new(k2, DES.MODE_ECB).decrypt(h)
    return DES.new(k1, DES.MODE_ECB).encrypt(h)


def aes_encrypt(key: bytes, data: bytes, iv: bytes = ZERO_IV16) -> bytes:
    return AES.new(key, AES.MODE_CBC, iv=iv).encrypt(data)


def aes_decrypt(key: bytes, data: bytes, iv: bytes = ZERO_IV16) -> bytes:
    return AES.new(key, AES.MODE_CBC, iv=iv).decrypt(data)


def aes_ecb(key: bytes, block: bytes) -> bytes:
    return AES.new(key, AES.MODE_ECB).encrypt(block)


def cmac8(key: bytes, data: bytes) -> bytes:
    """AES-CMAC truncated to 8 bytes (ICAO 9303-11 §9.8.3)."""
    return CMAC.new(key, msg=data, ciphermod=AES).digest()[:8]
