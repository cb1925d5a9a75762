"""Pure rules of the messaging channels (no database): retry timing and how SMTP failures classify."""

from __future__ import annotations

import random
import smtplib


def retry_delay_s(*, attempt: int, base_s: float, max_s: float, jitter: float = 0.2) -> float:
    """Exponential backoff after failed attempt number `attempt` (1-based): base × 2^(attempt-1), capped at max_s,
    spread by ±jitter so a burst of throttled messages does not come back at the same second."""
    delay = min(max_s, base_s * 2 ** max(0, attempt - 1))
    return max(0.0, delay * (1 + random.uniform(-jitter, jitter)))


def smtp_classify(exc: BaseException) -> tuple[str, bool]:
    """(code, retryable) of an SMTP failure: 4xx replies and lost connections are worth another attempt; 5xx
    replies (an unknown mailbox, a refused sender, a rejected message) and a failed login are final."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return f"smtp_{codes[0] if codes else 550}", all(400 <= c < 500 for c in codes) and bool(codes)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "smtp_auth", False
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"smtp_{exc.smtp_code}", 400 <= exc.smtp_code < 500
    if isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError)):
        return "smtp_network", True
    return "smtp_error", False
