"""Step 6: read the card's chip so the face is compared with its signed portrait.

For a customer who typed their data (or scanned the card with the camera) at step 1 and has
their card at hand when the machine is unsure of the printed portrait: the chip is opened with
the declared ID number (its last 6 digits are the CAN), and a verified read makes the chip's
portrait the reference for the photos already taken. The new decision is not one of the
customer's tries. When it no longer needs a clerk, the registration leaves the clerks' queue.

Both slow parts (the chip answering, the face comparison) run before anything is written; the
read's rows and the decision are then written together and the request commits them — whatever
the outcome, a failed read's audit row included.
"""
from __future__ import annotations

from kiosk.core.models import Registration
from kiosk.domain.identity import IdType
from kiosk.services import chip_reading, ekyc, registrations, review


def offered(reg: Registration) -> bool:
    """A reader is configured and the document is a căn cước: the CAN is the declared number's
    last six digits (a passport's chip opens with its zone, not with a declared number)."""
    return chip_reading.enabled() and reg.data.get("id_type", IdType.CCCD.value) == IdType.CCCD.value


def read_and_decide(reg: Registration) -> chip_reading.ChipOutcome:
    """Read the chip with the declared number and judge the latest photos against its portrait."""
    id_number = reg.data.get("id_number", "")
    read = chip_reading.read_chip(id_number)
    details = None
    # after a clerk's rejection the read is kept (the clerk may look at it) but decides nothing:
    # only a clerk opens another try (services.review.allow_one_more)
    if read.trusted and not ekyc.rejected_by_staff(reg):
        # the read's portrait (None without one: the reference stays what it was)
        details = ekyc.decision_against(reg, chip_reading.reference_of(read),
                                        live=reg.liveness_passed_at is not None)
    outcome = chip_reading.record_read(reg, read, id_number)
    if not outcome.ok:
        return outcome
    if details is not None:
        ekyc.record_decision(reg, details, new_attempt=False)
    if reg.help_reason in review.REVIEW_HELP_REASONS and not review.needs_clerk(reg):
        registrations.help_handled(reg, actor="system", outcome="chip_read")
    return outcome
