"""A whole chip read: access control, data groups, parsing, passive and active authentication."""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.chip import active_auth, apdu, bac, lds, pace, passive_auth
from kiosk.chip.errors import (
    AccessDenied,
    BadKey,
    CardStatusError,
    ChipError,
    ParseError,
    TransportError,
    UnsupportedError,
)
from kiosk.chip.keys import MrzKey, check_can
from kiosk.chip.sm import SecureChannel
from kiosk.chip.tlv import header_length

DEFAULT_FILES = ("COM", "DG1", "DG2", "DG13", "DG14", "DG15", "SOD")
SW_FILE_NOT_FOUND = 0x6A82
CHUNK = 0xDF  # keeps a protected READ BINARY response inside a short APDU


class _Link:
    """Sends commands in the clear or through the secure channel once there is one."""

    def __init__(self, transport):
        self._transport = transport
        self.channel: SecureChannel | None = None
        self.apdus = 0

    def raw(self, data: bytes) -> bytes:
        self.apdus += 1
        try:
            response = self._transport.transmit(data)
        except ChipError:
            raise
        except Exception as exc:  # the reader library's own exceptions: card gone, reader gone
            raise TransportError(detail=f"{type(exc).__name__}: {exc}") from None
        if not isinstance(response, (bytes, bytearray)) or len(response) < 2:
            raise TransportError(detail="short or empty response")
        return bytes(response)

    def send(self, cmd: apdu.Command) -> tuple[bytes, int]:
        if self.channel is None:
            return apdu.split_response(self.raw(cmd.encode()))
        return self.channel.unprotect(self.raw(self.channel.protect(cmd)))


@dataclass
class ChipReadResult:
    access: str  # "PACE" | "BAC"
    data_groups: dict[str, dict] = field(default_factory=dict)  # parsed, JSON-friendly
    raw: dict[str, bytes] = field(default_factory=dict, repr=False)
    portrait: lds.FaceImage | None = field(default=None, repr=False)
    passive: passive_auth.PassiveAuthResult = field(default_factory=passive_auth.PassiveAuthResult)
    active_auth: dict = field(default_factory=lambda: {"result": "not_offered"})
    chip_auth_offered: bool = False
    timings_ms: dict[str, float] = field(default_factory=dict)
    errors: dict[str, dict] = field(default_factory=dict)
    apdus: int = 0

    def as_dict(self) -> dict:
        """JSON-friendly; the portrait appears as size and hash, never as bytes."""
        portrait = None
        if self.portrait is not None:
            portrait = {"mime": self.portrait.mime, "bytes": len(self.portrait.data),
                        "sha256": hashlib.sha256(self.portrait.data).hexdigest(),
                        "width": self.portrait.width, "height": self.portrait.height}
        return {
            "access": self.access, "data_groups": self.data_groups, "portrait": portrait,
            "passive_authentication": self.passive.as_dict(),
            "passive_authentication_message": self.passive.message,
            "active_authentication": self.active_auth, "chip_authentication_offered": self.chip_auth_offered,
            "timings_ms": self.timings_ms, "errors": self.errors, "apdus": self.apdus,
        }


def read_card(transport, *, can: str | None = None, mrz_key: MrzKey | None = None,
              csca_dir: str | Path | None = None, files: tuple[str, ...] = DEFAULT_FILES,
              chunk: int = CHUNK) -> ChipReadResult:
    """Read the chip; raises ChipError subclasses (all with a Vietnamese ``message``)."""
    if can is None and mrz_key is None:
        raise BadKey("Cần mã CAN hoặc khoá MRZ để mở chip.")
    if can is not None:
        can = check_can(can)
    link = _Link(transport)
    started = time.perf_counter()
    access = _open(link, can, mrz_key)
    result = ChipReadResult(access=access)
    result.timings_ms["access"] = _ms(started)

    present: set[int] | None = None
    for name in files:
        if name == "COM" or present is None or name == "SOD" or _dg_number(name) in present:
            t0 = time.perf_counter()
            content = _read_file(link, lds.FILES[name][0], chunk, name)
            result.timings_ms[name] = _ms(t0)
            if content is None:
                continue
            result.raw[name] = content
            _parse(result, name, content)
            if name == "COM" and "COM" in result.data_groups:
                present = set(result.data_groups["COM"]["data_groups"]) or None

    dg_bytes = {_dg_number(n): v for n, v in result.raw.items() if n.startswith("DG")}
    t0 = time.perf_counter()
    result.passive = passive_auth.verify(result.raw.get("SOD"), dg_bytes, csca_dir)
    result.timings_ms["passive_authentication"] = _ms(t0)
    _active_authentication(link, result)
    result.timings_ms["total"] = _ms(started)
    result.apdus = link.apdus
    return result


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 1)


def _dg_number(name: str) -> int:
    return int(name[2:]) if name.startswith("DG") else 0


