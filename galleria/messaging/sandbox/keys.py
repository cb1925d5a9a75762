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
    }


def write(path: Path) -> dict[str, Any]:
    data = generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2)
    return data


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return data


def template_ids(data: dict[str, Any], provider: str) -> dict[str, str]:
    """Galleria template name → the provider's template code/ID in this file."""
    return {spec["galleria"]: code for code, spec in data[provider]["templates"].items()}
