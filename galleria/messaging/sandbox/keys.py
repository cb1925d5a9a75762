"""The sandbox's credentials and its catalogue of approved sign names and templates, generated locally.

`keys.json` holds what both sides need: the access keys (the sandbox checks signatures with the same secrets the
adapters sign with — for HMAC schemes the provider knows the secret too), the approved sign names and the
approved templates per provider, each with the Galleria template it stands for (`galleria`) so the demo can
configure Galleria from the same file. Real credentials never look like this file.
"""

from __future__ import annotations

import json
import os
import secrets
import string
from pathlib import Path
from typing import Any

_ALNUM = string.ascii_letters + string.digits

SIGN_NAMES = ["Galleria", "星河广场"]
# Galleria template → approved text. Aliyun names its parameters (${code}); Tencent numbers them ({1}, {2}) in the
# order of Galleria's template parameters (galleria/messaging/templates.py).
TEMPLATES = {
    "otp": {
        "aliyun": "您的验证码为${code}，${minutes}分钟内有效，请勿泄露于他人。",
        "tencent": "您的验证码为{1}，{2}分钟内有效，请勿泄露于他人。",
    },
    "marketing_notice": {
        "aliyun": "${title}：${detail}，拒收请回复R",
        "tencent": "{1}：{2}，拒收请回复R",
    },
}


def _rand(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


# WeChat: Galleria template → per channel the keyword fields of the approved template (keyword → Galleria parameter).
WECHAT_TEMPLATES = {
    "marketing_notice": {
        "subscribe": {"thing1": "title", "thing2": "detail"},
        "template": {"thing1": "title", "thing2": "detail"},
    },
    "otp": {"subscribe": {"number1": "code", "number2": "minutes"}},
}


def _openid() -> str:
    return "o" + _rand(27, _ALNUM + "-_")


def generate_wechat() -> dict[str, Any]:
    """The WeChat side: a mini-program and an official account (appid/secret and the server-URL token), a WeCom corp
    (corpid/secret and its staff), the approved templates, and a few users (openids) that exist."""
    subscribe: dict[str, dict[str, Any]] = {}
    template: dict[str, dict[str, Any]] = {}
    for name, channels in WECHAT_TEMPLATES.items():
        if "subscribe" in channels:
            subscribe[_rand(43, _ALNUM + "-_")] = {"galleria": name, "fields": channels["subscribe"]}
        if "template" in channels:
            template[_rand(43, _ALNUM + "-_")] = {"galleria": name, "fields": channels["template"]}
    return {
        "mini": {
            "appid": "wx" + _rand(16, "0123456789abcdef"),
            "secret": _rand(32, "0123456789abcdef"),
            "token": _rand(32),
            "templates": subscribe,
        },
        "mp": {
            "appid": "wx" + _rand(16, "0123456789abcdef"),
            "secret": _rand(32, "0123456789abcdef"),
            "token": _rand(32),
            "templates": template,
        },
        "wecom": {
            "corpid": "ww" + _rand(16, "0123456789abcdef"),
            "secret": _rand(43, _ALNUM + "-_"),
            "staff": ["zhangsan", "lisi"],
        },
        "users": [_openid() for _ in range(5)],
    }


def generate() -> dict[str, Any]:
    aliyun_templates: dict[str, dict[str, str]] = {}
    tencent_templates: dict[str, dict[str, str]] = {}
    for n, (name, texts) in enumerate(TEMPLATES.items(), start=1):
        aliyun_templates[f"SMS_{4650000 + n}"] = {"galleria": name, "content": texts["aliyun"]}
        tencent_templates[f"{1900000 + n}"] = {"galleria": name, "content": texts["tencent"]}
    return {
        "version": 1,
        "aliyun": {
            "access_key_id": "LTAI" + _rand(20),
            "access_key_secret": _rand(30),
            "sign_names": SIGN_NAMES,
            "templates": aliyun_templates,
        },
        "tencent": {
            "secret_id": "AKID" + _rand(32),
            "secret_key": _rand(32),
            "sdk_app_id": "14" + _rand(8, string.digits),
            "region": "ap-guangzhou",
            "sign_names": SIGN_NAMES,
            "templates": tencent_templates,
        },
        "wechat": generate_wechat(),
    }


def write(path: Path) -> dict[str, Any]:
    data = generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2)
    return data


def load(path: Path) -> dict[str, Any]:
    """The file's data; a file written before the WeChat side existed gets one (written back, so the demo and the
    sandbox read the same credentials)."""
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    if "wechat" not in data:
        data["wechat"] = generate_wechat()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=2)
    return data


def template_ids(data: dict[str, Any], provider: str) -> dict[str, str]:
    """Galleria template name → the provider's template code/ID in this file."""
    return {spec["galleria"]: code for code, spec in data[provider]["templates"].items()}


def wechat_template_map(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Galleria's GALLERIA_WECHAT_TEMPLATES for this file: Galleria template → {channel: {"id", "fields"}}."""
    out: dict[str, dict[str, Any]] = {}
    for channel, app in (("subscribe", "mini"), ("template", "mp")):
        for template_id, spec in data["wechat"][app]["templates"].items():
            out.setdefault(spec["galleria"], {})[channel] = {"id": template_id, "fields": spec["fields"]}
    return out
