"""What a new console user meets (issue #12): numbers with thousands separators (never in inputs), the audit log as
compact labelled rows with folded diffs and filters, and stored codes shown as words (access-log pages and fields,
privacy request statuses, item categories, import sources, tier codes)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django import forms
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from galleria.audit.models import AuditEvent
from galleria.audit.services import audit_record, pii_access_record
from galleria.audit.types import Actor
from galleria.interfaces.console.helpers import ACTION_LABELS
from galleria.members.models import JoinChannel
from galleria.members.services import member_register
from galleria.testing import PASSWORD

pytestmark = pytest.mark.django_db

ACTOR = Actor(user_id=None, label="ux-test")
AUDIT = "/console/audit/"


def login(client, world, role: str, lang: str = "en"):
    user = world.users[role]
    assert client.login(username=user.username, password=PASSWORD)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    return user


def event(world, action: str, *, at: dt.datetime | None = None, actor: str = "ux-test", **kwargs) -> AuditEvent:
    kwargs.setdefault("target_type", "member")
    kwargs.setdefault("target_id", 1)
    e = audit_record(actor=Actor(user_id=None, label=actor), action=action, mall_group_id=world.group.pk, **kwargs)
    if at is not None:
        AuditEvent.objects.filter(pk=e.pk).update(at=at)
    return e


# ---------------------------------------------------------------- numbers


class _Numbers(forms.Form):
    points = forms.IntegerField()
    amount = forms.DecimalField()


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_numbers_are_grouped_by_thousands_but_never_inside_inputs(lang):
    with translation.override(lang):
        assert intcomma(3484124) == "3,484,124"
        assert Template("{% load humanize %}{{ n|intcomma }} {{ n }}").render(Context({"n": 3484124})) == (
            "3,484,124 3484124"
        )
        html = str(_Numbers(initial={"points": 3484124, "amount": "12345.67"}))
    assert 'value="3484124"' in html and 'value="12345.67"' in html and "3,484" not in html


# ---------------------------------------------------------------- audit log


def test_audit_rows_are_one_line_each_with_labels_and_the_field_diff_folded(client, world):
    event(world, "auth.login", target_type="user", target_id=7, target_label="admin", changes={"method": "password"})
    event(
        world,
        "merchant.update",
        target_type="merchant",
        target_id=world.merchant.pk,
        target_label=world.merchant.name,
        changes={"name": ["A", "B"], "category": ["dining", "fashion"], "status": ["active", "suspended"]},
    )
    event(world, "member.export", target_id="export", target_label="3 members", changes={"count": 3, "phones": "full"})
    login(client, world, "group_admin")
    html = client.get(AUDIT).content.decode()
    # a short single change stays on the row; several changes fold into <details> under a one-line summary
    assert "Sign-in method: Password" in html and ">method<" not in html and "password<" not in html
    folded = re.findall(r'<details data-testid="audit-changes"><summary>(.*?)</summary>(.*?)</details>', html, re.S)
    assert len(folded) == 1 and folded[0][0].startswith("3 changes: ")  # jsonb keeps its own key order
    assert set(folded[0][0].removeprefix("3 changes: ").split(", ")) == {"Name", "Category", "Status"}
    assert "Dining → Fashion" in folded[0][1] and "Active → Suspended" in folded[0][1]
    # actions are labelled (the code only in a tooltip), objects named
    assert ">Signed in<" in html and ">Edited the merchant<" in html and "<code" not in html
    assert "Rows: 3 · Phones: Full numbers" in html
    login(client, world, "group_admin", "zh-hans")
    zh = client.get(AUDIT).content.decode()
    assert "3 位会员" in zh and "3 members" not in zh  # the stored English label is not what a reader sees


def test_audit_log_filters_by_mall_local_dates_actor_action_and_object(client, world):
    # 23:30 and 00:30 in Shanghai on either side of midnight of 2026-03-02 (UTC+8)
    before_midnight = dt.datetime(2026, 3, 1, 15, 30, tzinfo=dt.UTC)
    after_midnight = dt.datetime(2026, 3, 1, 16, 30, tzinfo=dt.UTC)
    late = event(world, "member.update", at=before_midnight, actor="alice", target_id=11, target_label="868800000011")
    early = event(world, "member.view", at=after_midnight, actor="bob", target_id=12, target_label="868800000012")
    login(client, world, "group_admin")

    def found(**params: str) -> set[int]:
        resp = client.get(AUDIT, params)
        assert resp.status_code == 200, resp.content
        return {row.event.pk for row in resp.context["rows"]} & {late.pk, early.pk}

    assert found(date_from="2026-03-02", date_to="2026-03-02") == {early.pk}
    assert found(date_to="2026-03-01") == {late.pk}
    assert found(actor="ali") == {late.pk}
    assert found(action="member.view") == {early.pk}
    assert found(action="member.*") == {late.pk, early.pk}
    assert found(target="868800000011") == {late.pk}
    assert found(target="12") == {early.pk}
    assert found(target_type="member", date_from="2026-03-01") == {late.pk, early.pk}
    menu = client.get(AUDIT).content.decode()
    assert '<optgroup label="Members">' in menu and ">Edited the profile</option>" in menu
    assert '<option value="member.*">All: Members</option>' in menu


def test_a_backwards_date_range_is_an_inline_error(client, world):
    login(client, world, "group_admin")
    resp = client.get(AUDIT, {"date_from": "2026-03-02", "date_to": "2026-03-01"})
    assert resp.status_code == 400
    assert 'data-testid="audit-filter-errors"' in resp.content.decode()
    assert client.get(AUDIT, {"date_from": "not a date"}).status_code == 400


def test_audit_log_pages_by_fifty(client, world):
    for n in range(51):
        event(world, "member.view", target_id=n + 1)
    login(client, world, "group_admin")
    first = client.get(AUDIT, {"action": "member.view"})
    assert len(first.context["rows"]) == 50 and first.context["page_obj"].paginator.num_pages == 2
    second = client.get(AUDIT, {"action": "member.view", "page": 2})
    assert len(second.context["rows"]) == 1
    assert "action=member.view&page=2" in first.content.decode()


def test_every_audited_action_has_a_label():
    """A new audit action without a label would show its code (e.g. "coupon_template.create") in the log."""
    root = Path(settings.BASE_DIR) / "galleria"
    literal = re.compile(r'action="([a-z_]+\.[a-z_]+)"|_audit\(\s*\w+,\s*"([a-z_]+\.[a-z_]+)"')
    found = set()
    for path in root.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for match in literal.finditer(path.read_text(encoding="utf-8")):
            found.add(match.group(1) or match.group(2))
    found = {action for action in found if not action.endswith("_")}  # "points.adjust_" + decision
    # actions built at run time from a status or a decision
    found |= {f"coupon_template.{s}" for s in ("draft", "active", "paused", "ended")}
    found |= {f"promotion.{s}" for s in ("draft", "active", "paused", "ended")}
    found |= {"member.pair_dismissed", "member.pair_reported", "points.adjust_approve", "points.adjust_reject"}
    found |= {"wallet.refund_approve", "wallet.refund_reject"} if "wallet.refund_request" in found else set()
    found |= {f"settlement.{a}" for a in ("confirm", "dispute", "approve", "pay")}  # _audit(s, "confirm", …)
    assert len(found) > 40
    assert sorted(found - set(ACTION_LABELS)) == []


# ---------------------------------------------------------------- stored codes as words


def test_every_kind_of_row_a_merge_moves_has_a_name():
    from galleria.dedupe.selectors import HANDLED, MOVE, MOVE_UNLESS_TAKEN
    from galleria.interfaces.console.views.dedupe import ROW_LABELS, row_label

    moved = {h.label for h in HANDLED if h.how in (MOVE, MOVE_UNLESS_TAKEN)} | {"coupons.CouponHolding"}
    assert sorted(moved - set(ROW_LABELS)) == []
    with translation.override("en"):
        assert row_label("points.BehaviourAward") == "Behaviour points awards"
        assert row_label("members.Member") == "Members"  # not listed: the model's own name
        assert row_label("gone.Model") == "gone.Model"


def test_access_log_names_pages_and_fields(client, world):
    member = member_register(mall=world.mall, phone="13800000001", channel=JoinChannel.DESK, actor=ACTOR)
    for source, fields in (("console:member_detail", ["birthday", "email"]), ("console:members_export", ["phone"])):
        pii_access_record(
            actor=ACTOR, mall_group_id=world.group.pk, member_ids=[member.pk], fields=fields, source=source
        )
    login(client, world, "group_admin")
    html = client.get(reverse("console:privacy_access_log")).content.decode()
    assert "Member page" in html and "Member list export (CSV)" in html and "Birthday, E-mail" in html
    assert ">console:member_detail<" not in html and "birthday,email" not in html


def test_privacy_done_is_not_the_check_in_done():
    """The privacy status "Done" has its own context: it shared the member app's check-in "Done" (已签到)."""
    from django.utils.translation import gettext

    from galleria.privacy.models import RequestStatus

    with translation.override("zh-hans"):
        assert gettext("Done") == "已签到"  # the check-in button
        assert str(RequestStatus.DONE.label) != gettext("Done")


