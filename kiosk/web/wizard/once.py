"""What a submit that lost the race for a one-time action answers (services/claims.py)."""
from __future__ import annotations

from collections.abc import Callable

from kiosk.core.models import Registration
from kiosk.services import claims
from kiosk.web.wizard.render import GoTo

BUSY = "Yêu cầu trước của quý khách đang được xử lý. Vui lòng chờ trong giây lát."


def busy(reg: Registration, action: str, number: int, view: Callable[[Registration], object]):
    """A parallel submit of step ``number`` found ``action`` taken: once the request that took it
    has finished, go on to the next step like it did; until then show the step with a notice."""
    if claims.is_done(reg, action):
        claims.refresh_after_race(reg)
        return GoTo(number + 1)
    return view(reg)
