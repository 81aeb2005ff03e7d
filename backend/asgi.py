"""ASGI entry point: HTTP goes to Django (graphene's view, admin, health)."""

from backend.startup import setup_django_or_exit

setup_django_or_exit(check_services=True)

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

application = ProtocolTypeRouter({"http": get_asgi_application()})
