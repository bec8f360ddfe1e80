"""WSGI entry point: `waitress-serve --call kiosk:create_app` or `gunicorn wsgi:app`."""
from kiosk import create_app

app = create_app()
