"""File uploads by the GraphQL multipart request spec (what Apollo's and urql's upload links send).

A multipart request carries `operations` (the usual JSON body, with null where files go), `map` (which form field
fills which variable path, e.g. {"0": ["variables.input.photos.0"]}) and the files. The view puts each file in
place; `Upload` passes it on to the resolver as Django's UploadedFile.
"""

from __future__ import annotations

import json

import graphene
from django.core.files.uploadedfile import UploadedFile
from graphql import GraphQLError


class Upload(graphene.Scalar):
    """A file sent as a part of a multipart request (GraphQL multipart request spec)."""

    @staticmethod
    def serialize(value):
        raise GraphQLError("Upload is an input type only.")

    @staticmethod
    def parse_value(value):
        if not isinstance(value, UploadedFile):
            raise GraphQLError("Expected a file sent by the GraphQL multipart request spec.")
        return value

    @staticmethod
    def parse_literal(node, _variables=None):
        raise GraphQLError("Files can only be sent as variables of a multipart request.")


class MultipartError(ValueError):
    pass


def operations_with_files(post, files) -> dict:
    """The operation of a multipart request with its files put where `map` says, or MultipartError."""
    try:
        operations = json.loads(post["operations"])
        mapping = json.loads(post.get("map", "{}"))
    except (KeyError, ValueError) as exc:
        raise MultipartError("A multipart request needs `operations` and `map` fields holding JSON.") from exc
    if not isinstance(operations, dict):
        raise MultipartError("Batched operations are not supported: `operations` must be one JSON object.")
    if not isinstance(mapping, dict):
        raise MultipartError("`map` must be a JSON object.")
    for field, paths in mapping.items():
        if field not in files:
            raise MultipartError(f"The file for map entry {field!r} is missing.")
        if not isinstance(paths, list) or not paths:
            raise MultipartError(f"Map entry {field!r} must list the paths the file goes to.")
        for path in paths:
            _put(operations, str(path).split("."), files[field])
    return operations


def _put(target, path: list[str], value) -> None:
    *parents, last = path
    where = ".".join(path)
    try:
        for step in parents:
            target = target[int(step)] if isinstance(target, list) else target[step]
        key = int(last) if isinstance(target, list) else last
        current = target[key] if isinstance(target, list) else target.get(key)
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        raise MultipartError(f"{where} does not name a place in the operation.") from None
    if current is not None:
        raise MultipartError(f"{where} must be null where a file goes.")
    target[key] = value
