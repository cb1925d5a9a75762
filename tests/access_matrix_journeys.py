"""Access matrix entries of journeys (merged into tests/access_matrix.MATRIX): the list, the editor, a journey's page,
publishing, pausing, resuming and stopping. The evidence journey is a draft with one message step; the POSTs carry
no data (the editor answers 422) or act on that draft (publish runs it, pause and resume answer with a message when
its state does not allow them, stop ends it — later requests then answer with a message)."""

from __future__ import annotations

from .access_matrix import NOT_ALLOWED, ROOT, Entry, Outcome, action, console, page, public, r
from .evidence_world import EvidenceWorld

VIEWERS = {"admin", "marketing", "finance", "viewer", ROOT}  # journeys.view
MANAGERS = {"admin", "marketing", ROOT}  # journeys.manage


def journey_id(ew: EvidenceWorld) -> int:
    from galleria.journeys.models import Journey

    journey, _created = Journey.objects.get_or_create(
        mall_group=ew.world.group,
        name="证据旅程",
        defaults={
            "trigger": "joined",
            "draft": {"steps": [{"id": "m", "kind": "message", "inbox": True, "title": "欢迎", "body": "欢迎加入"}]},
        },
    )
    return int(journey.pk)


def send_token(ew: EvidenceWorld) -> str:
    """A marketing e-mail's token (its send record, written directly: the links only need it to exist)."""
    from django.utils import timezone

    from galleria.campaigns.models import MarketingSend

    send, _created = MarketingSend.objects.get_or_create(
        token="evidence-token-0001",
        defaults={
            "mall_group": ew.world.group,
            "member_id": ew.member.pk,
            "channel": "email",
            "sent_at": timezone.now(),
        },
    )
    return str(send.token)


MATRIX_JOURNEYS: dict[str, Entry] = {
    # a marketing e-mail's links: public, by the send's token (campaigns and journeys send the e-mails)
    "marketing:opened": page(public(Outcome("ok")), post=public(NOT_ALLOWED), note="the open pixel")(
        lambda ew: f"/m/{send_token(ew)}/o.gif"
    ),
    "marketing:clicked": page(
        public(Outcome("ok")), post=public(NOT_ALLOWED), note="records the click, redirects to the app"
    )(lambda ew: f"/m/{send_token(ew)}/c"),
    "marketing:unsubscribe": page(
        public(Outcome("ok")), post=public(Outcome("ok")), note="POST withdraws the e-mail consent"
    )(lambda ew: f"/m/{send_token(ew)}/unsubscribe"),
    "console:journeys": page(console(VIEWERS))(r("console:journeys")),
    "console:journey_new": page(console(MANAGERS), note="POST without data: 422")(r("console:journey_new")),
    "console:journey": page(console(VIEWERS, scoped=True))(r("console:journey", journey_id)),
    "console:journey_edit": page(console(MANAGERS, scoped=True), note="POST without data: 422")(
        r("console:journey_edit", journey_id)
    ),
    "console:journey_publish": action(console(MANAGERS, scoped=True))(r("console:journey_publish", journey_id)),
    "console:journey_pause": action(console(MANAGERS, scoped=True), note="a message unless running")(
        r("console:journey_pause", journey_id)
    ),
    "console:journey_resume": action(console(MANAGERS, scoped=True), note="a message unless paused")(
        r("console:journey_resume", journey_id)
    ),
    "console:journey_stop": action(console(MANAGERS, scoped=True))(r("console:journey_stop", journey_id)),
}
