"""Command APDUs (ISO 7816-4, short form) and splitting responses into data and status word."""
from __future__ import annotations

from dataclasses import dataclass

from kiosk.chip.errors import TransportError

SW_OK = 0x9000


@dataclass(frozen=True)
class Command:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None  # None: no Le; 0..256 (256 = "00")

    def encode(self) -> bytes:
        out = bytes([self.cla, self.ins, self.p1, self.p2])
        if self.data:
            if len(self.data) > 255:
                raise ValueError("short APDUs carry at most 255 data bytes")
            out += bytes([len(self.data)]) + self.data
        if self.le is not None:
            out += bytes([self.le & 0xFF])
        return out

    @classmethod
    def decode(cls, raw: bytes) -> Command:
        if len(raw) < 4:
            raise ValueError("APDU shorter than its header")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, le=body[0] or 256)
        lc = body[0]
        data = body[1:1 + lc]
        if len(data) != lc:
            raise ValueError("Lc does not match the data")
        rest = body[1 + lc:]
        if len(rest) > 1:
            raise ValueError("trailing bytes after Le")
        le = (rest[0] or 256) if rest else None
        return cls(cla, ins, p1, p2, data, le)


def split_response(raw: bytes) -> tuple[bytes, int]:
    if raw is None or len(raw) < 2:
        raise TransportError(detail="response shorter than a status word")
    return bytes(raw[:-2]), (raw[-2] << 8) | raw[-1]


# Commands used by the reader (ICAO 9303-10 §3.6, 9303-11 §4)
def select_application(aid: bytes) -> Command:
    return Command(0x00, 0xA4, 0x04, 0x0C, aid)


def select_file(fid: int) -> Command:
    return Command(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big"))


def select_master_file() -> Command:
    return Command(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00")


def read_binary(offset: int, length: int) -> Command:
    if offset > 0x7FFF:
        raise ValueError("offset above 32767 needs READ BINARY with odd INS")
    return Command(0x00, 0xB0, offset >> 8, offset & 0xFF, le=length)


EMRTD_AID = bytes.fromhex("A0000002471001")
