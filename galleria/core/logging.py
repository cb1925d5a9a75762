"""Keep personal data and secrets out of the logs: a filter for every handler in `settings.LOGGING`.

It rewrites each record's message (merged with its args) and its formatted traceback:

- mainland mobile numbers, with or without +86 (`+8613812345678`, `13812345678`, `138 1234 5678`) → `138****5678`
  (`+86` kept when it was there), other E.164 numbers → `+44****0123` (two leading digits kept);
- one-time codes after "code"/"验证码" (`Your code is 123456` → `Your code is ******`), unless the filter is
  configured with `keep_sms_codes` (the demo, whose outbox backend prints codes instead of sending them);
- `password=…`, `secret: …`, `token=…`, `Authorization: Bearer …` and the like → `…=[redacted]`;
- `otpauth://` URIs, 32-character base32 TOTP secrets, 43-character POS key secrets, password hashes → `[redacted]`.

A filter attached to a handler sees the records of every logger that reaches the handler (propagated ones too);
one attached to a logger would not.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

_CN_MOBILE = re.compile(r"(?<![\w+])(\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
_E164 = re.compile(r"(?<![\w+])\+([1-9]\d)(\d{3,11})(\d{4})(?!\d)")
_SMS_CODE = re.compile(r"(?i)(验证码|校验码|动态码|code(?:\s+is)?)([\s:：是为]*)(\d{4,8})(?!\d)")
_KEY_VALUE = re.compile(
    r"(?i)\b(password|passwd|pwd|secret|api[_-]?key|access[_-]?token|token|authorization|x-signature|signature"
    r"|sessionid|csrftoken|csrfmiddlewaretoken|recovery[_-]?codes?|totp|otp)"
    r"(\"?'?\s*[:=]\s*\"?'?)(?:(?:bearer|basic|token)\s+)?([^\s\"'&,;}]+)"
)
_OTPAUTH = re.compile(r"otpauth://\S+")
_BASE32_SECRET = re.compile(r"(?<![A-Za-z0-9])[A-Z2-7]{32}(?![A-Za-z0-9])")
_URLSAFE_43 = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")
_PASSWORD_HASH = re.compile(r"\b(?:argon2(?:id|i|d)?|pbkdf2_sha256|bcrypt_sha256|scrypt|md5)\$\S+")


def _mask_cn(match: re.Match[str]) -> str:
    prefix = "+86" if (match.group(1) or "").startswith("+") else ""
    return f"{prefix}{match.group(2)}****{match.group(4)}"


def _mask_e164(match: re.Match[str]) -> str:
    return f"+{match.group(1)}****{match.group(3)}"


def redact(text: str, *, keep_sms_codes: bool = False) -> str:
    """`text` with phone numbers masked and known secrets replaced."""
    if not text:
        return text
    text = _OTPAUTH.sub("otpauth://" + REDACTED, text)
    text = _PASSWORD_HASH.sub(REDACTED, text)
    text = _KEY_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _BASE32_SECRET.sub(REDACTED, text)
    text = _URLSAFE_43.sub(lambda m: REDACTED if re.search(r"[A-Za-z]", m.group(0)) else m.group(0), text)
    if not keep_sms_codes:
        text = _SMS_CODE.sub(lambda m: f"{m.group(1)}{m.group(2)}{'*' * len(m.group(3))}", text)
    text = _CN_MOBILE.sub(_mask_cn, text)
    return _E164.sub(_mask_e164, text)


class RedactingFilter(logging.Filter):
    """Rewrites records in place (never drops one). Configure in LOGGING:

    "filters": {"redact": {"()": "galleria.core.logging.RedactingFilter"}},
    "handlers": {"console": {..., "filters": ["redact"]}},
    """

    def __init__(self, name: str = "", *, keep_sms_codes: bool = False) -> None:
        super().__init__(name)
        self.keep_sms_codes = keep_sms_codes
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what we have, still redacted
            message = f"{record.msg} {record.args!r}"
        record.msg = redact(message, keep_sms_codes=self.keep_sms_codes)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, keep_sms_codes=self.keep_sms_codes)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, keep_sms_codes=self.keep_sms_codes)
        return True
