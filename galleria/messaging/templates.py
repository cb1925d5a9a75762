"""Galleria's SMS templates: what each message type passes to the provider's approved template.

Providers send only approved templates (Aliyun `SMS_…` codes with named `${param}`s, Tencent numeric IDs with
ordered `{1}`, `{2}` …) under an approved sign name (签名). Galleria names its templates (`otp`, …) and fixes their
parameters' names and order here; each installation maps a name to its provider's template code/ID and sign name in
settings (`GALLERIA_SMS_TEMPLATES`, docs/messaging.md). Aliyun receives the parameters by name, Tencent in this
order. A new message type (e.g. a marketing layer's) registers its template with `sms_template_register` at
import time and gets an entry in the installation's settings.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SmsTemplate:
    name: str
    params: tuple[str, ...]  # names, in the order Tencent's {1}, {2} … take them
    secret_params: tuple[str, ...] = ()  # masked in the outbox once a real gateway has the message
    expires_after_s: int | None = None  # not worth delivering after this age (a one-time code's lifetime)


SMS_TEMPLATES: dict[str, SmsTemplate] = {}


def sms_template_register(template: SmsTemplate) -> SmsTemplate:
    existing = SMS_TEMPLATES.get(template.name)
    if existing is not None and existing != template:
        raise ValueError(f"SMS template {template.name!r} is already registered with other parameters")
    SMS_TEMPLATES[template.name] = template
    return template


OTP = sms_template_register(SmsTemplate("otp", ("code", "minutes"), secret_params=("code",), expires_after_s=300))
# A generic notice for the marketing layer to start from: a title and one line of detail.
MARKETING_NOTICE = sms_template_register(SmsTemplate("marketing_notice", ("title", "detail")))
