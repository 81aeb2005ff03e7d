"""ASGI entry point: HTTP goes to Django (graphene's view, admin, health); the WebSocket at /graphql speaks GraphQL
subscriptions over graphql-transport-ws (schema.ws)."""

from backend.startup import setup_django_or_exit

setup_django_or_exit(check_services=True)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.urls import path  # noqa: E402

http = get_asgi_application()

from schema.ws import GraphQLWSConsumer  # noqa: E402 - after Django is set up

# No origin check: the socket carries no cookie; it authenticates only with the bearer token sent in connection_init,
# which another site's page cannot read, so cross-site WebSocket hijacking gains nothing.
application = ProtocolTypeRouter({"http": http, "websocket": URLRouter([path("graphql", GraphQLWSConsumer.as_asgi())])})