def test_points_rules_name_item_categories(client, world):
    from galleria.points.models import PointsPolicy

    PointsPolicy.objects.update_or_create(
        mall_group=world.group, defaults={"excluded_categories": ["gift_card", "tobacco", "own_code"]}
    )
    login(client, world, "group_admin")
    html = client.get(reverse("console:points_rules")).content.decode()
    assert "Gift cards, Tobacco, own_code" in html
    assert not re.search(r">[^<]*gift_card", html)  # the code stays only in the simulator's input suggestions


def test_tier_list_shows_names_not_codes(client, world):
    from galleria.tiers.services import tier_ladder_ensure_default

    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    login(client, world, "group_admin")
    html = client.get(reverse("console:tiers")).content.decode()
    assert 'title="Code in imports and the API: gold"' in html
    assert not re.search(r">\s*gold\s*<", html)


def test_import_source_is_named(client, world):
    from galleria.imports.models import ImportJob

    ImportJob.objects.create(
        mall_group=world.group,
        kind="members",
        source="legacy",
        original_name="old.csv",
        stored_name="x.csv",
        file_format="csv",
        size_bytes=1,
        sha256="0" * 64,
        headers=["phone"],
        created_by_label="admin",
    )
    login(client, world, "group_admin")
    html = client.get(reverse("console:imports")).content.decode()
    assert "Previous member system" in html and ">legacy<" not in html


