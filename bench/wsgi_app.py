"""A WSGI entry point for the serving benchmark only (`gunicorn bench.wsgi_app:application`).

The project serves through ASGI (backend/asgi.py); this file exists so bench/serving.py can measure gunicorn's WSGI
workers against the same settings, URLs and views. It mirrors backend/asgi.py: the same start-up guard, then Django's
own WSGI handler. If the WSGI topology is ever adopted, this belongs in backend/wsgi.py (docs/serving.md).
"""

from backend.startup import setup_django_or_exit

setup_django_or_exit(check_services=True)

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
