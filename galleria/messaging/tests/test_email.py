"""The e-mail channel through Django's SMTP backend against a real local SMTP server (aiosmtpd): what arrives,
retries on 4xx and lost connections, final failures on 5xx."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from galleria.messaging.models import EmailMessage, EmailStatus
from galleria.messaging.services import email_deliver, email_queue, email_retry_due

pytestmark = pytest.mark.django_db


@dataclass
class Inbox:
    """An aiosmtpd handler: keeps what arrived; `refuse` holds SMTP replies to give to the next DATA commands."""

    received: list[Any] = field(default_factory=list)
    refuse: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's hook name
        if self.refuse:
            return self.refuse.pop(0)
        self.received.append(
            (
                envelope.mail_from,
                list(envelope.rcpt_tos),
                email.message_from_bytes(envelope.content, policy=email.policy.default),
            )
        )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(settings: Any) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "星河广场 <no-reply@galleria.test>"
    settings.GALLERIA_MESSAGING_RETRY = {
        "MAX_ATTEMPTS": 3,
        "BASE_SECONDS": 30.0,
        "MAX_SECONDS": 600.0,
        "IN_DOUBT_MIN_SECONDS": 60.0,
    }
    try:
        yield inbox
    finally:
        controller.stop()


def make_due(message: EmailMessage) -> None:
    EmailMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))


def test_an_email_arrives_over_smtp(smtp):
    message = email_queue(
        to="wang.fang@example.com",
        subject="您的电子发票",
        body="王芳，您好：\n发票已开具。",
        html_body="<p>王芳，您好：发票已开具。</p>",
        template="invoice",
    )
    message.refresh_from_db()
    assert message.status == EmailStatus.SENT and message.attempts == 1 and message.sent_at is not None
    [(sender, rcpts, mail)] = smtp.received
    assert sender == "no-reply@galleria.test" and rcpts == ["wang.fang@example.com"]
    assert mail["Subject"] == "您的电子发票" and mail["Message-ID"] == message.message_id
    assert mail.get_body(("plain",)).get_content().splitlines() == ["王芳，您好：", "发票已开具。"]  # CRLF on the wire
    assert "发票已开具" in mail.get_body(("html",)).get_content()


def test_a_temporary_refusal_is_retried_with_the_same_message_id(smtp):
    smtp.refuse = ["451 4.3.0 try again later"]
    message = email_queue(to="li@example.com", subject="Hello", body="Hi")
    message.refresh_from_db()
    assert message.status == EmailStatus.QUEUED and message.error_code == "smtp_451" and not smtp.received
    assert 20 < (message.next_attempt_at - timezone.now()).total_seconds() <= 36
    assert email_deliver(message_id=message.pk) is None  # not due
    make_due(message)
    assert email_retry_due() == 1
    message.refresh_from_db()
    assert message.status == EmailStatus.SENT and message.attempts == 2
    assert [e["outcome"] for e in message.attempt_log] == ["retry", "sent"]
    [(_, _, mail)] = smtp.received
    assert mail["Message-ID"] == message.message_id


def test_a_permanent_refusal_is_final(smtp):
    smtp.refuse = ["550 5.1.1 no such user"]
    message = email_queue(to="nobody@example.com", subject="Hello", body="Hi")
    message.refresh_from_db()
    assert message.status == EmailStatus.FAILED and message.error_code == "smtp_550" and message.attempts == 1


def test_a_server_that_is_down_is_retried_until_attempts_run_out(smtp, settings):
    settings.EMAIL_PORT = free_port()  # nothing listens there
    message = email_queue(to="li@example.com", subject="Hello", body="Hi")
    for _ in range(2):
        message.refresh_from_db()
        assert message.status == EmailStatus.QUEUED and message.error_code == "smtp_network"
        make_due(message)
        email_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == EmailStatus.FAILED and message.attempts == 3 and not smtp.received


def test_erasure_drops_the_address_and_texts_and_a_queued_mail_is_never_sent(smtp):
    from galleria.messaging.services import email_redact_address

    smtp.refuse = ["451 later"]
    queued = email_queue(to="Wang.Fang@example.com", subject="发票", body="王芳")
    assert email_redact_address(address="wang.fang@example.com", replacement="erased-1@invalid") == 1
    queued.refresh_from_db()
    assert (queued.to, queued.subject, queued.body, queued.status) == ("erased-1@invalid", "", "", EmailStatus.FAILED)
    make_due(queued)
    assert email_deliver(message_id=queued.pk) is None and not smtp.received
