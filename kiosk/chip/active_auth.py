"""Active authentication (ICAO 9303-11 §6.1): the chip signs our challenge with its DG15 key.

A chip copied byte for byte onto another chip cannot do this (the private key never leaves the
chip), so a pass is evidence against cloning. Reported, never required.
"""
from __future__ import annotations

import hashlib
import hmac
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


# The first byte of the recovered message: the scheme-1 header with the partial-recovery bit set
# (the nonce is the part the signature does not carry) and no padding, the only form Doc 9303-11
# §6.1 uses (its worked example starts with it too). Any other first byte is refused, not read.
_HEADER = 0x6A
_IMPLICIT_SHA1 = 0xBC  # one-byte trailer: the hash is SHA-1
_EXPLICIT = 0xCC  # two-byte trailer: the byte before it names the hash (ISO/IEC 10118-3)


def _verify_iso9796_2(public: rsa.RSAPublicKey, nonce: bytes, signature: bytes) -> bool:
    """ISO/IEC 9796-2 digital signature scheme 1 with partial message recovery: the recovered
    message is header 0x6A ‖ M1 ‖ hash(M1 ‖ nonce) ‖ trailer, and every part of it is checked
    (length, header, trailer, a recovered M1 of at least one byte, the hash in constant time)."""
    numbers = public.public_numbers()
    k = (numbers.n.bit_length() + 7) // 8
    if len(signature) != k:  # a chip answers with exactly the modulus' length
        return False
    value = int.from_bytes(signature, "big")
    if not 0 < value < numbers.n:
        return False
    recovered = pow(value, numbers.e, numbers.n).to_bytes(k, "big")
    if recovered[0] != _HEADER:
        return False
    if recovered[-1] == _IMPLICIT_SHA1:
        name, trailer = "sha1", 1
    elif recovered[-1] == _EXPLICIT and recovered[-2] in _RSA_TRAILERS:
        name, trailer = _RSA_TRAILERS[recovered[-2]], 2
    else:
        return False
    size = hashlib.new(name).digest_size
    m1_length = k - 1 - size - trailer
    if m1_length < 1:  # a key too short to carry any recovered message
        return False
    m1 = recovered[1:1 + m1_length]
    digest = recovered[1 + m1_length:k - trailer]
    return hmac.compare_digest(hashlib.new(name, m1 + nonce).digest(), digest)
