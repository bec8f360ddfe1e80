"""Secure messaging (ICAO 9303-11 §9.8): 3DES after BAC, AES after PACE.

One ``SecureChannel`` holds the session keys and the send sequence counter (SSC). The terminal
uses ``protect``/``unprotect``; the card side (``unprotect_command``/``protect_response``) is the
mirror image, kept here so that both directions share one implementation of the encoding.
"""
from __future__ import annotations

import hmac

from kiosk.chip import primitives as p
from kiosk.chip.apdu import Command, split_response
from kiosk.chip.errors import SecureMessagingError
from kiosk.chip.tlv import iter_tlv, tlv


class SecureChannel:
    def __init__(self, cipher: str, ks_enc: bytes, ks_mac: bytes, ssc: int = 0):
        if cipher not in ("3DES", "AES"):
            raise ValueError(cipher)
        self.cipher = cipher
        self.ks_enc, self.ks_mac = ks_enc, ks_mac
        self.block = 8 if cipher == "3DES" else 16
        self.ssc = ssc

    # --- primitives bound to this channel -------------------------------------------------
    def ssc_bytes(self) -> bytes:
        return self.ssc.to_bytes(self.block, "big")

    def _encrypt(self, data: bytes) -> bytes:
        if self.cipher == "3DES":
            return p.des3_encrypt(self.ks_enc, data)
        return p.aes_encrypt(self.ks_enc, data, iv=p.aes_ecb(self.ks_enc, self.ssc_bytes()))

    def _decrypt(self, data: bytes) -> bytes:
        if self.cipher == "3DES":
            return p.des3_decrypt(self.ks_enc, data)
        return p.aes_decrypt(self.ks_enc, data, iv=p.aes_ecb(self.ks_enc, self.ssc_bytes()))

    def mac(self, data: bytes) -> bytes:
        """MAC over SSC || data, padded (both ciphers pad before the MAC)."""
        message = p.pad(self.ssc_bytes() + data, self.block)
        if self.cipher == "3DES":
            return p.retail_mac(self.ks_mac, message)
        return p.cmac8(self.ks_mac, message)

    def _next(self) -> None:
        self.ssc = (self.ssc + 1) % (1 << (8 * self.block))

    # --- terminal side --------------------------------------------------------------------
    def protect(self, cmd: Command) -> bytes:
        header = bytes([cmd.cla | 0x0C, cmd.ins, cmd.p1, cmd.p2])
        do87 = b""
        if cmd.data:
            do87 = tlv(0x87, b"\x01" + self._encrypt_next(cmd.data))
        else:
            self._next()
        do97 = tlv(0x97, bytes([cmd.le & 0xFF])) if cmd.le is not None else b""
        cc = self.mac(p.pad(header, self.block) + do87 + do97)
        body = do87 + do97 + tlv(0x8E, cc)
        return header + bytes([len(body)]) + body + b"\x00"

    def _encrypt_next(self, data: bytes) -> bytes:
        # the SSC is incremented before anything of this APDU is computed (the IV of AES uses it)
        self._next()
        return self._encrypt(p.pad(data, self.block))

    def unprotect(self, raw: bytes) -> tuple[bytes, int]:
        body, outer_sw = split_response(raw)
        self._next()
        if not body:
            # Some chips answer an error (e.g. 6A82 file not found) with a bare status word.
            # That is accepted as the error it is; a bare success, or an SM error, is not.
            if outer_sw == 0x9000 or outer_sw in (0x6987, 0x6988):
                raise SecureMessagingError(detail=f"unprotected response sw={outer_sw:04X}")
            return b"", outer_sw
        objects = _objects(body)
        if 0x8E not in objects:
            raise SecureMessagingError(detail="response without MAC")
        covered = b"".join(tlv(t, objects[t]) for t in (0x87, 0x99) if t in objects)
        if not hmac.compare_digest(self.mac(covered), objects[0x8E]):
            raise SecureMessagingError(detail="response MAC mismatch")
        sw = int.from_bytes(objects[0x99], "big") if 0x99 in objects else outer_sw
        data = b""
        if 0x87 in objects:
            value = objects[0x87]
            if not value or value[0] != 0x01:
                raise SecureMessagingError(detail="DO87 without padding indicator")
            try:
                data = p.unpad(self._decrypt(value[1:]))
            except ValueError:
                raise SecureMessagingError(detail="bad padding in response") from None
        return data, sw

    # --- card side ------------------------------------------------------------------------
    def unprotect_command(self, raw: bytes) -> Command:
        outer = Command.decode(raw)
        if outer.cla & 0x0C != 0x0C:
            raise SecureMessagingError(detail="command not protected")
        self._next()
        objects = _objects(outer.data)
        if 0x8E not in objects:
            raise SecureMessagingError(detail="command without MAC")
        header = bytes([outer.cla, outer.ins, outer.p1, outer.p2])
        covered = p.pad(header, self.block) + b"".join(
            tlv(t, objects[t]) for t in (0x87, 0x97) if t in objects)
        if not hmac.compare_digest(self.mac(covered), objects[0x8E]):
            raise SecureMessagingError(detail="command MAC mismatch")
        data = b""
        if 0x87 in objects:
            try:
                data = p.unpad(self._decrypt(objects[0x87][1:]))
            except ValueError:
                raise SecureMessagingError(detail="bad padding in command") from None
        le = None
        if 0x97 in objects:
            le = objects[0x97][0] or 256
        return Command(outer.cla & ~0x0C & 0xFF, outer.ins, outer.p1, outer.p2, data, le)

    def protect_response(self, data: bytes, sw: int) -> bytes:
        self._next()
        do87 = tlv(0x87, b"\x01" + self._encrypt(p.pad(data, self.block))) if data else b""
        do99 = tlv(0x99, sw.to_bytes(2, "big"))
        cc = self.mac(do87 + do99)
        return do87 + do99 + tlv(0x8E, cc) + sw.to_bytes(2, "big")


def _objects(body: bytes) -> dict[int, bytes]:
    try:
        return {tag: value for tag, value in iter_tlv(body)}
    except Exception as exc:  # a garbled response is an SM failure, not a crash
        raise SecureMessagingError(detail=f"unparsable SM data: {exc}") from None
