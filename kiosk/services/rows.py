"""Rows by id, for ids that come from a URL or a form.

Flask's ``<int:…>`` converter accepts any number of digits; SQLite (and PostgreSQL's BIGINT)
stop at 2**63 - 1, and the driver raises on a larger number instead of finding nothing. An id no
row can have finds nothing here, so a typed URL answers 404, never 500.
"""
from __future__ import annotations

from kiosk.core.extensions import db

LARGEST_ID = 2**63 - 1


def get(model, row_id: int):
    if not 0 < row_id <= LARGEST_ID:
        return None
    return db.session.get(model, row_id)


def from_form(model, raw):
    """The row a form field names by its id, or None: anything but ASCII digits (a Unicode
    digit passes str.isdigit but not int's idea of an id) finds nothing."""
    text = str(raw or "").strip()
    return get(model, int(text)) if text.isascii() and text.isdigit() else None
