"""Glue between database rows and the pure document renderers in kiosk.documents."""
from __future__ import annotations

import hashlib
from datetime import date, datetime

from sqlalchemy import select

from .documents import (
    CustomerInfo,
    DocumentContext,
    OfficeInfo,
    PackageInfo,
    ReceiptContext,
    Signature,
    render_acceptance,
    render_contract,
    render_receipt,
)
from .extensions import db
from .identity import IdType, national_format
from .models import Document, Office, Registration
from .web import local_time


def office_info() -> OfficeInfo:
    office = db.session.query(Office).first()
    if office is None:
        return OfficeInfo()
    return OfficeInfo(
        name=office.name, address=office.address, phone=office.phone, hotline=office.hotline,
        email=office.email, website=office.website, app_store_url=office.app_store_url,
        play_store_url=office.play_store_url,
    )


def package_info(reg: Registration) -> PackageInfo:
    snap = reg.package_snapshot or {}
    return PackageInfo(name=snap.get("name", ""), duration_months=snap.get("duration_months", 0),
                       price_vnd=snap.get("price_vnd", 0))


def customer_info(reg: Registration) -> CustomerInfo:
    data = reg.data
    return CustomerInfo(
        full_name=data.get("full_name", ""),
        id_type_label=IdType(data.get("id_type", "cccd")).label,
        id_number=data.get("id_number", ""),
        date_of_birth=date.fromisoformat(data["date_of_birth"]),
        gender=data.get("gender", ""),
        address=data.get("address", ""),
        phone_display=national_format(data["phone"]),
        email=data.get("email"),
        issue_date=date.fromisoformat(data["issue_date"]) if data.get("issue_date") else None,
    )


def document_context(reg: Registration) -> DocumentContext:
    return DocumentContext(
        registration_number=reg.number, created_at=local_time(reg.created_at),
        customer=customer_info(reg), package=package_info(reg), office=office_info(),
        sandbox=reg.sandbox,
    )


RENDERERS = {"contract": render_contract, "acceptance": render_acceptance}


def render_signable(reg: Registration, kind: str, signature_png: bytes | None = None,
                    signed_at: datetime | None = None) -> bytes:
    signature = None
    if signature_png is not None:
        signature = Signature(png_bytes=signature_png, signed_at=local_time(signed_at))
    return RENDERERS[kind](document_context(reg), signature)


def render_receipt_for(reg: Registration) -> bytes:
    data = reg.data
    return render_receipt(ReceiptContext(
        registration_number=reg.number, completed_at=local_time(reg.finished_at),
        customer_name=data.get("full_name", ""), id_number=data.get("id_number", ""),
        package=package_info(reg), office=office_info(), sandbox=reg.sandbox,
    ))


def store_document(reg: Registration, kind: str, pdf: bytes, signed_at: datetime | None = None) -> Document:
    doc = Document(registration_id=reg.id, kind=kind, content=pdf,
                   sha256=hashlib.sha256(pdf).hexdigest(), signed_at=signed_at)
    db.session.add(doc)
    return doc


def latest_document(reg: Registration, kind: str) -> Document | None:
    return db.session.scalar(
        select(Document).where(Document.registration_id == reg.id, Document.kind == kind)
        .order_by(Document.id.desc()).limit(1)
    )
