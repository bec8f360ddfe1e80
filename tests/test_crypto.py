import os

import pytest

from kiosk.core.crypto import DataCipher, DecryptionError


def test_round_trip():
    cipher = DataCipher(os.urandom(32))
    assert cipher.decrypt(cipher.encrypt(b"Nguy\xe1\xbb\x85n")) == b"Nguy\xe1\xbb\x85n"


def test_same_plaintext_encrypts_differently():
    cipher = DataCipher(os.urandom(32))
    assert cipher.encrypt(b"x") != cipher.encrypt(b"x")


def test_tampered_ciphertext_is_refused():
    cipher = DataCipher(os.urandom(32))
    blob = bytearray(cipher.encrypt(b"secret"))
    blob[-1] ^= 1
    with pytest.raises(DecryptionError):
        cipher.decrypt(bytes(blob))


def test_other_key_cannot_decrypt():
    blob = DataCipher(os.urandom(32)).encrypt(b"secret")
    with pytest.raises(DecryptionError):
        DataCipher(os.urandom(32)).decrypt(blob)


def test_lookup_digest_is_stable_per_key_and_hides_the_value():
    key = os.urandom(32)
    a, b = DataCipher(key), DataCipher(key)
    assert a.lookup_digest("038085012345") == b.lookup_digest("038085012345")
    assert "038085012345" not in a.lookup_digest("038085012345")
    assert DataCipher(os.urandom(32)).lookup_digest("038085012345") != a.lookup_digest("038085012345")


def test_key_must_be_32_bytes():
    with pytest.raises(ValueError):
        DataCipher(b"short")
