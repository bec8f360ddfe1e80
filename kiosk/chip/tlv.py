"""BER-TLV as used by ISO 7816-4 and the LDS (multi-byte tags, definite lengths only)."""
from __future__ import annotations

from kiosk.chip.errors import ParseError


def read_tag(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise ParseError(detail="tag past end")
    tag = data[pos]
    pos += 1
    if tag & 0x1F == 0x1F:
        while True:
            if pos >= len(data):
                raise ParseError(detail="truncated tag")
            tag = (tag << 8) | data[pos]
            pos += 1
            if not data[pos - 1] & 0x80:
                break
    return tag, pos


def read_length(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise ParseError(detail="length past end")
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    count = first & 0x7F
    if count == 0 or count > 3 or pos + count > len(data):
        raise ParseError(detail="bad length")
    return int.from_bytes(data[pos:pos + count], "big"), pos + count


def read_tlv(data: bytes, pos: int = 0) -> tuple[int, bytes, int]:
    """(tag, value, next position); raises ParseError when the value runs past the data."""
    tag, pos = read_tag(data, pos)
    length, pos = read_length(data, pos)
    if pos + length > len(data):
        raise ParseError(detail=f"value of tag {tag:X} runs past the data")
    return tag, data[pos:pos + length], pos + length


def iter_tlv(data: bytes):
    pos = 0
    while pos < len(data):
        if data[pos] in (0x00, 0xFF):  # filler between objects (ISO 7816-4 §5.2.2)
            pos += 1
            continue
        tag, value, pos = read_tlv(data, pos)
        yield tag, value


def header_length(data: bytes) -> int:
    """Total length (header + value) of the TLV object starting at data[0]."""
    _, pos = read_tag(data, 0)
    length, pos = read_length(data, pos)
    return pos + length


def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return b"\x81" + bytes([n])
    if n < 0x10000:
        return b"\x82" + n.to_bytes(2, "big")
    return b"\x83" + n.to_bytes(3, "big")


def tlv(tag: int, value: bytes) -> bytes:
    tag_bytes = tag.to_bytes((tag.bit_length() + 7) // 8 or 1, "big")
    return tag_bytes + encode_length(len(value)) + value


def find(data: bytes, tag: int) -> bytes | None:
    for t, v in iter_tlv(data):
        if t == tag:
            return v
    return None
