"""The demo as a new user meets it: its coupons and promotion start and end at midnight mall time, and its terminal
shows the sign-in codes rather than a line per background task."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from django.conf import settings

from galleria.core import timeutil
from galleria.coupons.models import Promotion
from galleria.demo.coupons import mall_midnight, seed_coupon_templates

LATE = dt.datetime(2026, 6, 1, 17, 0, tzinfo=dt.UTC)  # 01:00 on 2 June in Shanghai: the UTC date is a day behind


def test_mall_midnight_is_the_start_of_the_mall_local_day(world):
    assert world.mall.timezone == "Asia/Shanghai"
    assert mall_midnight(world.group, LATE) == dt.datetime(2026, 6, 1, 16, 0, tzinfo=dt.UTC)  # 2 June 00:00
    assert mall_midnight(world.group, LATE, days=-45) == dt.datetime(2026, 4, 17, 16, 0, tzinfo=dt.UTC)
    assert mall_midnight(world.group, LATE, days=60) == dt.datetime(2026, 7, 31, 16, 0, tzinfo=dt.UTC)


def test_the_demo_coupons_and_promotion_start_and_end_at_midnight_mall_time(world):
    templates, promotion_from = seed_coupon_templates(world.group, LATE)
    fixed = [t for t in templates if t.validity_kind == "fixed"]
    assert fixed
    tz = world.mall.timezone
    for t in fixed:
        assert timeutil.local(t.valid_from, tz).time() == dt.time(0, 0), t.name
        assert timeutil.local(t.valid_until, tz).time() == dt.time(0, 0), t.name
        assert timeutil.local_date(t.valid_from, tz) == dt.date(2026, 4, 18)
    promotion = Promotion.objects.get(mall_group=world.group)
    assert promotion.starts_at == promotion_from
    assert timeutil.local(promotion.starts_at, tz) == dt.datetime(2026, 5, 26, tzinfo=timeutil.zone(tz))
    assert timeutil.local(promotion.ends_at, tz) == dt.datetime(2026, 6, 23, tzinfo=timeutil.zone(tz))


LOG_SCRIPT = """
import logging
import django

django.setup()
logging.getLogger("django_tasks").setLevel(logging.INFO)  # what db_worker does when it starts
logging.getLogger("django_tasks").info("Task id=1 path=galleria.x state=SUCCEEDED")
logging.getLogger("django_tasks").error("Task id=2 path=galleria.y state=FAILED")
logging.getLogger("apscheduler.executors.default").info("Running job pos-prune-nonces")
logging.getLogger("galleria.scheduler").info("job pos-prune-nonces: start")
logging.getLogger("galleria.sms").warning("SMS to %s: %s", "+8613812345678", "验证码 123456，5 分钟内有效。")
"""


def demo_log(**env: str) -> str:
    """What the demo's processes print for a few typical records, with the demo's settings (config.settings.dev)."""
    base = {k: v for k, v in os.environ.items() if k not in ("LOG_LEVEL", "GALLERIA_LOG_SMS_CODES")}
    result = subprocess.run(
        [sys.executable, "-c", LOG_SCRIPT],
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings.dev", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stderr + result.stdout


@pytest.mark.parametrize("level", ["", "INFO"])
def test_the_demo_terminal_shows_sign_in_codes_not_a_line_per_task(level):
    out = demo_log(**({"LOG_LEVEL": level} if level else {}))
    assert "\n>>> " in out and "SMS to +86138****5678: 验证码 123456" in out  # set apart; code kept, phone masked
    assert "13812345678" not in out
    assert "state=SUCCEEDED" not in out and "Running job" not in out and "job pos-prune-nonces" not in out
    assert "state=FAILED" in out  # a failed task always shows


def test_log_level_debug_brings_the_task_lines_back():
    out = demo_log(LOG_LEVEL="DEBUG")
    assert "state=SUCCEEDED" in out and "job pos-prune-nonces: start" in out and "SMS to" in out
