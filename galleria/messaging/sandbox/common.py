"""Pieces both providers' handlers share: requests and responses, phone checks, template rendering."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

MAINLAND_RE = re.compile(r"^(?:86)?(1[3-9]\d{9})$")
INTERNATIONAL_RE = re.compile(r"^[2-9]\d{7,14}$")


@dataclass(frozen=True)
class Request:
    method: str
    raw_path: str
    path: str
    raw_query: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (an injected timeout)

    @classmethod
    def json(cls, status: int, obj: Any, content_type: str = "application/json") -> Response:
        return cls(status, json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode(), content_type)


def request_id() -> str:
    return str(uuid.uuid4()).upper()


def phone_valid(phone: str) -> bool:
    digits = phone.strip()
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("00"):
        digits = digits[2:]
    return bool(MAINLAND_RE.match(digits) or (not digits.startswith("86") and INTERNATIONAL_RE.match(digits)))


def render_named(content: str, params: dict[str, Any]) -> tuple[str, list[str]]:
    """Aliyun: ${name} placeholders. Returns the text and the names that have no value."""
    names = re.findall(r"\$\{(\w+)\}", content)
    missing = [n for n in names if n not in params or params[n] in (None, "")]
    text = re.sub(r"\$\{(\w+)\}", lambda m: str(params.get(m.group(1), "")), content)
    return text, missing


def render_numbered(content: str, params: list[str]) -> tuple[str, bool]:
    """Tencent: {1}, {2} … placeholders. Returns the text and whether the parameter count matches."""
    count = len(set(re.findall(r"\{(\d+)\}", content)))

    def value(match: re.Match[str]) -> str:
        i = int(match.group(1)) - 1
        return str(params[i]) if 0 <= i < len(params) else ""

    return re.sub(r"\{(\d+)\}", value, content), count == len(params)
