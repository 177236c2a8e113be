"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi run``."""

from cplan import create_app

app = create_app()
