"""SQLAlchemy column types that encrypt with the app's data key (AES-GCM) on the way in.

The cipher is the app's key ring (core/crypto.KeyRing): values are written under its primary key
and read under whichever key their key id names, so a row written after a `rotate-key` by
another process is read here too (the ring loads the new key when it first meets it)."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import LargeBinary
from sqlalchemy.types import TypeDecorator

from kiosk.core.crypto import KeyRing


def cipher() -> KeyRing:
    return current_app.extensions["kiosk_cipher"]


class EncryptedJSON(TypeDecorator):
    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else cipher().encrypt_json(value)

    def process_result_value(self, value, dialect):
        return None if value is None else cipher().decrypt_json(bytes(value))


class EncryptedBytes(TypeDecorator):
    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else cipher().encrypt(bytes(value))

    def process_result_value(self, value, dialect):
        return None if value is None else cipher().decrypt(bytes(value))
