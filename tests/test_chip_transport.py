"""PcscTransport over a stand-in pyscard: reader choice, no card, card lifted, status words."""
from __future__ import annotations

import types

import pytest

from kiosk.chip import transport
from kiosk.chip.errors import NoCard, ReaderUnavailable, TransportError


class CardConnectionException(Exception):
    pass


class NoCardException(CardConnectionException):
    pass


EXC = types.SimpleNamespace(CardConnectionException=CardConnectionException, NoCardException=NoCardException)


class FakeConnection:
    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.sent = []

    def connect(self):
        if self.behaviour == "no_card":
            raise NoCardException("no card")

    def transmit(self, apdu):
        self.sent.append(apdu)
        if self.behaviour == "lifted":
            raise CardConnectionException("card removed")
        return [0x01, 0x02], 0x90, 0x00

    def disconnect(self):
        raise CardConnectionException("already gone")


class FakeReader:
    def __init__(self, name, behaviour="ok"):
        self.name, self.behaviour = name, behaviour

    def __str__(self):
        return self.name

    def createConnection(self):  # pyscard names it so
        return FakeConnection(self.behaviour)


def fake_pyscard(monkeypatch, readers=None, error=None):
    def readers_fn():
        if error:
            raise error
        return readers or []

    system = types.SimpleNamespace(readers=readers_fn)
    monkeypatch.setattr(transport, "_pyscard", lambda: (system, EXC, None))


def test_transmit_joins_data_and_status(monkeypatch):
    fake_pyscard(monkeypatch, [FakeReader("Other"), FakeReader("ACS ACR1252 PICC")])
    t = transport.PcscTransport("acr1252")
    assert t.reader_name == "ACS ACR1252 PICC"
    assert t.transmit(b"\x00\x84\x00\x00\x08") == b"\x01\x02\x90\x00"
    t.close()  # a disconnect error on close is swallowed


def test_no_reader_and_pcscd_down(monkeypatch):
    fake_pyscard(monkeypatch, [])
    with pytest.raises(ReaderUnavailable):
        transport.PcscTransport()
    fake_pyscard(monkeypatch, error=RuntimeError("EstablishContext failed"))
    with pytest.raises(ReaderUnavailable):
        transport.PcscTransport()


def test_no_card_and_card_lifted(monkeypatch):
    fake_pyscard(monkeypatch, [FakeReader("R", "no_card")])
    with pytest.raises(NoCard):
        transport.PcscTransport()
    assert transport.reader_status()["card"] is False
    fake_pyscard(monkeypatch, [FakeReader("R", "lifted")])
    with pytest.raises(TransportError):
        transport.PcscTransport().transmit(b"\x00\xa4\x00\x0c")


def test_reader_status_wording(monkeypatch):
    fake_pyscard(monkeypatch, [FakeReader("R")])
    assert transport.reader_status() == {"ready": True, "reader": "R", "card": True,
                                         "message": "Đã có thẻ trên đầu đọc."}
    fake_pyscard(monkeypatch, [])
    status = transport.reader_status()
    assert status["ready"] is False and "đầu đọc" in status["message"]


def test_real_pyscard_errors_come_out_typed():
    pytest.importorskip("smartcard")
    try:
        t = transport.PcscTransport()
    except (ReaderUnavailable, NoCard):
        return  # the machine has no reader (or no card): the expected outcome here
    t.close()
