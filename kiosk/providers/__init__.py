"""Providers: SmartCA registration backend, SMS gateway and printer.

``init_app(app)`` reads the settings once at start-up, refuses incomplete ones with an error
naming the setting, and stores factories in ``app.extensions["kiosk_providers"]``. Views then
call ``registration_backend()``, ``sms_gateway()`` and ``printer()``: instances bound to
``db.session`` and cached for the current application context (one request), closed at its
teardown.

Settings (app.config / instance/config.py / KIOSK_* environment variables):

- ``SMARTCA_BACKEND``: ``sandbox`` (default) | ``http`` with ``SMARTCA_BACKEND_URL``,
  ``SMARTCA_BACKEND_TOKEN`` and optionally ``SMARTCA_BACKEND_TIMEOUT`` (seconds, 10).
- ``SMS_PROVIDER``: ``sandbox`` (default) | ``http`` with ``SMS_GATEWAY_URL``,
  ``SMS_GATEWAY_TOKEN``, optionally ``SMS_SENDER`` (brandname, "VNPT") and
  ``SMS_GATEWAY_TIMEOUT`` (10). Only the sandbox SmartCA backend uses it: a real backend
  sends its activation SMS itself.
- ``PRINTER``: ``browser`` (default) | ``cups`` with ``PRINTER_QUEUE`` (and optionally
  ``PRINTER_LP_PATH``) | ``file`` (into ``PRINTER_DIRECTORY``, default instance/prints).
- ``OTP_TTL_SECONDS``: validity of the sandbox's activation codes.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, g

from kiosk.providers.base import (
    BUSY_MESSAGE,
    PRINTER_MESSAGE,
    SMS_MESSAGE,
    Printer,
    PrintResult,
    ProviderConfigError,
    ProviderError,
    RegistrationBackend,
    SmsGateway,
    VerifyResult,
    check_service_url,
)

__all__ = [
    "BUSY_MESSAGE",
    "PRINTER_MESSAGE",
    "SMS_MESSAGE",
    "PrintResult",
    "Printer",
    "ProviderConfigError",
    "ProviderError",
    "RegistrationBackend",
    "SmsGateway",
    "VerifyResult",
    "init_app",
    "is_sandbox",
    "latest_sandbox_message",
    "printer",
    "registration_backend",
    "sms_gateway",
    "sms_is_sandbox",
]

EXTENSION_KEY = "kiosk_providers"
_CACHE_KEY = "_kiosk_providers"


@dataclass(frozen=True)
class ProviderSet:
    """What init_app decided; the factories build per-request instances."""

    smartca: str  # sandbox | http
    sms: str  # sandbox | http
    printer_mode: str  # browser | cups | file
    make_backend: Callable[[], RegistrationBackend]
    make_sms: Callable[[], SmsGateway]
    make_printer: Callable[[], Printer]

    @property
    def sandbox(self) -> bool:
        return self.smartca == "sandbox"


def _choice(config, key: str, allowed: tuple[str, ...]) -> str:
    value = str(config.get(key) or allowed[0]).strip().lower()
    if value not in allowed:
        raise ProviderConfigError(
            f"{key} must be one of {', '.join(allowed)}; got {config.get(key)!r}"
        )
    return value


def _required(config, key: str, because: str) -> str:
    value = config.get(key)
    if value is None or not str(value).strip():
        raise ProviderConfigError(f"{because}, but {key} is not set")
    return str(value).strip()


def _timeout(config, key: str) -> float:
    try:
        value = float(config.get(key) or 10)
    except (TypeError, ValueError):
        raise ProviderConfigError(f"{key} must be a number of seconds") from None
    if value <= 0:
        raise ProviderConfigError(f"{key} must be positive")
    return value


def build_providers(app: Flask) -> ProviderSet:
    """Validate the provider settings and return the factories (raises ProviderConfigError)."""
    from kiosk.core.extensions import db
    from kiosk.providers.printing import BrowserPrinter, CupsPrinter, FilePrinter
    from kiosk.providers.smartca_http import HttpRegistrationBackend
    from kiosk.providers.smartca_sandbox import SandboxRegistrationBackend
    from kiosk.providers.sms import HttpSms, SandboxSms

    config = app.config

    # SMS gateway
    sms_kind = _choice(config, "SMS_PROVIDER", ("sandbox", "http"))
    if sms_kind == "http":
        why = "SMS_PROVIDER is 'http'"
        sms_url = check_service_url(_required(config, "SMS_GATEWAY_URL", why), "SMS_GATEWAY_URL")
        sms_token = _required(config, "SMS_GATEWAY_TOKEN", why)
        sms_sender = str(config.get("SMS_SENDER") or "VNPT")
        sms_timeout = _timeout(config, "SMS_GATEWAY_TIMEOUT")

        def make_sms() -> SmsGateway:
            return HttpSms(sms_url, sms_token, sms_sender, db.session, timeout=sms_timeout)
    else:
        def make_sms() -> SmsGateway:
            return SandboxSms(db.session)

    # SmartCA registration backend
    smartca_kind = _choice(config, "SMARTCA_BACKEND", ("sandbox", "http"))
    if smartca_kind == "http":
        why = "SMARTCA_BACKEND is 'http'"
        url = check_service_url(_required(config, "SMARTCA_BACKEND_URL", why),
                                "SMARTCA_BACKEND_URL")
        token = _required(config, "SMARTCA_BACKEND_TOKEN", why)
        timeout = _timeout(config, "SMARTCA_BACKEND_TIMEOUT")

        def make_backend() -> RegistrationBackend:
            return HttpRegistrationBackend(url, token, timeout)
    else:
        ttl = int(config.get("OTP_TTL_SECONDS") or 300)

        def make_backend() -> RegistrationBackend:
            cipher = current_app.extensions["kiosk_cipher"]
            return SandboxRegistrationBackend(
                db.session, sms_gateway(), digest=cipher.lookup_digest, code_ttl_seconds=ttl
            )

    # Printer
    printer_kind = _choice(config, "PRINTER", ("browser", "cups", "file"))
    if printer_kind == "cups":
        queue = _required(config, "PRINTER_QUEUE", "PRINTER is 'cups'")
        lp_path = str(config.get("PRINTER_LP_PATH") or "lp")
        try:
            CupsPrinter(queue, lp_path)
        except ValueError as exc:
            raise ProviderConfigError(f"PRINTER_QUEUE: {exc}") from None
        if shutil.which(lp_path) is None:
            app.logger.warning("PRINTER is 'cups' but %r is not installed: printing will fail",
                               lp_path)

        def make_printer() -> Printer:
            return CupsPrinter(queue, lp_path)
    elif printer_kind == "file":
        directory = config.get("PRINTER_DIRECTORY") or os.path.join(app.instance_path, "prints")

        def make_printer() -> Printer:
            return FilePrinter(directory)
    else:
        def make_printer() -> Printer:
            return BrowserPrinter()

    return ProviderSet(smartca_kind, sms_kind, printer_kind, make_backend, make_sms,
                       make_printer)


def init_app(app: Flask) -> None:
    providers = build_providers(app)
    app.extensions[EXTENSION_KEY] = providers
    app.teardown_appcontext(_close_cached)
    app.logger.info(
        "providers: SmartCA backend %s%s, SMS %s, printer %s",
        providers.smartca,
        " (MÔI TRƯỜNG THỬ NGHIỆM)" if providers.sandbox else "",
        providers.sms,
        providers.printer_mode,
    )


def _providers() -> ProviderSet:
    try:
        return current_app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError("kiosk.providers.init_app(app) has not been called") from None


def _cached(name: str, factory: Callable[[], object]):
    cache = g.setdefault(_CACHE_KEY, {})
    if name not in cache:
        cache[name] = factory()
    return cache[name]


def _close_cached(_exc=None) -> None:
    cache = g.pop(_CACHE_KEY, None) or {}
    for instance in cache.values():
        close = getattr(instance, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # pragma: no cover - closing must not hide the real error
                current_app.logger.exception("closing a provider failed")


def registration_backend() -> RegistrationBackend:
    """The SmartCA registration backend for this request."""
    return _cached("registration_backend", _providers().make_backend)


def sms_gateway() -> SmsGateway:
    """The SMS gateway for this request."""
    return _cached("sms_gateway", _providers().make_sms)


def printer() -> Printer:
    """The receipt printer for this request."""
    return _cached("printer", _providers().make_printer)


def is_sandbox() -> bool:
    """True when the SmartCA backend is the sandbox: screens and receipts say
    "MÔI TRƯỜNG THỬ NGHIỆM"."""
    providers = current_app.extensions.get(EXTENSION_KEY)
    if providers is None:
        return str(current_app.config.get("SMARTCA_BACKEND") or "sandbox").lower() == "sandbox"
    return providers.sandbox


def sms_is_sandbox() -> bool:
    """True when SMS go to the sandbox outbox (nobody receives them)."""
    providers = current_app.extensions.get(EXTENSION_KEY)
    if providers is None:
        return str(current_app.config.get("SMS_PROVIDER") or "sandbox").lower() == "sandbox"
    return providers.sms == "sandbox"


def latest_sandbox_message(session, registration_id: int):
    """The last sandbox SMS of a registration (see kiosk.providers.sms)."""
    from kiosk.providers.sms import latest_sandbox_message as _latest

    return _latest(session, registration_id)
