"""Step 6's card photos as a small state machine that cannot loop.

The kiosk shoots by itself when a frame looks good (static/js/guidance.js). Held still with the
side already taken, the same side would be shot again and again (each shot stored and audited)
while the screen asked for the other one. Here each card photo the camera sends is one
transition, decided from plain facts the service gathered (the side the page asked for, the side
the card reader saw, the sides already stored in this attempt, whether the frame is nearly the
same picture as the stored one):

- ``STORED``: a side not stored yet in this attempt (either side first), or a retake that is a
  new picture: kept, under the side it shows;
- ``WRONG_SIDE``: the page asked for one side and the card shows the other, already stored: not
  kept again; the customer is told, in words and with a drawing, to turn the card over;
- ``ALREADY_HAVE``: the side asked for is already stored (two shots in flight), or a retake that
  is nearly the same picture as the stored one: not kept again.

The page obeys the answer: after ``WRONG_SIDE`` or ``ALREADY_HAVE`` it stops shooting by itself
until the card in front of the camera changes (``hold`` below). The audit records one event per
decision: a repeat of the same refusal (same state, same side) is not recorded again.
"""
from __future__ import annotations

from dataclasses import dataclass

CARD_SIDES = ("card_front", "card_back")

STORED = "stored"
WRONG_SIDE = "wrong_side"
ALREADY_HAVE = "already_have"

# Two 64-bit difference hashes (dHash) at most this many bits apart are the same picture: a
# card held still gives 0–4 bits between frames (sensor noise, JPEG); turned over, moved or
# swapped it gives 15 and more.
NEAR_IDENTICAL_BITS = 6

SIDE_NAMES = {"card_front": "mặt trước", "card_back": "mặt sau"}


@dataclass(frozen=True)
class CardShot:
    """One card photo from the camera, as the service saw it."""
    requested: str          # the side the page asked for ("card_front" | "card_back")
    seen: str | None        # the side the card reader found (None: it could not tell)
    stored: frozenset[str]  # the sides already stored in this attempt
    near_identical: bool    # nearly the same picture as the stored photo of the side seen
    retake: bool = False    # the customer asked to take this side again


@dataclass(frozen=True)
class CardOutcome:
    state: str           # STORED | WRONG_SIDE | ALREADY_HAVE
    kind: str            # the side it shows (stored under it when STORED)
    message: str | None  # what the customer is told (None: nothing to say)

    @property
    def store(self) -> bool:
        return self.state == STORED

    @property
    def hold(self) -> bool:
        """The page must not shoot by itself again until the card changes."""
        return self.state != STORED


def other_side(kind: str) -> str:
    return "card_back" if kind == "card_front" else "card_front"


def turn_over_message(seen: str) -> str:
    return (f"Đã có {SIDE_NAMES[seen]}. Vui lòng lật giấy tờ lại, đưa "
            f"{SIDE_NAMES[other_side(seen)]} vào khung.")


def already_have_message(kind: str) -> str:
    return (f"Máy đã lưu ảnh {SIDE_NAMES[kind]} này rồi. Nếu muốn chụp lại, vui lòng nhấc giấy "
            f"tờ ra rồi đặt lại vào khung.")


def decide(shot: CardShot) -> CardOutcome:
    """The transition for one card photo (pure: nothing stored or recorded here)."""
    if shot.requested not in CARD_SIDES:
        raise ValueError(f"not a card side: {shot.requested!r}")
    seen = shot.seen if shot.seen in CARD_SIDES else shot.requested
    if seen != shot.requested:
        if seen in shot.stored:
            return CardOutcome(WRONG_SIDE, seen, turn_over_message(seen))
        # the customer showed the other side first: kept as the side it shows
        # (the screen that asks for the other side then says, with the drawing, to turn over)
        return CardOutcome(STORED, seen,
                           f"Ảnh vừa chụp là {SIDE_NAMES[seen]} giấy tờ: đã lưu đúng mặt.")
    if seen in shot.stored and (not shot.retake or shot.near_identical):
        return CardOutcome(ALREADY_HAVE, seen, already_have_message(seen))
    return CardOutcome(STORED, seen, None)


def repeats(outcome: CardOutcome, last: dict) -> bool:
    """True when ``outcome`` is the same refusal as the last one recorded (``last``: the details
    of the latest card decision in the audit), so it is not recorded again."""
    return (not outcome.store and last.get("state") == outcome.state
            and last.get("kind") == outcome.kind)


def hamming(a: int, b: int) -> int:
    return bin(a ^ b).count("1")


def nearly_same(a: int | None, b: int | None) -> bool:
    return a is not None and b is not None and hamming(a, b) <= NEAR_IDENTICAL_BITS
