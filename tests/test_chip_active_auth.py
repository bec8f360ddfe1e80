"""Active authentication with RSA (ISO/IEC 9796-2 scheme 1, Doc 9303-11 §6.1): the worked example
of Doc 9303-11 appendix F, and every part of the recovered message checked.

The worked example publishes the challenge, M1 and the hash, not the chip's key: the tests make
a key, sign the recovered message F by raw RSA (``pow``) and have the verifier check it. F is put
together here from the standard's parts, independently of the verifier's parsing.
"""
from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kiosk.chip import active_auth, lds

# Doc 9303-11, appendix F (RSA, k = 1024 bits, SHA-1, trailer 0xBC)
RND_IFD = bytes.fromhex("F173589974BF40C6")
M1 = bytes.fromhex(
    "9D2784A67F8E7C659973EA1AEA25D95B6C8F91E5002F369F0FBDCE8A3CEC1991"
    "B543F1696546C5524CF23A5303CD6C98599F40B79F377B5F3A1406B3B4D8F967"
    "84D23AA88DB7E1032A405E69325FA91A6E86F5C71AEA978264C4A207446DAD4E"
    "7292E2DCDA3024B47DA8")
H = bytes.fromhex("C063AA1E6D22FBD976AB0FE73D94D2D9C6D88127")
HASH_IDS = {"sha1": 0x33, "sha256": 0x34, "sha512": 0x35, "sha384": 0x36, "sha224": 0x38}


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(65537, 1024)


def _aa_key(key) -> lds.ActiveAuthKey:
    return lds.ActiveAuthKey("rsa", key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def _sign(key, message: bytes) -> bytes:
    """The chip's side: F to the private exponent, as many bytes as the modulus."""
    n, d = key.public_key().public_numbers().n, key.private_numbers().d
    k = (n.bit_length() + 7) // 8
    assert len(message) == k and int.from_bytes(message, "big") < n
    return pow(int.from_bytes(message, "big"), d, n).to_bytes(k, "big")


def _message(nonce: bytes, *, hash_name="sha1", explicit=False, header=0x6A, k=128) -> bytes:
    size = hashlib.new(hash_name).digest_size
    trailer = bytes([HASH_IDS[hash_name], 0xCC]) if explicit else b"\xbc"
    m1 = bytes(range(7, 7 + k - 1 - size - len(trailer)))
    return bytes([header]) + m1 + hashlib.new(hash_name, m1 + nonce).digest() + trailer


def test_the_worked_examples_values_agree_with_each_other():
    # step 8 of the example: H = SHA-1(M1 ‖ M2), M2 being the terminal's challenge
    assert hashlib.sha1(M1 + RND_IFD).digest() == H
    assert len(M1) * 8 == 1024 - 160 - 8 - 4 - 4  # c − 4 bits (k − Lh − 8t − 4 = 852)


def test_the_worked_example_verifies(key):
    f = b"\x6a" + M1 + H + b"\xbc"
    assert len(f) == 128
    signature = _sign(key, f)
    assert active_auth.verify(_aa_key(key), RND_IFD, signature)
    assert not active_auth.verify(_aa_key(key), bytes(8), signature)


@pytest.mark.parametrize("hash_name", ["sha1", "sha224", "sha256", "sha384", "sha512"])
def test_an_explicit_trailer_names_the_hash(key, hash_name):
    nonce = bytes.fromhex("0011223344556677")
    good = _message(nonce, hash_name=hash_name, explicit=True)
    assert active_auth.verify(_aa_key(key), nonce, _sign(key, good))


def _tampered(message: bytes, index: int, value: int) -> bytes:
    changed = bytearray(message)
    changed[index] = value
    return bytes(changed)


@pytest.mark.parametrize(("what", "index", "value"), [
    ("total recovery instead of partial", 0, 0x4A),
    ("padding nibble instead of the border", 0, 0x6B),
    ("another header", 0, 0x0A),
    ("trailer", -1, 0xBD),
    ("explicit trailer without a hash id", -1, 0xCC),
    ("a recovered message byte", 5, 0x00),
    ("a hash byte", -3, 0x00),
])
def test_a_tampered_recovered_message_fails(key, what, index, value):
    nonce = bytes.fromhex("F173589974BF40C6")
    message = _message(nonce)
    assert active_auth.verify(_aa_key(key), nonce, _sign(key, message))
    tampered = _tampered(message, index, value)
    assert tampered != message, what
    assert not active_auth.verify(_aa_key(key), nonce, _sign(key, tampered)), what


def test_an_explicit_trailer_must_name_the_hash_that_was_used(key):
    nonce = bytes(8)
    sha256 = _message(nonce, hash_name="sha256", explicit=True)
    # the same bytes announced as SHA-512 (0x35), and an id no hash has (0x3F)
    for hash_id in (0x35, 0x3F):
        assert not active_auth.verify(_aa_key(key), nonce, _sign(key, _tampered(sha256, -2, hash_id)))


def test_a_signature_of_the_wrong_length_or_out_of_range_fails(key):
    nonce = bytes(8)
    signature = _sign(key, _message(nonce))
    n = key.public_key().public_numbers().n
    assert not active_auth.verify(_aa_key(key), nonce, signature[1:])
    assert not active_auth.verify(_aa_key(key), nonce, b"\x00" + signature)
    assert not active_auth.verify(_aa_key(key), nonce, n.to_bytes(128, "big"))
    assert not active_auth.verify(_aa_key(key), nonce, bytes(128))


def test_a_key_too_short_for_any_recovered_message_fails():
    # A 536-bit key (the primes 2^521 − 1 and 32749; cryptography will not generate one this
    # small) with SHA-512 and a two-byte trailer: 67 − 1 − 64 − 2 bytes leave nothing for M1.
    p, q = 2**521 - 1, 32749
    n, e = p * q, 65537
    d = pow(e, -1, (p - 1) * (q - 1))
    k = (n.bit_length() + 7) // 8
    public = rsa.RSAPublicNumbers(e, n).public_key()
    aa_key = lds.ActiveAuthKey("rsa", public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    nonce = bytes(8)
    message = b"\x6a" + hashlib.sha512(nonce).digest() + bytes([0x35, 0xCC])
    assert len(message) == k
    signature = pow(int.from_bytes(message, "big"), d, n).to_bytes(k, "big")
    assert pow(int.from_bytes(signature, "big"), e, n).to_bytes(k, "big") == message
    assert not active_auth.verify(aa_key, nonce, signature)
