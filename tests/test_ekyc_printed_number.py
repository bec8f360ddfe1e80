"""A card number read only off the print (its QR code unreadable) never vouches for the declared
identity on its own: a clerk compares it with the card; a QR read still does."""
from __future__ import annotations

from datetime import date

from kiosk.domain.kyc import identity_problems

DECLARED = {"id_number": "038085012345", "date_of_birth": "1985-09-05", "gender": "Nam"}


def _compared(source: str, number: str = "038085012345") -> dict:
    card = {"id_number": number, "date_of_birth": "1985-09-05", "gender": "Nam",
            "field_sources": {"id_number": source, "date_of_birth": source},
            "mrz": {"found": False, "valid": False}, "mismatches": [], "expiry_date": None}
    return {"reference": "card_portrait", "card": card}


def test_a_qr_read_vouches_for_the_number():
    assert identity_problems(_compared("qr"), DECLARED, today=date(2026, 12, 6)) == []


def test_a_preview_frames_qr_read_vouches_too():
    assert identity_problems(_compared("qr_preview"), DECLARED, today=date(2026, 12, 6)) == []


def test_a_printed_number_that_agrees_still_goes_to_a_clerk():
    problems = identity_problems(_compared("ocr"), DECLARED, today=date(2026, 12, 6))
    assert problems == ["card_number_printed_only"]


def test_a_printed_number_that_differs_is_a_difference():
    problems = identity_problems(_compared("ocr", "038085012346"), DECLARED,
                                 today=date(2026, 12, 6))
    assert "card_number_differs" in problems and "card_number_printed_only" not in problems
