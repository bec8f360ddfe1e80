"""Rows by id, for ids that come from a URL.

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
