"""Console: the member app's home layout editor (draft → preview → publish) and in-app messages (the inbox).

content.view sees the editor, the preview and the sent messages; content.manage edits, publishes, uploads and
sends. Group staff work on their own group; platform admins choose one (`?group=`). Every write goes through the
content / messaging services (validation, row lock on the draft, audit record).
"""

from __future__ import annotations

from typing import Any

import segno
from csp.decorators import csp_replace
from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.content import conf
from galleria.content import rules as content_rules
from galleria.content import selectors as content_selectors
from galleria.content import services as content_services
from galleria.content.exceptions import LayoutInvalidError
from galleria.core.errors import ApplicationError
from galleria.coupons.models import CouponTemplate
from galleria.interfaces.app.home import layout_context
from galleria.interfaces.app.presenters import home as home_presenters
from galleria.interfaces.common import actor_for, scope_of
from galleria.members.selectors import member_resolve
from galleria.messaging import selectors as inbox_selectors
from galleria.messaging import services as inbox_services
from galleria.messaging.types import Audience
from galleria.tiers.selectors import tier_ladder

from ..helpers import console_view
from ..loyalty import GroupContext, group_context

BLOCK_FIELDS = ("image_id", "alt", "link_kind", "link_target", "starts_on", "ends_on", "kind", "title", "text")
SAMPLE_CODE = "660000000000000000"


def _editor_url(g: GroupContext, anchor: str = "") -> str:
    return reverse("console:content_home") + g.query + (f"#{anchor}" if anchor else "")


def _block_from_post(request: HttpRequest, block_type: str) -> dict[str, Any]:
    data: dict[str, Any] = {"type": block_type}
    if block_type == "entries":
        data["keys"] = [k for k in request.POST.getlist("keys") if k in content_rules.ENTRY_KEYS]
    else:
        for name in BLOCK_FIELDS:
            data[name] = (request.POST.get(name) or "")[:600]
    return data


def _check_coupon_links(g: GroupContext, blocks: list[content_rules.Block]) -> None:
    """Coupon templates live above the content app: the console checks a banner's coupon is the group's own."""
    wanted = content_rules.referenced_ids(blocks, "coupon")
    if not wanted:
        return
    found = set(CouponTemplate.objects.filter(mall_group_id=g.id, pk__in=wanted).values_list("pk", flat=True))
    if wanted - found:
        message = _("No coupon of this mall group has that number.")
        raise LayoutInvalidError(message, fields={"link_target": message})


def _editor(
    request: HttpRequest, g: GroupContext, *, error: str = "", error_block: str = "", status: int = 200
) -> HttpResponse:
    draft = content_selectors.layout_draft(mall_group_id=g.id)
    images = content_selectors.image_list(mall_group_id=g.id)
    image_urls = {img.pk: home_presenters.image_url(img.pk, img.sha256) for img in images}
    used = content_rules.image_ids(draft.blocks) - set(image_urls)
    for img in content_selectors.images_by_id(mall_group_id=g.id, ids=used).values():
        image_urls[img.pk] = home_presenters.image_url(img.pk, img.sha256)
    coupons = list(
        CouponTemplate.objects.filter(mall_group_id=g.id, is_claimable=True)
        .order_by("-pk")
        .values_list("pk", "name")[:100]
    )
    rows = []
    for i, block in enumerate(draft.blocks):
        rows.append(
            {
                "b": block,
                "first": i == 0,
                "last": i == len(draft.blocks) - 1,
                "image_url": image_urls.get(block.get("image_id") or 0, ""),
                "error": error if error_block == block["id"] else "",
            }
        )
    ctx = {
        "nav": "content_home",
        "g": g,
        "draft": draft,
        "rows": rows,
        "error": error if not error_block else "",
        "can_manage": scope_of(request).can(perms.CONTENT_MANAGE),
        "entry_keys": [(k, content_rules.ENTRY_LABELS[k], ok) for k, ok in content_rules.ENTRY_KEYS.items()],
        "section_kinds": list(content_rules.SECTION_KINDS.items()),
        "link_kinds": list(content_rules.LINK_KINDS.items()),
        "page_keys": list(content_rules.PAGE_KEYS.items()),
        "images": images,
        "gallery": [(img, image_urls[img.pk]) for img in images],
        "image_urls": image_urls,
        "coupons": coupons,
        "versions": content_selectors.layout_versions(mall_group_id=g.id),
        "has_entries": any(b["type"] == "entries" for b in draft.blocks),
        "max_kb": content_rules_max_kb(),
    }
    return render(request, "console/content/home.html", ctx, status=status)


def content_rules_max_kb() -> int:
    return conf.image_max_bytes() // 1024


@console_view(perms.CONTENT_VIEW)
def content_home(request: HttpRequest) -> HttpResponse:
    return _editor(request, group_context(request))


