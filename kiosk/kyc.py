"""The decision at step 6: who or what says the card and the face belong to the customer.

Today a clerk beside the kiosk confirms with their staff credentials. Automatic eKYC
(face match, liveness) will produce the same Decision values, so the wizard does not change.
"""
from __future__ import annotations

from enum import Enum

REQUIRED_CAPTURES = ("card_front", "card_back", "face")
CAPTURE_LABELS = {
    "card_front": "Mặt trước giấy tờ",
    "card_back": "Mặt sau giấy tờ",
    "face": "Khuôn mặt",
}


class Decision(str, Enum):
    MATCH = "match"  # automatic: face matches the card portrait
    REVIEW = "review"  # the machine is unsure: a clerk decides
    NO_MATCH = "no_match"  # automatic: retry, then a clerk
    STAFF_CONFIRMED = "staff_confirmed"
    STAFF_REJECTED = "staff_rejected"


PASSING = {Decision.MATCH, Decision.STAFF_CONFIRMED}


def missing_captures(captured_kinds: set[str]) -> list[str]:
    return [kind for kind in REQUIRED_CAPTURES if kind not in captured_kinds]


def can_continue(decision: Decision | None) -> bool:
    return decision in PASSING
