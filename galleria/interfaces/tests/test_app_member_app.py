"""Member app: home with the published layout, full-screen code, bills, merchants, inbox, banner images; the
console's layout editor and inbox; the first screen's weight."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from galleria.audit.types import Actor
from galleria.content import rules as content_rules
from galleria.content import selectors as content_selectors
from galleria.content import services as content_services
from galleria.content.tests.test_rules import png
from galleria.members.services import member_register
from galleria.messaging import services as inbox_services
from galleria.messaging.models import InboxMessage, InboxRead
from galleria.sales import services as sale_services
from galleria.sales.tests.helpers import sale_in
from galleria.testing import PASSWORD

pytestmark = pytest.mark.django_db
ACTOR = Actor(user_id=None, label="test")
PHONE = "13812345678"


@pytest.fixture
def member(world):
    return member_register(mall=world.mall, phone=PHONE, channel="desk", actor=ACTOR, profile={"name": "王小丽"})


@pytest.fixture
def app(client, member):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    session = client.session
    session["member_id"] = member.pk
    session.save()
    return client


def staff(world, role: str) -> Client:
    c = Client()
    c.cookies["django_language"] = "en"
    assert c.login(username=world.users[role].username, password=PASSWORD)
    return c


def text(resp) -> str:
    return re.sub(r"\s+", " ", resp.content.decode())


def test_home_shows_the_default_layout_and_card(app):
    resp = app.get("/app/")
    assert resp.status_code == 200
    html = text(resp)
    assert 'data-testid="member-card"' in html and 'data-testid="quick-entries"' in html
    for key in content_rules.DEFAULT_ENTRIES:
        assert f'data-testid="entry-{key}"' in html
    assert 'data-testid="entry-parking"' in html and 'href="/app/events/"' in html  # every entry has its page
    assert 'data-testid="section-coupons"' in html


def test_published_layout_drives_the_home(app, world, monkeypatch):
    monkeypatch.setitem(content_rules.ENTRY_KEYS, "events", False)  # an entry whose page is not built is hidden
    gid = world.group.pk
    image = content_services.image_upload(mall_group_id=gid, data=png(1000, 400), name="b.png", actor=ACTOR)
    blocks = [
        {
            "id": "ban001",
            "type": "banner",
            "image_id": image.pk,
            "alt": "Spring sale",
            "link_kind": "merchant",
            "link_target": str(world.merchant.pk),
        },
        {"id": "not001", "type": "section", "kind": "notice", "title": "Notice", "text": "B2 closed"},
        {"id": "ent001", "type": "entries", "keys": ["inbox", "events"]},
    ]
    content_services.layout_draft_edit(mall_group_id=gid, revision=0, edit=lambda b: blocks, actor=ACTOR)
    html = text(app.get("/app/"))
    assert "B2 closed" not in html  # a draft is not live
    content_services.layout_publish(mall_group_id=gid, revision=1, actor=ACTOR)
    html = text(app.get("/app/"))
    assert 'alt="Spring sale"' in html and f'href="/app/merchants/{world.merchant.pk}/"' in html
    assert html.index("Spring sale") < html.index("B2 closed") < html.index('data-testid="entry-inbox"')
    assert 'data-testid="section-coupons"' not in html and 'data-testid="entry-events"' not in html
    src = re.search(r'src="(/app/images/[^"]+)"', html).group(1)
    img = Client().get(src)
    assert img.status_code == 200 and img["Content-Type"] == "image/png"
    assert "immutable" in img["Cache-Control"] and img["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in img["Content-Security-Policy"]
    assert bytes(img.content) == png(1000, 400)
    assert Client().get(src, HTTP_IF_NONE_MATCH=img["ETag"]).status_code == 304
    assert Client().get(f"/app/images/{image.pk}/{'0' * 64}/").status_code == 404


def test_unread_badge_and_inbox(app, world, member):
    inbox_services.inbox_send(
        mall_group_id=world.group.pk, audience="all", title="Welcome week", body="Double points", actor=ACTOR
    )
    direct = inbox_services.inbox_send(
        mall_group_id=world.group.pk,
        audience="member",
        member_id=member.pk,
        title="Your parking",
        body="2 free hours",
        actor=ACTOR,
    )
    html = text(app.get("/app/"))
    assert re.search(r'data-testid="unread-badge">2', html)
    html = text(app.get("/app/inbox/"))
    assert "Welcome week" in html and "2 unread" in html
    resp = app.get(f"/app/inbox/{direct.pk}/")
    assert resp.status_code == 200 and "2 free hours" in text(resp)
    assert re.search(r'data-testid="unread-badge">1', text(app.get("/app/")))
    app.post("/app/inbox/read-all/")
    assert 'data-testid="unread-badge"' not in text(app.get("/app/"))
    assert InboxRead.objects.filter(member_id=member.pk).count() == 2


def test_another_members_message_is_not_shown(app, world, member):
    other = member_register(mall=world.mall, phone="13900001111", channel="desk", actor=ACTOR)
    msg = inbox_services.inbox_send(
        mall_group_id=world.group.pk, audience="member", member_id=other.pk, title="Private", body="secret", actor=ACTOR
    )
    resp = app.get(f"/app/inbox/{msg.pk}/")
    assert resp.status_code == 302 and resp["Location"] == "/app/inbox/"
    assert "secret" not in text(app.get("/app/inbox/", follow=True))
    assert not InboxRead.objects.exists()


def test_code_page_is_full_screen_and_partial_for_htmx(app, member):
    html = text(app.get("/app/code/"))
    assert 'data-testid="brightness-hint"' in html and member.card_no[:4] in html
    assert '<noscript><meta http-equiv="refresh"' in html
    partial = text(app.get("/app/code/", HTTP_HX_REQUEST="true"))
    assert "<html" not in partial and 'hx-trigger="load delay:' in partial


def test_bills_list_detail_and_old_address(app, world, member):
    sale = sale_services.sale_commit(data=sale_in(world, member_id=member.pk, amounts=(12800, 2000)), actor=ACTOR)
    html = text(app.get("/app/bills/"))
    assert world.merchant.name in html and f'href="/app/bills/{sale.sale_id}/"' in html
    detail = text(app.get(f"/app/bills/{sale.sale_id}/"))
    assert "item 0" in detail and "¥148.00" in detail
    old = app.get("/app/purchases/?page=2")
    assert old.status_code == 301 and old["Location"] == "/app/bills/?page=2"
    other = member_register(mall=world.mall, phone="13900001111", channel="desk", actor=ACTOR)
    theirs = sale_services.sale_commit(data=sale_in(world, member_id=other.pk, pos_id="X-2"), actor=ACTOR)
    resp = app.get(f"/app/bills/{theirs.sale_id}/")
    assert resp.status_code == 302 and resp["Location"] == "/app/bills/"


def test_merchant_directory_search_and_page(app, world):
    world.merchant.short_description = "Cheese tea"
    world.merchant.save()
    html = text(app.get("/app/merchants/"))
    assert world.merchant.name in html and "L1" in html
    assert world.foreign_merchant.name not in html
    assert world.merchant.name in text(app.get("/app/merchants/?q=cheese"))
    assert world.merchant.name not in text(app.get("/app/merchants/?q=nothing-like-this"))
    assert world.merchant.name not in text(app.get("/app/merchants/?category=fashion"))
    assert text(app.get("/app/merchants/?category=bogus&floor=%00")).count("merchant-link") >= 1
    page = text(app.get(f"/app/merchants/{world.merchant.pk}/"))
    assert "L1-018" in page and "10:00–22:00" in page and "mall hours" in page
    resp = app.get(f"/app/merchants/{world.foreign_merchant.pk}/")
    assert resp.status_code == 302


def test_first_screen_weight_under_100_kb(app):
    """The home page's HTML plus its own CSS and JS (everything but the vendor htmx), in bytes."""
    html = app.get("/app/").content.decode()
    assets = re.findall(r'(?:href|src)="/static/([^"]+\.(?:css|js))"', html)
    own = [a for a in assets if not a.startswith("django_htmx/")]
    assert own, assets
    total = len(html.encode())
    for asset in own:
        path = finders.find(re.sub(r"\.[0-9a-f]{12}(\.\w+)$", r"\1", asset))
        assert path, asset
        with open(path, "rb") as fh:
            total += len(fh.read())
    assert total < 100 * 1024, total


