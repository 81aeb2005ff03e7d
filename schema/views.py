"""The `/graphql` endpoint: graphene-django's view with bearer-token authentication, request limits and errors that
never leak internals."""

from __future__ import annotations

import json
import logging
import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed
from graphene_django.views import GraphQLView, HttpError
from graphql import ExecutionResult, GraphQLError, OperationType, execute, get_operation_ast

from backend.accounts.tokens import TokenError, authenticate_access_token
from backend.errors import DomainError
from schema.context import GraphQLContext
from schema.limits import checked_document, input_errors
from schema.uploads import MultipartError, operations_with_files

logger = logging.getLogger("simpul.graphql")
SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")  # graphql-core's suggestions of names (pyutils.did_you_mean)


def json_error(status: int, message: str, code: str, **headers) -> HttpResponse:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    response = HttpResponse(body, status=status, content_type="application/json")
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _never_awaitable(value) -> bool:
    return False


class SimpulGraphQLView(GraphQLView):
    def dispatch(self, request, *args, **kwargs):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error(400, "Content-Length is not a number.", "BAD_REQUEST")
        limit = (
            settings.GRAPHQL_MAX_UPLOAD_BYTES
            if self.get_content_type(request) == "multipart/form-data"
            else settings.GRAPHQL_MAX_BODY_BYTES
        )
        too_large = json_error(413, f"The request body is larger than {limit} bytes.", "PAYLOAD_TOO_LARGE")
        if length > limit:
            return too_large
        if not length and self.get_content_type(request) in ("application/json", "application/graphql"):
            # No Content-Length (chunked): measure what actually arrived.
            try:
                if len(request.body) > settings.GRAPHQL_MAX_BODY_BYTES:
                    return too_large
            except RequestDataTooBig:
                return too_large
        request.graphql_session = None
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header:
            scheme, _space, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return json_error(
                    401, "Use 'Authorization: Bearer <access token>'.", "UNAUTHENTICATED", WWW_Authenticate="Bearer"
                )
            try:
                request.graphql_session = authenticate_access_token(token.strip())
            except TokenError as exc:
                code = "TOKEN_EXPIRED" if exc.reason == "expired" else "UNAUTHENTICATED"
                return json_error(
                    401,
                    "The access token has expired; refresh it."
                    if exc.reason == "expired"
                    else "The access token is not valid.",
                    code,
                    WWW_Authenticate='Bearer error="invalid_token"',
                )
        # graphene-django's dispatch without its ensure_csrf_cookie decorator: this API reads no cookies, so a CSRF
        # token cookie (and the work of minting one) on every response would serve nothing.
        try:
            return GraphQLView.dispatch.__wrapped__(self, request, *args, **kwargs)
        except RecursionError:  # JSON nested thousands deep (the body, or `variables` of a GET)
            return json_error(400, "The request nests values too deeply.", "BAD_REQUEST")

    def parse_body(self, request):
        if self.get_content_type(request) == "multipart/form-data":
            if request.method != "POST":
                raise HttpError(HttpResponse(status=400), "File uploads need POST.")
            try:
                return operations_with_files(request.POST, request.FILES)
            except MultipartError as exc:
                raise HttpError(HttpResponse(status=400), str(exc)) from None
        return super().parse_body(request)

    @staticmethod
    def get_graphql_params(request, data):
        query, variables, operation_name, id_ = GraphQLView.get_graphql_params(request, data)
        if query is not None and not isinstance(query, str):
            raise HttpError(HttpResponse(status=400), "`query` must be a string.")
        if variables is not None and not isinstance(variables, dict):
            raise HttpError(HttpResponse(status=400), "`variables` must be a JSON object.")
        if operation_name is not None and not isinstance(operation_name, str):
            raise HttpError(HttpResponse(status=400), "`operationName` must be a string.")
        return query, variables, operation_name, id_

    def get_context(self, request):
        return GraphQLContext(request, request.graphql_session)

    def execute_graphql_request(self, request, data, query, variables, operation_name, show_graphiql=False):
        """graphene-django's flow (parse, validate, refuse mutations over GET, execute) with the parse and
        validation of each distinct query text done once per process (schema.limits.checked_document)."""
        if not query:
            if show_graphiql:
                return None
            raise HttpError(HttpResponseBadRequest("Must provide query string."))
        document, errors = checked_document(query)
        errors = errors or input_errors(document, variables)
        if errors:
            return ExecutionResult(data=None, errors=list(errors))
        operation = get_operation_ast(document, operation_name)
        if request.method == "GET" and operation is not None and operation.operation != OperationType.QUERY:
            if show_graphiql:
                return None
            raise HttpError(HttpResponseNotAllowed(["POST"], "Only queries may be sent with GET; use POST."))
        if operation is not None and operation.operation == OperationType.SUBSCRIPTION:
            return ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        "Subscriptions run over the WebSocket at /graphql (protocol graphql-transport-ws).",
                        extensions={"code": "BAD_REQUEST"},
                    )
                ],
            )
        try:
            return execute(
                self.schema.graphql_schema,
                document,
                root_value=self.get_root_value(request),
                context_value=self.get_context(request),
                variable_values=variables,
                operation_name=operation_name,
                middleware=self.get_middleware(request),
                # Resolvers here are synchronous (a WSGI view): skip graphql-core's awaitable test of every value.
                is_awaitable=_never_awaitable,
            )
        except Exception as exc:
            return ExecutionResult(errors=[exc])

    @staticmethod
    def format_error(error):
        if isinstance(error, HttpError):
            return {"message": str(error), "extensions": {"code": "BAD_REQUEST"}}
        if isinstance(error, GraphQLError):
            original = error.original_error
            if original is None or isinstance(original, (GraphQLError, DomainError)):
                formatted = error.formatted
                if not settings.GRAPHQL_INTROSPECTION:  # "Did you mean 'revealPermitNik'?" would name the schema
                    formatted = {**formatted, "message": SUGGESTION.sub("", formatted["message"])}
                return formatted
            logger.error("Unexpected error in a GraphQL request", exc_info=original)
            return {
                "message": "Internal server error.",
                "locations": error.formatted.get("locations"),
                "path": error.path,
                "extensions": {"code": "INTERNAL_SERVER_ERROR"},
            }
        logger.error("Unexpected error in a GraphQL request", exc_info=error)
        return {"message": "Internal server error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
