"""«Kiểm tra chữ ký»: a clerk checks the office's seal on a stored document (a partial)."""
from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user

from kiosk.services import document_seal
from kiosk.web.staff import bp


@bp.get("/r/<number>/document/<int:document_id>/verify")
def verify_document(number: str, document_id: int):
    result = document_seal.verify_stored(number, document_id, current_user)
    if result is None:
        abort(404)
    return render_template("staff/_document_check.html", result=result)