# ---------------------------------------------------------------- console


def test_layout_editor_permissions(world):
    assert staff(world, "readonly").get("/console/content/home/").status_code == 200
    assert staff(world, "readonly").post("/console/content/home/publish/", {"revision": 0}).status_code == 403
    assert staff(world, "marketing").get("/console/content/home/preview/").status_code == 200


def test_layout_editor_add_move_preview_publish(world, member, app):
    c = staff(world, "marketing")
    resp = c.post(
        "/console/content/home/edit/",
        {"op": "add", "type": "section", "kind": "notice", "text": "Hi all", "revision": 0},
    )
    assert resp.status_code == 302, text(resp)
    draft = content_selectors.layout_draft(mall_group_id=world.group.pk)
    notice_id = draft.blocks[-1]["id"]
    c.post("/console/content/home/edit/", {"op": "up", "block": notice_id, "revision": draft.revision})
    draft = content_selectors.layout_draft(mall_group_id=world.group.pk)
    assert draft.blocks[-2]["id"] == notice_id
    # a stale form is refused with a 422, not a 500 and not a silent overwrite
    stale = c.post("/console/content/home/edit/", {"op": "delete", "block": notice_id, "revision": 0})
    assert stale.status_code == 422 and "Someone else changed" in text(stale)
    preview = c.get("/console/content/home/preview/")
    assert "Hi all" in text(preview) and "frame-ancestors 'self'" in preview["Content-Security-Policy"]
    assert "Hi all" not in text(app.get("/app/"))
    resp = c.post("/console/content/home/publish/", {"revision": draft.revision})
    assert resp.status_code == 302
    assert "Hi all" in text(app.get("/app/"))
    bad = c.post(
        "/console/content/home/edit/",
        {"op": "save", "block": notice_id, "kind": "notice", "text": "", "revision": draft.revision},
    )
    assert bad.status_code == 422 and "Write the notice text" in text(bad)


