"""The baseline of bench/load.py: a one-template Flask app, served the same way as the kiosk.

It renders one small Jinja template per request (no database): what any Flask page costs on
this machine and server, so the kiosk's figures can be read as a ratio.
"""
from __future__ import annotations

from flask import Flask, render_template_string

PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{{ title }}</title>
</head><body><h1>{{ title }}</h1><ul>{% for item in items %}<li>{{ item }}</li>{% endfor %}</ul>
</body></html>"""


def create():
    app = Flask(__name__)

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
    @app.route("/<path:path>", methods=["GET", "POST"])
    def page(path):
        return render_template_string(PAGE, title="Bước " + path, items=range(10))

    return app


app = create()
