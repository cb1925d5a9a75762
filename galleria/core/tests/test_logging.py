"""Personal data and secrets stay out of the logs: the redacting filter, and that LOGGING installs it."""

from __future__ import annotations

import io
import logging

import pytest
from django.conf import settings

from galleria.core.logging import REDACTED, RedactingFilter, redact


class TestRedact:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("member +8613812345678 joined", "member +86138****5678 joined"),
            ("member 13812345678 joined", "member 138****5678 joined"),
            ("call 138 1234 5678 now", "call 138****5678 now"),
            ("tel:+86-13812345678", "tel:+86138****5678"),
            ("phone=13812345678&x=1", "phone=138****5678&x=1"),
            ("uk +447911123456", "uk +44****3456"),
        ],
    )
    def test_phone_numbers_are_masked(self, text, expected):
        assert redact(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "sale 12 of 2 items for 19900 fen",
            "card 812345678903",  # 12-digit member card: not a phone
            "dynamic code 661234567890123456",  # 18 digits: not a phone
            "order 2026030112345678901",
        ],
    )
    def test_other_numbers_are_left_alone(self, text):
        assert redact(text) == text

    def test_sms_codes_are_masked_in_both_languages(self):
        en = "[Galleria] Your code is 482913, valid for 5 minutes. Do not share it."
        zh = "【Galleria】验证码 482913，5 分钟内有效。请勿告诉他人。"
        assert "482913" not in redact(en) and "Your code is ******" in redact(en)
        assert "482913" not in redact(zh) and "验证码 ******" in redact(zh)
        assert "482913" in redact(en, keep_sms_codes=True)

    @pytest.mark.parametrize(
        "text",
        [
            "login password=hunter2-is-long",
            "{'password': 'hunter2-is-long'}",
            "Authorization: Bearer hunter2-is-long",
            "X-Signature: hunter2-is-long",
            "secret=hunter2-is-long",
            "token: hunter2-is-long",
            "otpauth://totp/Galleria:admin?secret=hunter2-is-long&issuer=Galleria",
            "hash argon2$argon2id$v=19$m=102400,t=2,p=8$hunter2-is-long",
        ],
    )
    def test_known_secret_patterns_are_replaced(self, text):
        out = redact(text)
        assert "hunter2-is-long" not in out and REDACTED in out

    def test_totp_secret_and_pos_key_secret_shapes(self):
        totp = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
        pos = "q1B6Fh0mP2yJc9Kd8sLw3ZxN4vRt7Ua5Ge_Hi-oQbYk"
        assert len(pos) == 43
        assert redact(f"seed {totp} and {pos}") == f"seed {REDACTED} and {REDACTED}"


def _record(msg, *args, exc_info=None):
    return logging.getLogger("galleria.test").makeRecord(
        "galleria.test", logging.WARNING, __file__, 1, msg, args, exc_info
    )


class TestFilter:
    def test_message_and_args_are_redacted_and_merged(self):
        record = _record("SMS to %s: %s", "+8613812345678", "Your code is 123456")
        assert RedactingFilter().filter(record) is True
        assert record.getMessage() == "SMS to +86138****5678: Your code is ******"
        assert record.args is None

    def test_traceback_text_is_redacted(self):
        try:
            raise ValueError("Key (value)=(+8613812345678) already exists")
        except ValueError:
            import sys

            record = _record("boom", exc_info=sys.exc_info())
        RedactingFilter().filter(record)
        text = logging.Formatter().format(record)
        assert "13812345678" not in text and "+86138****5678" in text

    def test_installed_on_every_handler_in_settings(self):
        assert settings.LOGGING["filters"]["redact"]["()"] == "galleria.core.logging.RedactingFilter"
        for name, handler in settings.LOGGING["handlers"].items():
            assert "redact" in handler.get("filters", []), name

    def test_the_configured_console_handler_masks_an_sms_log_line(self):
        handler = next(
            h for h in logging.getLogger().handlers if any(isinstance(f, RedactingFilter) for f in h.filters)
        )
        stream = io.StringIO()
        old = handler.setStream(stream)
        try:
            logging.getLogger("galleria.sms").warning("SMS to %s: %s", "+8613812345678", "Your code is 654321")
        finally:
            handler.setStream(old)
        out = stream.getvalue()
        assert "+86138****5678" in out and "654321" not in out and "13812345678" not in out
