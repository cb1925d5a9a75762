"""Access matrix entries of the content area (merged into MATRIX by tests/access_matrix.py): the member app's bills,
merchants, inbox and banner images, and the console's home layout editor and in-app messages."""

from __future__ import annotations

from typing import Any

from .access_matrix import ROOT, Entry, Outcome, action, app, console, page, public, r, redirect
from .evidence_world import EvidenceWorld

OK = Outcome("ok")
NOT_ALLOWED = Outcome("not_allowed")
ALL_CONSOLE = {"admin", "marketing", "service", "finance", "viewer", ROOT}  # content.view
CONTENT_MANAGERS = {"admin", "marketing", ROOT}  # content.manage


def merchant_a(ew: EvidenceWorld) -> int:
    return ew.world.merchant.pk


def _message(ew: EvidenceWorld) -> Any:
    """A message for the world's member only (created on first use)."""
    from django.utils import timezone

    from galleria.messaging.models import InboxMessage

    message, _created = InboxMessage.objects.get_or_create(
        mall_group=ew.world.group,
        audience="member",
        member_id=ew.member.pk,
        title="evidence-message",
        defaults={"body": "evidence", "sent_at": timezone.now()},
    )
    return message


def _image_url(ew: EvidenceWorld) -> str:
    import hashlib

    from django.urls import reverse

    from galleria.content.models import ContentImage

    data = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
    digest = hashlib.sha256(data).hexdigest()
    image, _created = ContentImage.objects.get_or_create(
        mall_group=ew.world.group,
        sha256=digest,
        defaults={"content_type": "image/gif", "width": 1, "height": 1, "size_bytes": len(data), "data": data},
    )
    return reverse("app:image", args=[image.pk, digest])


MATRIX_CONTENT: dict[str, Entry] = {
    # member app
    "app:bills": page(app())(r("app:bills")),
    "app:bill": page(app(other_member=redirect("/app/bills/")))(r("app:bill", lambda ew: ew.sale.pk)),
    "app:merchants": page(app())(r("app:merchants")),
    "app:merchant": page(app())(r("app:merchant", merchant_a)),
    "app:inbox": page(app())(r("app:inbox")),
    "app:inbox_read_all": action(app())(r("app:inbox_read_all")),
    "app:inbox_message": page(app(other_member=redirect("/app/inbox/")))(
        r("app:inbox_message", lambda ew: _message(ew).pk)
    ),
    "app:image": page(public(OK), post=public(NOT_ALLOWED), note="banner images are public, addressed by hash")(
        _image_url
    ),
    # console
    "console:content_home": page(console(ALL_CONSOLE))(r("console:content_home")),
    "console:content_home_preview": page(console(ALL_CONSOLE))(r("console:content_home_preview")),
    "console:content_home_edit": action(console(CONTENT_MANAGERS))(r("console:content_home_edit")),
    "console:content_home_publish": action(console(CONTENT_MANAGERS))(r("console:content_home_publish")),
    "console:content_image_upload": action(console(CONTENT_MANAGERS))(r("console:content_image_upload")),
    "console:content_messages": page(console(ALL_CONSOLE))(r("console:content_messages")),
    "console:content_message_new": page(console(CONTENT_MANAGERS))(r("console:content_message_new")),
}