@console_view(perms.CONTENT_VIEW)
@xframe_options_sameorigin
@csp_replace({"frame-ancestors": ["'self'"]})
def content_home_preview(request: HttpRequest) -> HttpResponse:
    """The draft rendered by the app's own home template with a sample member, for the phone frame."""
    g = group_context(request)
    mall = g.group.malls.order_by("pk").first()
    if mall is None:
        return render(request, "app/unavailable.html", {}, status=503)
    draft = content_selectors.layout_draft(mall_group_id=g.id)
    qr = segno.make(SAMPLE_CODE, error="m", micro=False)
    ctx = {
        "mall": mall,
        "tab": "home",
        "preview": True,
        "member": {
            "display_name": _("Sample member"),
            "has_name": True,
            "phone": "138****0000",
            "card_no": "800000000000",
            "card_no_spaced": "8000 0000 0000",
            "joined_on": None,
        },
        "tier": None,
        "tier_theme": home_presenters.tier_theme(1),
        "points_balance": 1280,
        "wallet_text": "¥50.00",
        "unread": 2,
        "recent": [],
        "code": SAMPLE_CODE,
        "code_spaced": " ".join(SAMPLE_CODE[i : i + 4] for i in range(0, len(SAMPLE_CODE), 4)),
        "qr_svg": mark_safe(qr.svg_inline(scale=1, border=2, omitsize=True, svgclass="qr", dark="#1f2430")),  # noqa: S308
        "expires_in": 60,
        "refresh_after": 3600,
        "step_seconds": 60,
        **layout_context(mall=mall, blocks=draft.blocks, member=None, unread=2),
    }
    return render(request, "app/home.html", ctx)


@require_POST
@console_view(perms.CONTENT_MANAGE)
def content_home_edit(request: HttpRequest) -> HttpResponse:
    """One change to the draft: op = add | save | up | down | delete | discard | reorder."""
    g = group_context(request)
    op = request.POST.get("op") or ""
    block_id = (request.POST.get("block") or "")[:20]
    try:
        revision = int(request.POST.get("revision") or "-1")
    except ValueError:
        revision = -1
    actor = actor_for(request)
    edit: content_services.BlockEdit
    if op == "add":
        block_type = request.POST.get("type") or ""
        new_id = content_rules.new_block_id()
        block = {**_block_from_post(request, block_type), "id": new_id}
        if block_type == "entries" and not block["keys"]:
            block["keys"] = list(content_rules.DEFAULT_ENTRIES)
        block_id = new_id

        def edit(blocks: list[content_rules.Block]) -> list[content_rules.Block]:
            return content_rules.add_block(blocks, block)

    elif op == "save":
        current = next(
            (b for b in content_selectors.layout_draft(mall_group_id=g.id).blocks if b["id"] == block_id), None
        )
        block_type = current["type"] if current else ""
        block = _block_from_post(request, block_type)

        def edit(blocks: list[content_rules.Block]) -> list[content_rules.Block]:
            return content_rules.replace_block(blocks, block_id, block)

    elif op in ("up", "down"):
        draft = content_selectors.layout_draft(mall_group_id=g.id)
        index = next((i for i, b in enumerate(draft.blocks) if b["id"] == block_id), -1)
        target = index - 1 if op == "up" else index + 1

        def edit(blocks: list[content_rules.Block]) -> list[content_rules.Block]:
            return content_rules.move_block(blocks, block_id, to=target)

    elif op == "delete":

        def edit(blocks: list[content_rules.Block]) -> list[content_rules.Block]:
            return content_rules.remove_block(blocks, block_id)

    elif op == "reorder":
        order = [x for x in (request.POST.get("order") or "").split(",") if x][: content_rules.MAX_BLOCKS + 1]

        def edit(blocks: list[content_rules.Block]) -> list[content_rules.Block]:
            return content_rules.reorder(blocks, order)

    elif op == "discard":
        try:
            content_services.layout_draft_discard(mall_group_id=g.id, revision=revision, actor=actor)
        except ApplicationError as exc:
            return _editor(request, g, error=str(exc.message), status=422)
        messages.success(request, _("The draft is back to the published layout."))
        return redirect(_editor_url(g))
    else:
        return _editor(request, g, error=_("Unknown change."), status=422)
    try:
        if op in ("add", "save"):
            _check_coupon_links(g, [block])
        content_services.layout_draft_edit(mall_group_id=g.id, revision=revision, edit=edit, actor=actor)
    except ApplicationError as exc:
        return _editor(request, g, error=str(exc.message), error_block=block_id if op == "save" else "", status=422)
    if op == "add":
        messages.success(request, _("Block added to the draft."))
    elif op == "save":
        messages.success(request, _("Draft saved."))
    return redirect(_editor_url(g, f"block-{block_id}" if op != "delete" else ""))


