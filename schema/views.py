"""The `/graphql` endpoint: graphene-django's view with bearer-token authentication, request limits and errors that
never leak internals."""

from __future__ import annotations

import json
import logging
import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed
from django.utils.translation import gettext as _
from graphene_django.views import GraphQLView, HttpError
from graphql import ExecutionResult, GraphQLError, OperationType, execute, get_operation_ast

from backend.accounts.tokens import TokenError, authenticate_access_token
from backend.errors import DomainError
from backend.integrations import services as integrations
from schema import persisted
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


def _json(text: str, message: str):
    """JSON from a request, or a 400 saying what is wrong with it (Python refuses integers of more than 4,300 digits:
    that is a number too long, not broken JSON)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise HttpError(HttpResponseBadRequest(), message) from None
    except ValueError:
        raise HttpError(HttpResponseBadRequest(), _("A number in the request has too many digits.")) from None


def _never_awaitable(value) -> bool:
    return False


GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def response_media(request) -> str:
    """The GraphQL-over-HTTP media type of the answer: `application/graphql-response+json` when the client accepts it
    at least as much as `application/json` (Apollo Client and urql ask for it first), else `application/json`, also
    without an Accept header (older clients)."""
    if not request.META.get("HTTP_ACCEPT"):
        return JSON
    graphql_response, json_ = request.accepted_type(GRAPHQL_RESPONSE), request.accepted_type(JSON)
    if graphql_response is None:
        return JSON
    if json_ is None or graphql_response.quality >= json_.quality:
        return GRAPHQL_RESPONSE
    return JSON


class SimpulGraphQLView(GraphQLView):
    """Status codes and media types follow the GraphQL-over-HTTP specification. With `application/graphql-response+json`
    a request that cannot run (a syntax or validation error, a limit, a bad token) is a 4xx whose body is a GraphQL
    response; with `application/json` every well-formed request gets 200 and its errors in the body (what older
    clients read). A request that is not well formed (no JSON, no query) is a 400 either way."""

    def dispatch(self, request, *args, **kwargs):
        request.graphql_media = response_media(request)
        response = self._dispatch(request, *args, **kwargs)
        if response.get("Content-Type", "").startswith(JSON):
            response["Content-Type"] = f"{request.graphql_media}; charset=utf-8"
        return response

    def _dispatch(self, request, *args, **kwargs):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error(400, _("Content-Length is not a number."), "BAD_REQUEST")
        limit = (
            settings.GRAPHQL_MAX_UPLOAD_BYTES
            if self.get_content_type(request) == "multipart/form-data"
            else settings.GRAPHQL_MAX_BODY_BYTES
        )
        message = _("The request body is larger than %(limit)d bytes.") % {"limit": limit}
        too_large = json_error(413, message, "PAYLOAD_TOO_LARGE")
        if length > limit:
            return too_large
        if not length and self.get_content_type(request) in ("application/json", "application/graphql"):
            # No Content-Length (chunked): measure what actually arrived.
            try:
                if len(request.body) > settings.GRAPHQL_MAX_BODY_BYTES:
                    return too_large
            except RequestDataTooBig:
                return too_large
        request.graphql_session = request.graphql_grant = None
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header:
            unauthenticated = 401 if request.graphql_media == GRAPHQL_RESPONSE else 200
            scheme, _space, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                message = _("Use 'Authorization: Bearer <access token>'.")
                return json_error(unauthenticated, message, "UNAUTHENTICATED", WWW_Authenticate="Bearer")
            token = token.strip()
            if token.startswith(integrations.KEY_PREFIX):  # an integration's API key
                request.graphql_grant = integrations.authenticate(token)
                if request.graphql_grant is None:
                    message = _("The API key is not valid, or it was revoked.")
                    return json_error(unauthenticated, message, "UNAUTHENTICATED", WWW_Authenticate="Bearer")
            else:
                try:
                    request.graphql_session = authenticate_access_token(token)
                except TokenError as exc:
                    expired = exc.reason == "expired"
                    return json_error(
                        unauthenticated,
                        _("The access token has expired; refresh it.")
                        if expired
                        else _("The access token is not valid."),
                        "TOKEN_EXPIRED" if expired else "UNAUTHENTICATED",
                        WWW_Authenticate='Bearer error="invalid_token"',
                    )
        # graphene-django's dispatch without its ensure_csrf_cookie decorator: this API reads no cookies, so a CSRF
        # token cookie (and the work of minting one) on every response would serve nothing.
        try:
            return GraphQLView.dispatch.__wrapped__(self, request, *args, **kwargs)
        except RecursionError:  # JSON nested thousands deep (the body, or `variables` of a GET)
            return json_error(400, _("The request nests values too deeply."), "BAD_REQUEST")

    def parse_body(self, request):
        if request.method == "GET":  # the query is in the URL; a GET has no body, whatever its Content-Type says
            return {}
        if self.get_content_type(request) == "multipart/form-data":
            if request.method != "POST":
                raise HttpError(HttpResponse(status=400), _("File uploads need POST."))
            try:
                return operations_with_files(request.POST, request.FILES)
            except MultipartError as exc:
                raise HttpError(HttpResponse(status=400), str(exc)) from None
        content_type = self.get_content_type(request)
        if content_type not in ("application/json", "application/graphql"):
            return super().parse_body(request)  # a form post
        try:
            body = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise HttpError(HttpResponseBadRequest(), _("The request body is not UTF-8 text.")) from None
        if content_type == "application/graphql":
            return {"query": body}
        data = _json(body, _("The request body is not valid JSON."))
        if not isinstance(data, dict):
            raise HttpError(HttpResponseBadRequest(), _("The request body must be a JSON object with a `query`."))
        return data

    @staticmethod
    def get_graphql_params(request, data):
        variables = request.GET.get("variables") or data.get("variables")
        if isinstance(variables, str):  # a GET's, or a form's: JSON in a string
            _json(variables, _("`variables` is not valid JSON."))
        query, variables, operation_name, id_ = GraphQLView.get_graphql_params(request, data)
        if query is not None and not isinstance(query, str):
            raise HttpError(HttpResponse(status=400), _("`query` must be a string."))
        if variables is not None and not isinstance(variables, dict):
            raise HttpError(HttpResponse(status=400), _("`variables` must be a JSON object."))
        if operation_name is not None and not isinstance(operation_name, str):
            raise HttpError(HttpResponse(status=400), _("`operationName` must be a string."))
        return query, variables, operation_name, id_

    def get_context(self, request):
        return GraphQLContext(request, request.graphql_session, request.graphql_grant)

    def get_response(self, request, data, show_graphiql=False):
        result, status = super().get_response(request, data, show_graphiql)
        if status == 400 and request.graphql_media == JSON:
            status = 200  # a well-formed request that could not run: `application/json` answers 200, errors in the body
        return result, status

    def execute_graphql_request(self, request, data, query, variables, operation_name, show_graphiql=False):
        """graphene-django's flow (parse, validate, refuse mutations over GET, execute) with the parse and
        validation of each distinct query text done once per process (schema.limits.checked_document)."""
        try:
            query, keep_as = persisted.resolve(query, persisted.extensions_of(request, data))
        except GraphQLError as error:
            return ExecutionResult(data=None, errors=[error])
        if not query:
            if show_graphiql:
                return None
            raise HttpError(HttpResponseBadRequest(), _("Must provide query string."))
        document, errors = checked_document(query)
        if keep_as is not None and not errors:  # kept under its hash once it has proved a valid document
            persisted.keep(keep_as, query)
        errors = errors or input_errors(document, variables)
        if errors:
            return ExecutionResult(data=None, errors=list(errors))
        operation = get_operation_ast(document, operation_name)
        if request.method == "GET" and operation is not None and operation.operation != OperationType.QUERY:
            if show_graphiql:
                return None
            raise HttpError(HttpResponseNotAllowed(["POST"]), _("Only queries may be sent with GET; use POST."))
        if operation is not None and operation.operation == OperationType.SUBSCRIPTION:
            return ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        _("Subscriptions run over the WebSocket at /graphql (protocol graphql-transport-ws)."),
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
                if "code" not in formatted.get("extensions", {}) and error.message.startswith("Variable '$"):
                    # graphql-core coercing a variable's value (a string for an Int, an unknown enum value)
                    formatted = {
                        **formatted,
                        "extensions": {**formatted.get("extensions", {}), "code": "BAD_USER_INPUT"},
                    }
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
