"""Response headers that keep personal data out of caches and the page locked to our origin."""
from __future__ import annotations

from flask import Flask, request

# Camera frames are drawn to canvas and sent as data: URLs; PDFs show in a same-origin iframe.
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; "
    "style-src 'self'; script-src 'self'; frame-src 'self'; object-src 'none'; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
)


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Permissions-Policy", "camera=(self), microphone=()")
        if not request.path.startswith("/static/"):
            # Every page may hold personal data: never cache, and htmx partials differ by header.
            response.headers["Cache-Control"] = "no-store"
            response.vary.add("HX-Request")
        return response