@require_POST
@console_view(perms.CONTENT_MANAGE)
def content_home_publish(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    try:
        revision = int(request.POST.get("revision") or "-1")
    except ValueError:
        revision = -1
    try:
        version = content_services.layout_publish(mall_group_id=g.id, revision=revision, actor=actor_for(request))
    except ApplicationError as exc:
        return _editor(request, g, error=str(exc.message), status=409 if exc.status == 409 else 422)
    messages.success(request, _("Published: the app home now shows version %(v)s.") % {"v": version.version})
    return redirect(_editor_url(g))


class ImageForm(forms.Form):
    image = forms.FileField(label=gettext_lazy("Image"))


@require_POST
@console_view(perms.CONTENT_MANAGE)
def content_image_upload(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    form = ImageForm(request.POST, request.FILES)
    if not form.is_valid():
        return _editor(request, g, error=_("Choose an image file to upload."), status=422)
    upload = form.cleaned_data["image"]
    limit = content_rules_max_kb() * 1024
    if upload.size > limit:
        message = _("The image is larger than %(kb)s KB.") % {"kb": limit // 1024}
        return _editor(request, g, error=message, status=422)
    try:
        image = content_services.image_upload(
            mall_group_id=g.id, data=upload.read(), name=str(upload.name or ""), actor=actor_for(request)
        )
    except ApplicationError as exc:
        return _editor(request, g, error=str(exc.message), status=422)
    messages.success(
        request,
        _("Image %(n)s uploaded (%(w)s×%(h)s). Add a banner and choose it.")
        % {"n": image.pk, "w": image.width, "h": image.height},
    )
    return redirect(_editor_url(g, "images"))


# ------------------------------------------------------------------------------------------------- inbox


class MessageForm(forms.Form):
    audience = forms.ChoiceField(label=gettext_lazy("Send to"), choices=Audience.choices, initial=Audience.ALL)
    tier = forms.TypedChoiceField(label=gettext_lazy("Tier"), coerce=int, required=False, empty_value=None)
    member = forms.CharField(
        label=gettext_lazy("Member (phone or card number)"), required=False, max_length=40, strip=True
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=inbox_services.INBOX_TITLE_MAX)
    body = forms.CharField(
        label=gettext_lazy("Message"),
        max_length=inbox_services.INBOX_BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
    )

    def __init__(self, *args: Any, tiers: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tier"].choices = [("", "—"), *tiers]  # type: ignore[attr-defined]


@console_view(perms.CONTENT_VIEW)
def content_messages(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    page = Paginator(inbox_selectors.inbox_sent_list(mall_group_id=g.id), 25).get_page(request.GET.get("page"))
    tiers = {level.pk: level.name for level in tier_ladder(mall_group_id=g.id)}
    audiences = dict(Audience.choices)
    rows = [
        {
            "m": m,
            "audience": audiences.get(m.audience, m.audience),
            "tier": tiers.get(m.tier_level_id or 0, ""),
        }
        for m in page.object_list
    ]
    ctx = {
        "nav": "content_messages",
        "g": g,
        "rows": rows,
        "page": page,
        "can_manage": scope_of(request).can(perms.CONTENT_MANAGE),
    }
    return render(request, "console/content/messages.html", ctx)


@console_view(perms.CONTENT_MANAGE)
def content_message_new(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    tiers = [(level.pk, level.name) for level in tier_ladder(mall_group_id=g.id)]
    form = MessageForm(request.POST or None, tiers=tiers)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        member_id = None
        if data["audience"] == Audience.MEMBER:
            who = data["member"]
            found = member_resolve(mall_group_id=g.id, raw=who) if who else None
            if found is None or not found.member.is_active:
                form.add_error("member", _("No active member of this mall group has that phone or card number."))
            else:
                member_id = found.member.pk
        if data["audience"] == Audience.TIER and data["tier"] not in {t for t, _n in tiers}:
            form.add_error("tier", _("Choose a tier."))
        if form.is_valid():
            try:
                message = inbox_services.inbox_send(
                    mall_group_id=g.id,
                    audience=data["audience"],
                    tier_level_id=data["tier"],
                    member_id=member_id,
                    title=data["title"],
                    body=data["body"],
                    actor=actor_for(request),
                )
            except ApplicationError as exc:
                for field, text in exc.fields.items():
                    form.add_error(field if field in form.fields else None, str(text))
                if not exc.fields:
                    form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("Sent: “%(t)s” is in the members' inbox.") % {"t": message.title})
                return redirect(reverse("console:content_messages") + g.query)
    status = 422 if request.method == "POST" else 200
    ctx = {"nav": "content_messages", "g": g, "form": form}
    return render(request, "console/content/message_new.html", ctx, status=status)
