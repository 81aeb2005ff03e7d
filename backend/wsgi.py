"""WSGI entry point: production HTTP runs here under gunicorn's threaded workers (docs/serving.md); WebSockets run
under daphne (backend/asgi.py). Same start-up guard as the ASGI side."""

from backend.startup import setup_django_or_exit

setup_django_or_exit(check_services=True)

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
