"""GeoReport v2's two formats: XML (required by the spec) and JSON, with the spec's element names.

A document is a root name, an item name and items (dicts, in field order). Values: None is left
out, booleans are ``true``/``false``, datetimes are W3C (ISO 8601 with the offset), lists of
dicts nest (``<values><value>…``), lists of strings repeat an element (``<format>``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

XML = "xml"
JSON = "json"
CONTENT_TYPES = {XML: "text/xml", JSON: "application/json"}
# What a list of each kind nests as, in XML.
_CHILD = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}


def scalar(value: Any, tz: ZoneInfo) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(tz).isoformat(timespec="seconds")
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _element(parent: ET.Element, name: str, value: Any, tz: ZoneInfo) -> None:
    if value is None:
        return
    node = ET.SubElement(parent, name)
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _element(node, key, inner, tz)
    elif isinstance(value, list | tuple):
        child = _CHILD.get(name, name.rstrip("s"))
        for inner in value:
            _element(node, child, inner, tz)
    else:
        node.text = _text(scalar(value, tz))


def _json_ready(value: Any, tz: ZoneInfo) -> Any:
    if isinstance(value, Mapping):
        return {k: _json_ready(v, tz) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_json_ready(v, tz) for v in value]
    return scalar(value, tz)


def render_list(fmt: str, root: str, item: str, items: Sequence[Mapping[str, Any]], tz: ZoneInfo) -> bytes:
    """``<root><item>…</item>…</root>`` or a JSON array."""
    if fmt == JSON:
        return json.dumps(_json_ready(list(items), tz), ensure_ascii=False).encode()
    top = ET.Element(root)
    for entry in items:
        _element(top, item, entry, tz)
    return _xml(top)


def render_object(fmt: str, root: str, body: Mapping[str, Any], tz: ZoneInfo) -> bytes:
    """``<root>…</root>`` or a JSON object (discovery, a service definition)."""
    if fmt == JSON:
        return json.dumps(_json_ready(body, tz), ensure_ascii=False).encode()
    top = ET.Element(root)
    for key, value in body.items():
        _element(top, key, value, tz)
    return _xml(top)


def _xml(top: ET.Element) -> bytes:
    return bytes(ET.tostring(top, encoding="utf-8", xml_declaration=True))


def render_errors(fmt: str, code: int, description: str) -> bytes:
    """The spec's error document: ``<errors><error><code>…</code><description>…``."""
    return render_list(fmt, "errors", "error", [{"code": code, "description": description}], ZoneInfo("UTC"))
