"""The one seam between protocol code and a card: ``transmit(apdu: bytes) -> bytes``.

``PcscTransport`` talks to a USB contactless reader through pcscd with pyscard, imported only
when a reader is actually used, so the kiosk runs (camera path) on machines without it.
"""
from __future__ import annotations

import contextlib
from typing import Protocol

from kiosk.chip.errors import NoCard, ReaderUnavailable, TransportError


class Transport(Protocol):
    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU; return the response data followed by SW1 SW2."""


def _pyscard():
    try:
        from smartcard import Exceptions, System
        from smartcard.pcsc import PCSCExceptions
    except ImportError as exc:
        raise ReaderUnavailable("Máy chưa cài thư viện đọc thẻ (pyscard); xem docs/chip.md.",
                                detail=str(exc)) from None
    return System, Exceptions, PCSCExceptions


class PcscTransport:
    """The first reader whose name contains ``reader_name`` (any reader when empty)."""

    def __init__(self, reader_name: str | None = None):
        System, self._exc, _ = _pyscard()
        try:
            readers = System.readers()
        except Exception as exc:
            raise ReaderUnavailable(detail=f"{type(exc).__name__}: {exc}") from None
        wanted = (reader_name or "").lower()
        matching = [r for r in readers if wanted in str(r).lower()]
        if not matching:
            raise ReaderUnavailable("Không tìm thấy đầu đọc thẻ" + (f" «{reader_name}»." if reader_name else "."))
        self.reader_name = str(matching[0])
        self._connection = matching[0].createConnection()
        try:
            self._connection.connect()
        except self._exc.NoCardException:
            raise NoCard() from None
        except self._exc.CardConnectionException as exc:
            raise TransportError(detail=str(exc)) from None

    def transmit(self, apdu: bytes) -> bytes:
        try:
            data, sw1, sw2 = self._connection.transmit(list(apdu))
        except self._exc.CardConnectionException as exc:
            raise TransportError(detail=str(exc)) from None
        return bytes(data) + bytes([sw1, sw2])

    def close(self) -> None:
        # already gone with the card: nothing left to release
        with contextlib.suppress(Exception):
            self._connection.disconnect()


def reader_status(reader_name: str | None = None) -> dict:
    """{"ready": bool, "reader": name|None, "card": bool, "message": Vietnamese text}."""
    try:
        transport = PcscTransport(reader_name)
    except NoCard as exc:
        return {"ready": True, "reader": reader_name, "card": False, "message": exc.message}
    except (ReaderUnavailable, TransportError) as exc:
        return {"ready": False, "reader": None, "card": False, "message": exc.message}
    name = transport.reader_name
    transport.close()
    return {"ready": True, "reader": name, "card": True, "message": "Đã có thẻ trên đầu đọc."}
