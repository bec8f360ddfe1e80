"""AES-GCM encryption of personal data and evidence at rest (pure, no Flask)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12
_VERSION = b"\x01"  # lets a later key-rotation scheme recognise old blobs


class DecryptionError(Exception):
    """Ciphertext is damaged or was written with another key."""


class DataCipher:
    def __init__(self, key: bytes):
        if len(key) != 32:
            raise ValueError("DATA_KEY must be 32 bytes (AES-256)")
        self._aead = AESGCM(key)
        # A separate sub-key for lookup digests, so digests reveal nothing about ciphertexts.
        self._digest_key = hashlib.sha256(b"kiosk-lookup-digest" + key).digest()

    @classmethod
    def from_b64(cls, key_b64: str) -> DataCipher:
        return cls(base64.b64decode(key_b64))

    def encrypt(self, plaintext: bytes, context: bytes = b"") -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, context)

    def decrypt(self, blob: bytes, context: bytes = b"") -> bytes:
        if not blob or blob[:1] != _VERSION:
            raise DecryptionError("unknown ciphertext format")
        nonce, body = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, context)
        except Exception as exc:  # InvalidTag: tampered or wrong key
            raise DecryptionError("ciphertext failed authentication") from exc

    def encrypt_json(self, value, context: bytes = b"") -> bytes:
        return self.encrypt(json.dumps(value, ensure_ascii=False).encode(), context)

    def decrypt_json(self, blob: bytes, context: bytes = b""):
        return json.loads(self.decrypt(blob, context))

    def lookup_digest(self, value: str) -> str:
        """Keyed digest for finding a record by ID number without storing it in clear."""
        return hmac.new(self._digest_key, value.encode(), hashlib.sha256).hexdigest()
