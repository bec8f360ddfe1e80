"""The one exception type of the identity package, and the NFC helper every message goes through."""
from __future__ import annotations

import unicodedata


def nfc(text: str) -> str:
    """Vietnamese can be typed or scanned composed (NFC) or decomposed (NFD); store and show NFC."""
    return unicodedata.normalize("NFC", text)


class IdentityError(ValueError):
    """A value the customer gave is not acceptable.

    ``message`` is a complete Vietnamese sentence meant for the customer (NFC); ``field`` names
    the form field it belongs to when the checker knows it (else None).
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        message = nfc(message)
        super().__init__(message)
        self.message = message
        self.field = field
