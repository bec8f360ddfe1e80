"""The identity evidence record of a registration (shown on its page, exported as PDF) and the
clerk's attestation «Đã xem bản gốc giấy tờ»: one registration at a time from its page, or in
bulk from the list of today's automatic decisions not yet attested."""
from __future__ import annotations

from flask import Response, render_template, request
from flask_login import current_user

from kiosk.services import identity_record
from kiosk.web.staff import bp
from kiosk.web.staff.registrations import registration_or_404
from kiosk.web.staff.render import partial_or_page
from kiosk.web.staff.scope import office_filter


def _record_view(number: str, **extra):
    reg = registration_or_404(number)
    rec = identity_record.record(reg)
    return partial_or_page("staff/identity.html", "staff/_identity_record.html", reg=reg, rec=rec,
                           sections=identity_record.sections(rec),
                           attestation_text=identity_record.ATTESTATION_TEXT, **extra)


@bp.get("/r/<number>/identity")
def identity_record_view(number: str):
    return _record_view(number)


@bp.post("/r/<number>/identity/attest")
def identity_attest(number: str):
    reg = registration_or_404(number)
    try:
        identity_record.attest(reg, current_user, "board")
    except identity_record.AttestationError as err:
        return _record_view(number, error=str(err))
    return _record_view(number, saved="Đã ghi nhận: đã xem bản gốc giấy tờ.")


@bp.get("/r/<number>/identity.pdf")
def identity_pdf(number: str):
    reg = registration_or_404(number)
    pdf = identity_record.pdf(reg, current_user)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="dinh-danh-{reg.number}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _attestations_page(**extra):
    return render_template("staff/attestations.html", rows=identity_record.unattested_rows(current_user, office_filter()),
                           attestation_text=identity_record.ATTESTATION_TEXT, **extra)


@bp.get("/attestations")
def attestations():
    return _attestations_page()


@bp.post("/attestations")
def attestations_confirm():
    try:
        count = identity_record.attest_many(current_user, request.form.getlist("number"))
    except identity_record.AttestationError as err:
        return _attestations_page(error=str(err))
    return _attestations_page(saved=f"Đã ghi nhận {count} hồ sơ: đã xem bản gốc giấy tờ.")
