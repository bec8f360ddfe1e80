"""What a duplicate submit that lost the race for a one-time action answers.

A double tap or a retried request reaches a step while the first request holds the action's
claim (services/claims.py): it shows the step with «đang được xử lý», or, once the first request
has finished, moves on to the next step as the first one did."""
from __future__ import annotations

from collections.abc import Callable

from kiosk.core.models import Registration
from kiosk.services import claims
from kiosk.web.wizard.render import GoTo

BUSY = "Yêu cầu trước của quý khách đang được xử lý. Vui lòng chờ trong giây lát."


def answer_lost_race(reg: Registration, action: str, number: int, view: Callable[[Registration], object]):
    """A parallel submit of step ``number`` found ``action`` taken: once the request that took it
    has finished, go on to the next step like it did; until then show the step with a notice."""
    if claims.is_done(reg, action):
        claims.refresh_after_race(reg)
        return GoTo(number + 1)
    return view(reg)
