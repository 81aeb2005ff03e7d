"""GeoReport v2's two formats: JSON (a list at the top) and XML (a named root of named items), and its errors."""

from __future__ import annotations

import json
from datetime import datetime
from xml.etree import ElementTree as ET

from django.http import HttpResponse

CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _element(name: str, value) -> ET.Element:
    element = ET.Element(name)
    if isinstance(value, dict):
        for key, item in value.items():
            element.append(_element(key, item))
    elif isinstance(value, list):
        singular = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}
        for item in value:
            element.append(_element(singular.get(name, "item"), item))
    else:
        element.text = _text(value)
    return element


def render(fmt: str, root: str, item: str, data, *, status: int = 200, **headers) -> HttpResponse:
    """`data` (a list of items, or one object when `item` is empty) in the format asked for."""
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False, default=_text)
    elif item:
        tree = ET.Element(root)
        for entry in data:
            tree.append(_element(item, entry))
        body = '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(tree, encoding="unicode")
    else:
        body = '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(_element(root, data), encoding="unicode")
    response = HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def error(fmt: str, status: int, *descriptions: str, **headers) -> HttpResponse:
    """The spec's error list: `[{code, description}]`, `<errors><error>…</error></errors>`."""
    return render(
        fmt,
        "errors",
        "error",
        [{"code": status, "description": text} for text in descriptions],
        status=status,
        **headers,
    )
