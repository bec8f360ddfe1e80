"""SQLAlchemy column types that encrypt with the app's data key (AES-GCM) on the way in."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import LargeBinary
from sqlalchemy.types import TypeDecorator

from kiosk.core.crypto import DataCipher


def cipher() -> DataCipher:
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
