"""Transport and request hygiene shared by every page.

- Response headers that keep personal data out of caches and the page locked to our origin.
- Behind a reverse proxy (``TRUSTED_PROXIES`` = how many proxies sit in front, 0 = none): the
  proxy's X-Forwarded-* headers are believed (werkzeug ProxyFix) for that many hops and no more,
  so ``request.is_secure`` tells whether the customer's browser used HTTPS.
- Over HTTPS: the session cookie gets ``Secure`` and responses carry HSTS.
- State-changing requests must come from our own origin (``Origin``, else ``Referer``); the
  CSRF token still holds as the main defence. A request with neither header is let through to
  the CSRF check (some kiosk browsers strip both).
- The kiosk cookie has no expiry date: it dies with the browser session (state.py never makes
  it permanent), so a kiosk restarted overnight holds nobody's registration.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, abort, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

# Camera frames are drawn to canvas and sent as data: URLs; PDFs show in a same-origin iframe.
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; "
    "style-src 'self'; script-src 'self'; frame-src 'self'; object-src 'none'; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
)
HSTS = "max-age=31536000"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def foreign_origin() -> str | None:
    """The other origin a state-changing request came from, or None when it is ours/unknown."""
    ours = {_origin(request.host_url)}
    ours.update(o.lower().rstrip("/") for o in request.environ.get("kiosk.allowed_origins", ()))
    origin = request.headers.get("Origin")
    if origin is not None:
        # "null" comes from sandboxed frames, cross-site redirects and pages whose referrer
        # policy is no-referrer (an attacker's choice): never from our own pages.
        return None if origin.lower().rstrip("/") in ours else origin
    referer = request.headers.get("Referer")
    if referer:
        source = _origin(referer)
        return None if source in ours else (source or "?")
    return None


def init_app(app: Flask) -> None:
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_port=hops, x_prefix=hops)
    app.session_interface = SessionInterface()
    allowed = tuple(app.config.get("ALLOWED_ORIGINS") or ())

    @app.before_request
    def _same_origin_only():
        if request.method in SAFE_METHODS:
            return None
        request.environ["kiosk.allowed_origins"] = allowed
        source = foreign_origin()
        if source is not None:
            rule = request.url_rule.rule if request.url_rule is not None else "?"
            app.logger.warning("cross-origin %s refused on %s (origin %s)", request.method,
                               rule, source[:100])
            abort(403)
        return None

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # "same-origin", not "no-referrer": under no-referrer browsers send `Origin: null` on our
        # own POSTs (Fetch spec), and the origin check could not tell them from an attacker's
        # page. Other sites still get no Referer, so the token in our URLs never leaves.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(self), microphone=()")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if not request.path.startswith("/static/"):
            # Every page may hold personal data: never cache, and htmx partials differ by header.
            response.headers["Cache-Control"] = "no-store"
            response.vary.add("HX-Request")
        return response
