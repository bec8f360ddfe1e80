"""The audit log (append-only: the console only reads it), filtered by registration, clerk,
action and date."""
from __future__ import annotations

from flask import request
from flask_login import current_user

from kiosk.services import audit_log as log
from kiosk.web.staff import bp
from kiosk.web.staff.render import partial_or_page
from kiosk.web.staff.scope import office_filter


def _page_number(raw: str | None) -> int:
    try:
        return max(0, int(raw or "0"))
    except ValueError:
        return 0


@bp.get("/audit")
def audit_log():
    args = {k: (request.args.get(k) or "").strip()[:80] for k in ("number", "actor", "event", "day")}
    page = min(_page_number(request.args.get("page")), log.MAX_PAGE)
    found = log.search(current_user, office_filter(), page=page, **args)
    return partial_or_page("staff/audit.html", "staff/_audit_rows.html", rows=found.rows,
                           more=found.more, page=page, args=args, numbers=found.numbers,
                           events=found.events, warning=found.warning, names=found.names)