def test_image_upload_in_console(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = staff(world, "marketing")
    ok = c.post("/console/content/images/", {"image": SimpleUploadedFile("b.png", png(800, 320), "image/png")})
    assert ok.status_code == 302
    bad = c.post("/console/content/images/", {"image": SimpleUploadedFile("x.png", b"<svg/>", "image/png")})
    assert bad.status_code == 422 and "PNG, JPEG, GIF or WebP" in text(bad)


def test_send_messages_from_console(world, member):
    c = staff(world, "marketing")
    assert staff(world, "readonly").get("/console/content/messages/new/").status_code == 403
    resp = c.post(
        "/console/content/messages/new/", {"audience": "member", "member": PHONE, "title": "Hi", "body": "You"}
    )
    assert resp.status_code == 302
    assert InboxMessage.objects.get().member_id == member.pk
    resp = c.post(
        "/console/content/messages/new/", {"audience": "member", "member": "13999999999", "title": "Hi", "body": "x"}
    )
    assert resp.status_code == 422 and "No active member" in text(resp)
    resp = c.post("/console/content/messages/new/", {"audience": "tier", "tier": "999999", "title": "Hi", "body": "x"})
    assert resp.status_code == 422
    assert "Hi" in text(staff(world, "readonly").get("/console/content/messages/"))


def test_home_query_count_does_not_grow_with_the_layout(app, world, django_assert_max_num_queries):
    """Banners are fetched together, sections cost a fixed number of queries: ten banners cost what one does."""
    gid = world.group.pk
    images = [
        content_services.image_upload(mall_group_id=gid, data=png(1000, 400 + i), name=f"{i}.png", actor=ACTOR)
        for i in range(10)
    ]

    def publish(count: int, revision: int) -> None:
        blocks = [
            {"id": f"ban{i:03d}", "type": "banner", "image_id": images[i].pk, "alt": f"b{i}", "link_kind": "none"}
            for i in range(count)
        ]
        content_services.layout_draft_edit(mall_group_id=gid, revision=revision, edit=lambda b: blocks, actor=ACTOR)
        content_services.layout_publish(mall_group_id=gid, revision=revision + 1, actor=ACTOR)

    publish(1, 0)
    app.get("/app/")  # warm per-process caches
    with CaptureQueriesContext(connection) as one:
        app.get("/app/")
    publish(10, 1)
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = text(app.get("/app/"))
    assert html.count("<img ") == 10
