"""Rendering helpers shared by the console's modules."""
from __future__ import annotations

from flask import render_template, request


def is_partial_request() -> bool:
    # A history-restore request needs the whole page, not a fragment.
    return bool(request.htmx) and not request.htmx.history_restore_request


def partial_or_page(page: str, partial: str, **context):
    return render_template(partial if is_partial_request() else page, **context)
