"""Short-Weierstrass curve arithmetic for PACE generic mapping (ICAO 9303-11 §4.4.3.3.1).

The mapped generator G~ = s·G + H is a point that no high-level library accepts as a base
point, so scalar multiplication over it is done here (affine coordinates, Python integers).
Speed is not an issue: one PACE run needs five scalar multiplications of a 256-bit curve.
Secret scalars are ephemeral per session; timing side channels over USB are out of scope.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from kiosk.chip.errors import ParseError

Point = tuple[int, int] | None  # None is the point at infinity


@dataclass(frozen=True)
class Curve:
    name: str
    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int

    @property
    def g(self) -> tuple[int, int]:
        return (self.gx, self.gy)

    @property
    def size(self) -> int:
        return (self.p.bit_length() + 7) // 8

    def on_curve(self, pt: Point) -> bool:
        if pt is None:
            return False
        x, y = pt
        return 0 <= x < self.p and 0 <= y < self.p and (y * y - x * x * x - self.a * x - self.b) % self.p == 0

    def add(self, p1: Point, p2: Point) -> Point:
        if p1 is None:
            return p2
        if p2 is None:
            return p1
        (x1, y1), (x2, y2) = p1, p2
        if x1 == x2:
            if (y1 + y2) % self.p == 0:
                return None
            lam = (3 * x1 * x1 + self.a) * pow(2 * y1, -1, self.p) % self.p
        else:
            lam = (y2 - y1) * pow(x2 - x1, -1, self.p) % self.p
        x3 = (lam * lam - x1 - x2) % self.p
        return (x3, (lam * (x1 - x3) - y1) % self.p)

    def mul(self, k: int, pt: Point) -> Point:
        result: Point = None
        addend = pt
        while k:
            if k & 1:
                result = self.add(result, addend)
            addend = self.add(addend, addend)
            k >>= 1
        return result

    def encode(self, pt: Point) -> bytes:
        if pt is None:
            raise ValueError("cannot encode the point at infinity")
        return b"\x04" + pt[0].to_bytes(self.size, "big") + pt[1].to_bytes(self.size, "big")

    def decode(self, data: bytes) -> tuple[int, int]:
        """An uncompressed point that must lie on the curve (invalid-curve points are refused)."""
        if len(data) != 1 + 2 * self.size or data[0] != 0x04:
            raise ParseError(detail="EC point not uncompressed or wrong size")
        pt = (int.from_bytes(data[1:1 + self.size], "big"), int.from_bytes(data[1 + self.size:], "big"))
        if not self.on_curve(pt):
            raise ParseError(detail="EC point not on the curve")
        return pt

    def random_scalar(self) -> int:
        return secrets.randbelow(self.n - 1) + 1


def _h(text: str) -> int:
    return int(text.replace(" ", ""), 16)


P256 = Curve(
    "secp256r1",
    p=_h("FFFFFFFF 00000001 00000000 00000000 00000000 FFFFFFFF FFFFFFFF FFFFFFFF"),
    a=_h("FFFFFFFF 00000001 00000000 00000000 00000000 FFFFFFFF FFFFFFFF FFFFFFFC"),
    b=_h("5AC635D8 AA3A93E7 B3EBBD55 769886BC 651D06B0 CC53B0F6 3BCE3C3E 27D2604B"),
    gx=_h("6B17D1F2 E12C4247 F8BCE6E5 63A440F2 77037D81 2DEB33A0 F4A13945 D898C296"),
    gy=_h("4FE342E2 FE1A7F9B 8EE7EB4A 7C0F9E16 2BCE3357 6B315ECE CBB64068 37BF51F5"),
    n=_h("FFFFFFFF 00000000 FFFFFFFF FFFFFFFF BCE6FAAD A7179E84 F3B9CAC2 FC632551"),
)

BRAINPOOL_P256R1 = Curve(
    "brainpoolP256r1",
    p=_h("A9FB57DB A1EEA9BC 3E660A90 9D838D72 6E3BF623 D5262028 2013481D 1F6E5377"),
    a=_h("7D5A0975 FC2C3057 EEF67530 417AFFE7 FB8055C1 26DC5C6C E94A4B44 F330B5D9"),
    b=_h("26DC5C6C E94A4B44 F330B5D9 BBD77CBF 95841629 5CF7E1CE 6BCCDC18 FF8C07B6"),
    gx=_h("8BD2AEB9 CB7E57CB 2C4B482F FC81B7AF B9DE27E1 E3BD23C2 3A4453BD 9ACE3262"),
    gy=_h("547EF835 C3DAC4FD 97F8461A 14611DC9 C2774513 2DED8E54 5C1D54C7 2F046997"),
    n=_h("A9FB57DB A1EEA9BC 3E660A90 9D838D71 8C397AA3 B561A6F7 901E0E82 974856A7"),
)

P384 = Curve(
    "secp384r1",
    p=2**384 - 2**128 - 2**96 + 2**32 - 1,
    a=2**384 - 2**128 - 2**96 + 2**32 - 1 - 3,
    b=_h("B3312FA7 E23EE7E4 988E056B E3F82D19 181D9C6E FE814112 0314088F 5013875A"
         "C656398D 8A2ED19D 2A85C8ED D3EC2AEF"),
    gx=_h("AA87CA22 BE8B0537 8EB1C71E F320AD74 6E1D3B62 8BA79B98 59F741E0 82542A38"
          "5502F25D BF55296C 3A545E38 72760AB7"),
    gy=_h("3617DE4A 96262C6F 5D9E98BF 9292DC29 F8F41DBD 289A147C E9DA3113 B5F0B8C0"
          "0A60B1CE 1D7E819D 7A431D7C 90EA0E5F"),
    n=_h("FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF C7634D81 F4372DDF"
         "581A0DB2 48B0A77A ECEC196A CCC52973"),
)

# ICAO 9303-11 §9.5.1 standardized domain parameters supported here (ids 12, 13, 15).
STANDARD_CURVES = {12: P256, 13: BRAINPOOL_P256R1, 15: P384}
