"""The per-request GraphQL context: the request, the signed-in session (if any) and the actor, loaded lazily."""

from __future__ import annotations

from functools import cached_property

from django.conf import settings

from backend.accounts.actor import Actor, Grant
from backend.accounts.models import AuthSession, User
from backend.accounts.services import ClientInfo


def client_ip(request) -> str | None:
    """The caller's address: the socket's, or the one `TRUSTED_PROXY_COUNT` proxies put in X-Forwarded-For."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR") or None


class GraphQLContext:
    """`session`: a person's (access token); `grant`: an integration's (API key); neither: anonymous."""

    def __init__(self, request, session: AuthSession | None, grant: Grant | None = None):
        self.request = request
        self.session = session
        self.grant = grant

    @property
    def user(self) -> User | None:
        return self.session.user if self.session else None

    @cached_property
    def actor(self) -> Actor:
        if self.grant is not None:
            return Actor.for_integration(self.grant)
        return Actor.for_user(self.user)

    @cached_property
    def client(self) -> ClientInfo:
        return ClientInfo(ip=client_ip(self.request), user_agent=self.request.META.get("HTTP_USER_AGENT", ""))
