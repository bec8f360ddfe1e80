"""Active authentication (ICAO 9303-11 §6.1): the chip signs our challenge with its DG15 key.

A chip copied byte for byte onto another chip cannot do this (the private key never leaves the
chip), so a pass is evidence against cloning. Reported, never required.
"""
from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from kiosk.chip.lds import ActiveAuthKey

_ECDSA_PLAIN = {  # BSI TR-03111 ecdsa-plain-signatures OIDs named in DG14
    "0.4.0.127.0.7.1.1.4.1.1": hashes.SHA1, "0.4.0.127.0.7.1.1.4.1.2": hashes.SHA224,
    "0.4.0.127.0.7.1.1.4.1.3": hashes.SHA256, "0.4.0.127.0.7.1.1.4.1.4": hashes.SHA384,
    "0.4.0.127.0.7.1.1.4.1.5": hashes.SHA512,
}
_RSA_TRAILERS = {0x33: "sha1", 0x34: "sha256", 0x35: "sha512", 0x36: "sha384", 0x38: "sha224"}


def challenge() -> bytes:
    return os.urandom(8)


def verify(key: ActiveAuthKey, nonce: bytes, signature: bytes, signature_oid: str | None = None) -> bool:
    public = serialization.load_der_public_key(key.der)
    if isinstance(public, ec.EllipticCurvePublicKey):
        size = (public.curve.key_size + 7) // 8
        if len(signature) != 2 * size:
            return False
        der = encode_dss_signature(int.from_bytes(signature[:size], "big"),
                                   int.from_bytes(signature[size:], "big"))
        hash_cls = _ECDSA_PLAIN.get(signature_oid or "", hashes.SHA256)
        try:
            public.verify(der, nonce, ec.ECDSA(hash_cls()))
            return True
        except InvalidSignature:
            return False
    if isinstance(public, rsa.RSAPublicKey):
        return _verify_iso9796_2(public, nonce, signature)
    return False


def _verify_iso9796_2(public: rsa.RSAPublicKey, nonce: bytes, signature: bytes) -> bool:
    """ISO/IEC 9796-2 digital signature scheme 1 with partial message recovery."""
    numbers = public.public_numbers()
    k = (numbers.n.bit_length() + 7) // 8
    recovered = pow(int.from_bytes(signature, "big"), numbers.e, numbers.n).to_bytes(k, "big")
    if recovered[0] & 0xC0 != 0x40:
        return False
    if recovered[-1] == 0xBC:
        name, trailer = "sha1", 1
    elif recovered[-1] == 0xCC and recovered[-2] in _RSA_TRAILERS:
        name, trailer = _RSA_TRAILERS[recovered[-2]], 2
    else:
        return False
    size = hashlib.new(name).digest_size
    digest = recovered[-trailer - size:-trailer]
    m1 = recovered[1:-trailer - size]
    return hashlib.new(name, m1 + nonce).digest() == digest
