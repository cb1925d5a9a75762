"""Events' registration questions and money-priced events in the web layer: the console adds a question (errors
inline), the member answers it when registering (errors inline, nothing registered), the console's registrations
list and CSV export show the answers; a money-priced event's form offers the configured gateways."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from galleria.events.models import Question, Registration
from galleria.events.tests.helpers import event, member

from .test_app_loyalty import sign_in_as
from .test_console_views import login

pytestmark = pytest.mark.django_db

KEY = "q" * 20


def test_console_adds_questions_members_answer_and_the_list_and_export_show_them(client, world):
    ev = event(world)
    login(client, world, "marketing")
    add = reverse("console:event_questions", args=[ev.pk])
    bad = client.post(add, {"label": "场次", "kind": "single", "choices": "上午"})
    assert bad.status_code == 422 and b"errorlist" in bad.content and not Question.objects.exists()
    assert client.post(add, {"label": "孩子年龄", "kind": "text", "required": "on"}).status_code == 302
    assert client.post(add, {"label": "过敏", "kind": "multiple", "choices": "坚果\n鸡蛋\n乳制品"}).status_code == 302
    age, allergy = Question.objects.order_by("position")

    m = member(world)
    sign_in_as(client, m)
    url = reverse("app:event", args=[ev.pk])
    page = client.get(url)
    assert page.content.decode().count('data-testid="ev-question"') == 2
    missing = client.post(url, {"key": KEY, "seats": 1, f"q{allergy.pk}": ["鸡蛋"]})
    assert missing.status_code == 422 and b"ev-answer-error" in missing.content
    assert not Registration.objects.exists()
    assert 'value="鸡蛋" checked' in missing.content.decode()  # what was ticked stays ticked
    done = client.post(url, {"key": KEY, "seats": 1, f"q{age.pk}": "7 岁", f"q{allergy.pk}": ["鸡蛋", "坚果"]})
    assert done.status_code == 302
    assert Registration.objects.get(member=m).answers[1]["value"] == ["坚果", "鸡蛋"]

    login(client, world, "marketing")
    detail = client.get(reverse("console:event", args=[ev.pk])).content.decode()
    assert 'data-testid="ev-reg-answers"' in detail and "7 岁" in detail and "坚果; 鸡蛋" in detail
    export = client.get(reverse("console:event", args=[ev.pk]), {"export": "csv"})
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][-2:] == ["孩子年龄", "过敏"] and rows[1][-2:] == ["7 岁", "坚果; 鸡蛋"]

    delete = reverse("console:event_question_delete", args=[ev.pk, age.pk])
    assert client.post(delete).status_code == 302 and Question.objects.count() == 1


def test_a_service_desk_cannot_add_questions(client, world):
    ev = event(world)
    login(client, world, "service")
    assert client.post(reverse("console:event_questions", args=[ev.pk]), {"label": "x"}).status_code == 403


def test_the_attendance_page_shows_an_ended_events_conversion(client, world):
    import datetime as dt

    from galleria.core import timeutil
    from galleria.events import services
    from galleria.events.tests.helpers import ACTOR, register

    start = timeutil.now() - dt.timedelta(days=1)
    ev = event(world, starts_at=start, ends_at=start + dt.timedelta(hours=2))
    reg = register(world, member(world), ev, at=start - dt.timedelta(days=1))
    services.check_in(mall_group_id=world.group.pk, code=reg.code, actor=ACTOR, at=start)
    member(world)  # a similar member who did not register
    login(client, world, "finance")
    url = reverse("console:events_attendance")
    assert b'data-testid="ev-conv-open"' in client.get(url).content
    page = client.get(url, {"event": ev.pk}).content.decode()
    assert 'data-testid="ev-conversion"' in page
    assert 'data-testid="ev-conv-attendees">1<' in page and 'data-testid="ev-conv-peers">1<' in page
    assert 'data-testid="ev-conversion"' not in client.get(url, {"event": "abc"}).content.decode()


def test_the_editor_takes_a_price_in_yuan_and_needs_a_store(client, world):
    import datetime as dt

    from galleria.core import timeutil
    from galleria.events.models import Event

    login(client, world, "marketing")
    start = (timeutil.now() + dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    end = (timeutil.now() + dt.timedelta(days=5, hours=2)).strftime("%Y-%m-%dT%H:%M")
    data = {
        "title": "手作皮具工作坊",
        "mall": world.mall.pk,
        "place": "L3",
        "starts_at": start,
        "ends_at": end,
        "capacity": 10,
        "per_member_limit": 1,
        "tier_mode": "open",
        "price_points": 0,
        "price_fen": "39.50",
        "cancel_hours_before": 24,
        "status": "published",
    }
    no_store = client.post(reverse("console:event_new"), data)
    assert no_store.status_code == 422 and not Event.objects.exists()
    bad = client.post(reverse("console:event_new"), data | {"price_fen": "39.505", "store": world.store.pk})
    assert bad.status_code == 422 and not Event.objects.exists()
    assert client.post(reverse("console:event_new"), data | {"store": world.store.pk}).status_code == 302
    ev = Event.objects.get()
    assert ev.price_fen == 3950
    listing = client.get(reverse("console:events")).content.decode()
    assert 'data-testid="ev-price-fen"' in listing and "¥39.50" in listing
