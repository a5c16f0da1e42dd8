"""WeChat's XML, read defensively and written so that it always stays well formed.

Pushes arrive from the internet before anything is known about the sender (the safe-mode envelope
is parsed before its signature can be checked), so the reader refuses every document type
declaration outright: no DTD means no entity can be declared, so neither an external entity (XXE)
nor an exponential expansion ("billion laughs") can ever start, whatever the parser version would
have done with it. It is the standard library's expat, driven directly, because the two readers
wechatpy offers (``parse_message`` and the crypto helpers, both on xmltodict) turn a field given
twice into a list, which its message classes then trip over; a push is a flat list of fields and
is read as one, and a field given twice is refused because we could not know which one WeChat meant.

Replies are written here, not with wechatpy's reply classes, because those put text into CDATA
unescaped: a citizen's or a staff member's ``]]>`` would end the section and break the document.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NoReturn
from xml.parsers import expat

MAX_DEPTH = 6  # <xml><ScanCodeInfo><ScanResult> is as deep as WeChat goes
MAX_FIELDS = 64
PASSIVE_TEXT_BYTES = 2048  # WeChat drops a passive text reply longer than this, silently

# What XML 1.0 cannot carry at all, not even in CDATA: a control character would make the whole
# reply unreadable for WeChat, so it is dropped from the text instead.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class MalformedXml(ValueError):
    """The body is not a WeChat push: not XML, a DTD, a field given twice, nesting too deep."""


def _refuse(reason: str) -> NoReturn:
    raise MalformedXml(reason)


def parse_fields(data: bytes) -> dict[str, str]:
    """The top-level fields of ``<xml>…</xml>`` with their text (nested elements are skipped).

    Raises ``MalformedXml`` for anything else, including any ``<!DOCTYPE``: it is refused the
    moment the parser meets it, before a single entity is declared or expanded.
    """
    parser = expat.ParserCreate(encoding="UTF-8")  # WeChat only sends UTF-8; a declared encoding is ignored
    fields: dict[str, str] = {}
    text: list[str] = []
    depth = 0

    def doctype(*_args: Any) -> NoReturn:
        _refuse("document type declarations are not accepted")

    def start(name: str, _attrs: Any) -> None:
        nonlocal depth
        depth += 1
        if depth == 1 and name != "xml":
            _refuse("the root element must be <xml>")
        if depth == 2:
            if name in fields:
                _refuse(f"field {name} is given twice")
            if len(fields) >= MAX_FIELDS:
                _refuse("too many fields")
            text.clear()
        if depth > MAX_DEPTH:
            _refuse("nested too deep")

    def end(name: str) -> None:
        nonlocal depth
        if depth == 2:
            fields[name] = "".join(text)
        depth -= 1

    def characters(data: str) -> None:
        if depth == 2:
            text.append(data)

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype  # unreachable without a DOCTYPE; kept as a second lock
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:  # includes "undefined entity" for a bare &xxe;
        raise MalformedXml(f"not well-formed XML ({expat.ErrorString(exc.code)})") from exc
    return fields


def clean_text(value: str) -> str:
    """The text without the characters XML 1.0 cannot carry."""
    return _NOT_XML.sub("", value)


def cdata(value: str) -> str:
    """``value`` as CDATA that stays one section whatever it contains: each ``]]>`` is split
    across two sections, which a reader joins back into the same text."""
    return "<![CDATA[" + clean_text(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def fit_bytes(value: str, limit: int, ellipsis: str = "…") -> str:
    """``value`` cut to at most ``limit`` UTF-8 bytes, on a character boundary, marked as cut."""
    encoded = value.encode("utf-8")
    if len(encoded) <= limit:
        return value
    room = limit - len(ellipsis.encode("utf-8"))
    return encoded[: max(0, room)].decode("utf-8", errors="ignore") + ellipsis


def render(fields: Mapping[str, str | int]) -> str:
    """One WeChat XML document: numbers as they are, text in CDATA."""
    parts = ["<xml>"]
    for name, value in fields.items():
        body = str(value) if isinstance(value, int) else cdata(value)
        parts.append(f"<{name}>{body}</{name}>")
    parts.append("</xml>")
    return "".join(parts)


def text_reply(to_user: str, from_user: str, content: str, create_time: int) -> str:
    """A passive text reply (被动回复), cut to what WeChat shows."""
    return render(
        {
            "ToUserName": to_user,
            "FromUserName": from_user,
            "CreateTime": create_time,
            "MsgType": "text",
            "Content": fit_bytes(clean_text(content), PASSIVE_TEXT_BYTES),
        }
    )
