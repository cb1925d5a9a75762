"""Sign-in codes through a real SMS channel: the Aliyun / Tencent Cloud adapter against the SMS sandbox."""

from __future__ import annotations

import re

import pytest

from galleria.members import services
from galleria.messaging.models import SmsMessage, SmsStatus
from galleria.messaging.tests.conftest import sms_sandbox, use_sandbox  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("provider", "phone"), [("aliyun", "13711112201"), ("tencent", "13711112202")])
def test_the_code_reaches_the_phone_through_the_provider_and_signs_in(use_sandbox, world, provider, phone):  # noqa: F811
    sandbox = use_sandbox(provider)
    services.otp_request(mall_group_id=world.group.pk, phone=phone, ip=None)
    [received] = [m for m in sandbox.outbox() if m["phone"].endswith(phone)]
    assert received["text"].startswith("【Galleria】您的验证码为")
    code = re.search(r"\d{6}", received["text"]).group(0)
    row = SmsMessage.objects.get(phone="+86" + phone)
    assert row.status == SmsStatus.SENT and row.provider_ref == received["ref"]
    assert code not in row.body and row.params == {"code": "******", "minutes": "5"}  # not kept once sent
    assert services.otp_verify(mall_group_id=world.group.pk, phone=phone, code=code) == "+86" + phone