def _open(link: _Link, can: str | None, mrz_key: MrzKey | None) -> str:
    """PACE first (from EF.CardAccess), BAC as fall-back; returns the method that worked."""
    infos: list[pace.PaceInfo] = []
    try:
        link.send(apdu.select_master_file())  # some chips want the MF selected; others refuse it
        card_access = _read_file(link, lds.CARD_ACCESS_FID, CHUNK, "EF.CardAccess")
        if not card_access:
            card_access = _read_card_access_by_sfi(link)
        if card_access:
            infos = [i for i in pace.pace_infos(card_access) if i.supported]
    except (ParseError, CardStatusError):
        infos = []
    pace_error: ChipError | None = None
    for info in infos[:1]:
        password, ref = ((pace.can_password(can), pace.PASSWORD_CAN) if can is not None
                         else (mrz_key.pace_password(), pace.PASSWORD_MRZ))
        try:
            link.channel = pace.authenticate(link.raw, info, password, ref)
        except (AccessDenied, UnsupportedError) as exc:
            pace_error = exc
            break
        data, sw = link.send(apdu.select_application(apdu.EMRTD_AID))
        if sw != apdu.SW_OK:
            raise CardStatusError(sw, "chọn ứng dụng hộ chiếu điện tử")
        return "PACE"
    if mrz_key is None:
        if isinstance(pace_error, AccessDenied):
            raise AccessDenied("Thẻ từ chối mã CAN. Kiểm tra lại số định danh (6 số cuối).")
        raise UnsupportedError("Thẻ không hỗ trợ PACE với mã CAN; cần khoá MRZ (số thẻ, ngày sinh, ngày hết hạn).")
    link.channel = None
    _, sw = link.send(apdu.select_application(apdu.EMRTD_AID))
    if sw != apdu.SW_OK:
        raise CardStatusError(sw, "chọn ứng dụng hộ chiếu điện tử")
    link.channel = bac.authenticate(link.raw, mrz_key)
    return "BAC"


def _read_card_access_by_sfi(link: _Link) -> bytes | None:
    """Some chips refuse SELECT of EF.CardAccess but serve it by its short file id 0x1C."""
    data, sw = link.send(apdu.Command(0x00, 0xB0, 0x80 | 0x1C, 0x00, le=256))
    return data if sw in (apdu.SW_OK, 0x6282) and data else None


def _read_file(link: _Link, fid: int, chunk: int, name: str) -> bytes | None:
    """SELECT then READ BINARY in chunks; None when the file does not exist."""
    _, sw = link.send(apdu.select_file(fid))
    if sw == SW_FILE_NOT_FOUND:
        return None
    if sw != apdu.SW_OK:
        raise CardStatusError(sw, f"chọn tệp {name}")
    head = _read_binary(link, 0, 4, name)
    if len(head) < 2:
        raise ParseError(f"Tệp {name} trong chip rỗng.")
    try:
        total = header_length(head)
    except ChipError:
        raise ParseError(f"Tệp {name} trong chip có phần đầu hỏng.") from None
    if total > 0x7FFF + chunk:
        raise UnsupportedError(f"Tệp {name} lớn hơn mức kiosk hỗ trợ.")
    content = bytearray(head[:total])
    while len(content) < total:
        part = _read_binary(link, len(content), min(chunk, total - len(content)), name)
        if not part:
            raise ParseError(f"Tệp {name} trong chip bị cắt ngắn.")
        content += part
    return bytes(content[:total])


def _read_binary(link: _Link, offset: int, length: int, name: str) -> bytes:
    data, sw = link.send(apdu.read_binary(offset, length))
    if sw not in (apdu.SW_OK, 0x6282):  # 6282: end of file reached before Le bytes
        if sw == 0x6982:
            raise AccessDenied("Chip không cho đọc dữ liệu (chưa mở được kênh bảo mật).")
        raise CardStatusError(sw, f"đọc tệp {name}")
    return data


def _parse(result: ChipReadResult, name: str, content: bytes) -> None:
    try:
        if name == "COM":
            result.data_groups["COM"] = lds.parse_com(content)
        elif name == "DG1":
            result.data_groups["DG1"] = lds.parse_dg1(content)
        elif name == "DG2":
            result.portrait = lds.parse_dg2(content)
            result.data_groups["DG2"] = {"mime": result.portrait.mime, "bytes": len(result.portrait.data)}
        elif name == "DG13":
            result.data_groups["DG13"] = lds.parse_dg13(content)
        elif name == "DG14":
            infos = lds.parse_dg14(content)
            result.data_groups["DG14"] = {"security_infos": [oid for oid, _ in infos]}
            result.chip_auth_offered = any(oid.startswith("0.4.0.127.0.7.2.2.3.") for oid, _ in infos)
        elif name == "DG15":
            key = lds.parse_dg15(content)
            result.data_groups["DG15"] = {"algorithm": key.algorithm}
        elif name == "SOD":
            sod = passive_auth.parse_sod(content)
            result.data_groups["SOD"] = {"hash_algorithm": sod.hash_algorithm,
                                         "data_groups": sorted(sod.hashes)}
    except ChipError as exc:
        result.errors[name] = {"error": exc.code, "message": exc.message}


def _active_authentication(link: _Link, result: ChipReadResult) -> None:
    raw = result.raw.get("DG15")
    if raw is None or "DG15" in result.errors:
        return
    key = lds.parse_dg15(raw)
    signature_oid = None
    if "DG14" in result.raw and "DG14" not in result.errors:
        for oid, fields in lds.parse_dg14(result.raw["DG14"]):
            if oid == "2.23.136.1.1.5":  # ActiveAuthenticationInfo
                from asn1crypto.core import ObjectIdentifier

                for tag, value in fields:
                    if tag == 0x06:
                        signature_oid = ObjectIdentifier.load(b"\x06" + bytes([len(value)]) + value).dotted
    nonce = active_auth.challenge()
    t0 = time.perf_counter()
    try:
        signature, sw = link.send(apdu.Command(0x00, 0x88, 0x00, 0x00, nonce, le=256))
    except TransportError:
        raise
    except ChipError as exc:
        result.active_auth = {"result": "error", "message": exc.message}
        return
    result.timings_ms["active_authentication"] = _ms(t0)
    if sw != apdu.SW_OK:
        result.active_auth = {"result": "error", "message": f"Thẻ trả lời {sw:04X}."}
        return
    passed = active_auth.verify(key, nonce, signature, signature_oid)
    result.active_auth = {"result": "passed" if passed else "failed", "algorithm": key.algorithm}
