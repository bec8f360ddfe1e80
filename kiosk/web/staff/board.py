"""The live board (today's registrations by kiosk, polled by htmx) and search."""
from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from kiosk.services import board
from kiosk.web.staff import bp
from kiosk.web.staff.auth import passive
from kiosk.web.staff.render import partial_or_page
from kiosk.web.staff.scope import office_filter


@bp.get("/")
def index():
    return partial_or_page("staff/board.html", "staff/_board.html",
                           groups=board.today_by_kiosk(current_user, office_filter()), queue=_queue_rows())


def _queue_rows():
    return [board.row(reg) for reg in board.waiting_for_clerk(current_user, office_filter())]


@bp.get("/board/live")
@passive
def board_live():
    """The board's body, polled every few seconds (does not keep the session alive)."""
    return render_template("staff/_board.html", groups=board.today_by_kiosk(current_user, office_filter()),
                           queue=_queue_rows())


@bp.get("/queue/badge")
@passive
def queue_badge():
    """The count of registrations waiting for a clerk, in the nav; console.js plays the cue
    when it grows."""
    return render_template("staff/_queue_badge.html", count=len(board.waiting_for_clerk(current_user, office_filter())))


@bp.get("/search")
def search():
    query = request.args.get("q", "")[:100]
    rows = board.search(query, current_user, office_filter())
    return partial_or_page("staff/search.html", "staff/_search_results.html",
                           query=query, rows=rows)
