"""One template per step serves the full page and the htmx partial (Hypermedia Systems style)."""
from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for

from .. import flow
from ..models import Registration


def is_partial_request() -> bool:
    # A history-restore request needs the whole page, not a fragment.
    return bool(request.htmx) and not request.htmx.history_restore_request


def step_url(reg: Registration, number: int) -> str:
    if number >= flow.DONE:
        return url_for("wizard.done", token=reg.token)
    return url_for("wizard.step_view", token=reg.token, number=number)


def render_step(reg: Registration, number: int, **context):
    context.setdefault("readonly", False)
    template = "wizard/_frame.html" if is_partial_request() else "wizard/step.html"
    html = render_template(
        template,
        reg=reg,
        step=flow.step(number),
        number=number,
        progress=flow.progress(number, reg.furthest_step),
        step_template=f"wizard/_step_{number}.html",
        **context,
    )
    return make_response(html)


def go_to(reg: Registration, number: int, render_next):
    """After an accepted step: htmx gets the next step in place (and a new URL); others a redirect."""
    url = step_url(reg, number)
    if not request.htmx:
        return redirect(url, code=303)
    if number >= flow.DONE:
        response = make_response("")
        response.headers["HX-Redirect"] = url  # the done page is a different layout
        return response
    response = render_next()
    response.headers["HX-Push-Url"] = url
    return response
