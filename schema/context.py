"""The per-request GraphQL context: the request, the signed-in session (if any) and the actor, loaded lazily."""

from __future__ import annotations

from functools import cached_property

from backend.accounts.actor import Actor, Grant
from backend.accounts.models import AuthSession, User
from backend.accounts.services import ClientInfo


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
        return ClientInfo.of(self.request)