def test_object_labels_in_the_audit_log_use_separators(client, world):
    event(world, "member.export", target_id="export", target_label="12345 members", changes={"count": 12345})
    login(client, world, "group_admin")
    html = client.get(AUDIT).content.decode()
    assert "12,345 members" in html and intcomma(12345) == "12,345"


def test_points_history_names_a_merge_instead_of_its_code(client, world):
    from galleria.dedupe.services import member_merge
    from galleria.points.services import points_adjust_request

    survivor = member_register(mall=world.mall, phone="13800000011", channel=JoinChannel.DESK, actor=ACTOR)
    absorbed = member_register(mall=world.mall, phone="13800000012", channel=JoinChannel.DESK, actor=ACTOR)
    points_adjust_request(
        mall_group_id=world.group.pk,
        member_id=absorbed.pk,
        points=40,
        reason="补录",
        actor=ACTOR,
        tz_name="Asia/Shanghai",
    )
    record, _created = member_merge(
        mall_group_id=world.group.pk, survivor_id=survivor.pk, absorbed_id=absorbed.pk, actor=ACTOR
    )
    login(client, world, "group_admin")
    html = client.get(reverse("console:member_points", args=[survivor.pk])).content.decode()
    assert f"Merge of a duplicate member (#{record.pk})" in html and f">merge:{record.pk}<" not in html
    assert reverse("console:merge_detail", args=[record.pk]) in html
