"""AES-GCM encryption of personal data and evidence at rest (pure, no Flask).

Two ciphertext formats:

- ``01 | nonce | ciphertext`` — written before keys were rotated online; it names no key, so
  every key of the ring is tried (the primary first);
- ``02 | key id (4 bytes) | nonce | ciphertext`` — written now: the key id (a digest of the key,
  it reveals nothing about it) says which key of the ring opens it.

:class:`KeyRing` is what the application uses: it writes under its *primary* key and reads
under any key it holds. When it meets a key id it does not hold, or when its key source says the
keys changed (``rotate-key`` rewrote instance/secrets.py), it loads the keys again — so a server
started before a rotation reads the rows written after it, and writes under the new key itself
from its next write on (docs/operations.md, «Xoay khóa dữ liệu»).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
from collections.abc import Iterable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12
_V1 = b"\x01"
_V2 = b"\x02"
KEY_ID_BYTES = 4


class DecryptionError(Exception):
    """Ciphertext is damaged or was written with another key."""


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"kiosk-data-key-id" + key).digest()[:KEY_ID_BYTES]


def blob_key_id(blob: bytes) -> bytes | None:
    """The key id a ciphertext names, or None (format 01, or not ours)."""
    if blob[:1] == _V2 and len(blob) > 1 + KEY_ID_BYTES:
        return bytes(blob[1:1 + KEY_ID_BYTES])
    return None


class DataCipher:
    """One key: encrypts in format 02 under its own key id, reads formats 01 and 02."""

    def __init__(self, key: bytes):
        if len(key) != 32:
            raise ValueError("DATA_KEY must be 32 bytes (AES-256)")
        self._aead = AESGCM(key)
        self.key_id = key_id(key)
        # A separate sub-key for lookup digests, so digests reveal nothing about ciphertexts.
        self._digest_key = hashlib.sha256(b"kiosk-lookup-digest" + key).digest()

    @classmethod
    def from_b64(cls, key_b64: str) -> DataCipher:
        return cls(base64.b64decode(key_b64))

    def encrypt(self, plaintext: bytes, context: bytes = b"") -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _V2 + self.key_id + nonce + self._aead.encrypt(nonce, plaintext, context)

    def decrypt(self, blob: bytes, context: bytes = b"") -> bytes:
        if blob[:1] == _V2:
            if blob_key_id(blob) != self.key_id:
                raise DecryptionError("ciphertext failed authentication (written under another key)")
            body = blob[1 + KEY_ID_BYTES:]
        elif blob[:1] == _V1:
            body = blob[1:]
        else:
            raise DecryptionError("unknown ciphertext format")
        nonce, sealed = body[:_NONCE_BYTES], body[_NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, sealed, context)
        except Exception as exc:  # InvalidTag: tampered or wrong key
            raise DecryptionError("ciphertext failed authentication") from exc

    def encrypt_json(self, value, context: bytes = b"") -> bytes:
        return self.encrypt(json.dumps(value, ensure_ascii=False).encode(), context)

    def decrypt_json(self, blob: bytes, context: bytes = b""):
        return json.loads(self.decrypt(blob, context))

    def lookup_digest(self, value: str) -> str:
        """Keyed digest for finding a record by ID number without storing it in clear."""
        return hmac.new(self._digest_key, value.encode(), hashlib.sha256).hexdigest()


class KeySource:
    """Where a ring's keys come from. ``stamp()`` is cheap (a file's mtime and size) and changes
    when the keys may have; ``load()`` returns ``(primary, others)`` as base64 strings, or None
    when the source holds no keys (the ring then keeps what it has)."""

    def stamp(self):  # pragma: no cover - interface
        return None

    def load(self) -> tuple[str, list[str]] | None:  # pragma: no cover - interface
        return None


class KeyRing:
    """The primary key (every new ciphertext and lookup digest) and the keys still read."""

    def __init__(self, primary_b64: str, others_b64: Iterable[str] = (),
                 source: KeySource | None = None):
        self._source = source
        self._lock = threading.Lock()
        self._stamp = source.stamp() if source else None
        self._install(primary_b64, list(others_b64))

    def _install(self, primary_b64: str, others_b64: list[str]) -> None:
        primary = DataCipher.from_b64(primary_b64)
        ciphers, keys = {primary.key_id: primary}, {primary.key_id: primary_b64}
        for key in others_b64:
            cipher = DataCipher.from_b64(key)
            if cipher.key_id not in ciphers:
                ciphers[cipher.key_id], keys[cipher.key_id] = cipher, key
        # Readers on other threads take no lock: they see the old dict or the new one.
        self._keys_b64 = keys
        self._ciphers, self.primary, self.primary_b64 = ciphers, primary, primary_b64

    # ---- keeping up with the key source ----------------------------------------------------
    def reload(self) -> bool:
        """Read the keys again; True if they changed."""
        if self._source is None:
            return False
        with self._lock:
            stamp = self._source.stamp()
            loaded = self._source.load()
            self._stamp = stamp
            if loaded is None:
                return False
            primary, others = loaded
            before = (self.primary.key_id, set(self._ciphers))
            # Keys this process held stay readable: rows it wrote a moment ago may still be
            # under one of them until rotate-key's next pass re-encrypts them.
            self._install(primary, [*others, *self._keys_b64.values()])
            return before != (self.primary.key_id, set(self._ciphers))

    def _refresh(self) -> None:
        if self._source is not None and self._source.stamp() != self._stamp:
            self.reload()

    # ---- the cipher interface ----------------------------------------------------------------
    @property
    def key_ids(self) -> set[bytes]:
        return set(self._ciphers)

    def encrypt(self, plaintext: bytes, context: bytes = b"") -> bytes:
        self._refresh()  # a rotation elsewhere: write under the new primary from now on
        return self.primary.encrypt(plaintext, context)

    def decrypt(self, blob: bytes, context: bytes = b"") -> bytes:
        blob = bytes(blob)
        wanted = blob_key_id(blob)
        if wanted is not None:
            if wanted not in self._ciphers:
                self.reload()  # written under a key made after this process loaded its keys
            cipher = self._ciphers.get(wanted)
            if cipher is None:
                raise DecryptionError("ciphertext written under a key this server does not hold")
            return cipher.decrypt(blob, context)
        if blob[:1] != _V1:
            raise DecryptionError("unknown ciphertext format")
        # Format 01 names no key: the primary, then the others (an AES-GCM tag fails at once).
        for cipher in [self.primary, *(c for c in self._ciphers.values() if c is not self.primary)]:
            try:
                return cipher.decrypt(blob, context)
            except DecryptionError:
                continue
        raise DecryptionError("ciphertext failed authentication")

    def encrypt_json(self, value, context: bytes = b"") -> bytes:
        return self.encrypt(json.dumps(value, ensure_ascii=False).encode(), context)

    def decrypt_json(self, blob: bytes, context: bytes = b""):
        return json.loads(self.decrypt(blob, context))

    def lookup_digest(self, value: str) -> str:
        self._refresh()
        return self.primary.lookup_digest(value)

    def lookup_digests(self, value: str) -> list[str]:
        """The digest under every key of the ring, the primary's first: a credential that can
        never be computed again (a kiosk's device token) is still found after a key rotation,
        and its row moved to the primary's digest then."""
        self._refresh()
        return [self.primary.lookup_digest(value),
                *(c.lookup_digest(value) for c in self._ciphers.values() if c is not self.primary)]

    def under_primary(self, blob: bytes) -> bool:
        return blob_key_id(bytes(blob)) == self.primary.key_id

