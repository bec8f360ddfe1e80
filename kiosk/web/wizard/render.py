"""Rendering steps and turning a step's outcome into a response.

One template per step serves the full page and the htmx partial (Hypermedia Systems style). A
step's submit returns either a response (it stays: the step re-rendered, with its errors) or
:class:`GoTo` (it was accepted); :func:`respond` is the one place that turns a GoTo into
``HX-Push-Url`` with the next step in place, ``HX-Redirect`` or a 303.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import make_response, redirect, render_template, request, url_for

from kiosk.core.models import Registration
from kiosk.domain import flow


@dataclass(frozen=True)
class GoTo:
    """The step was accepted: show step ``number`` (or the done screen past the last step)."""

    number: int


def is_partial_request() -> bool:
    # A history-restore request needs the whole page, not a fragment.
    return bool(request.htmx) and not request.htmx.history_restore_request


def step_url(reg: Registration, number: int) -> str:
    if number >= flow.DONE:
        return url_for("wizard.done", token=reg.token)
    return url_for("wizard.step_view", token=reg.token, number=number)


def render_step(reg: Registration, number: int, screen: str | None = None, **context):
    """Step ``number``'s template (``_step_N.html``, or ``_step_N_<screen>.html`` for a step with
    several screens), as a whole page or, for htmx, the frame only."""
    context.setdefault("readonly", False)
    template = "wizard/_frame.html" if is_partial_request() else "wizard/step.html"
    html = render_template(
        template,
        reg=reg,
        step=flow.step(number),
        number=number,
        progress=flow.progress(number, reg.furthest_step),
        step_template=f"wizard/_step_{number}{'_' + screen if screen else ''}.html",
        **context,
    )
    return make_response(html)


def redirect_to(url: str):
    """Leave the current screen for ``url``: HX-Redirect for htmx, 303 otherwise."""
    if request.htmx:
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


def respond(reg: Registration, outcome, view_step):
    """The response for a submit's outcome; ``view_step(reg, n)`` renders step n in place."""
    if not isinstance(outcome, GoTo):
        return outcome
    url = step_url(reg, outcome.number)
    if not request.htmx or outcome.number >= flow.DONE:
        return redirect_to(url)  # the done page is a different layout
    response = view_step(reg, outcome.number)
    response.headers["HX-Push-Url"] = url
    return response
