"""Rendering helpers shared by the console's modules."""
from __future__ import annotations

from flask import render_template, request


def is_partial_request() -> bool:
    # A history-restore request needs the whole page, not a fragment.
    return bool(request.htmx) and not request.htmx.history_restore_request


def partial_or_page(page_template: str, partial_template: str, **context):
    return render_template(partial_template if is_partial_request() else page_template, **context)


def apply_form(action, error_type: type[Exception], page, section: str, done: str):
    """Run a settings/accounts change; re-render ``page`` with the message beside ``section``:
    the error (nothing saved, what was typed kept) or ``done``."""
    from flask import request

    from kiosk.services import unit_of_work

    try:
        action()
    except error_type as err:
        unit_of_work.rollback()
        return page(errors={section: str(err)}, form=request.form)
    return page(saved={section: done})
