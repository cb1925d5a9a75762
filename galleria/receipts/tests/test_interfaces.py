"""The receipt screens through Django's test client: member app, console review, merchant portal, image access."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from galleria.points.selectors import points_balance
from galleria.receipts import services
from galleria.receipts.models import Receipt
from galleria.receipts.types import ReceiptStatus
from galleria.testing import PASSWORD

from .helpers import STAFF, new_member, photo, script

pytestmark = pytest.mark.django_db


def member_client(member):
    client = Client()
    session = client.session
    session["member_id"] = member.pk
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client


def staff_client(user):
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _upload(client, data, name="receipt.jpg"):
    return client.post("/app/receipts/", {"photo": SimpleUploadedFile(name, data, content_type="image/jpeg")})


def test_member_uploads_confirms_and_staff_approves(world, django_capture_on_commit_callbacks):
    member = new_member(world)
    client = member_client(member)
    spec, data = photo(amount_fen=8800)
    script(spec)
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, data)
    assert response.status_code == 302
    receipt = Receipt.objects.get(member=member)
    page = client.get(response["Location"])
    html = page.content.decode()
    assert receipt.status == ReceiptStatus.DRAFT.value or Receipt.objects.get(pk=receipt.pk).status == "draft"
    assert 'value="88.00"' in html and spec.receipt_no in html  # pre-filled from the read
    form = {
        "merchant": str(world.merchant.pk),
        "amount": "88.00",
        "occurred_at": spec.occurred_at.strftime("%Y-%m-%dT%H:%M"),
        "receipt_no": spec.receipt_no,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/app/receipts/{receipt.pk}/", form)
    assert response.status_code == 302
    assert Receipt.objects.get(pk=receipt.pk).status == ReceiptStatus.PENDING

    reviewer = staff_client(world.users["service"])
    queue = reviewer.get("/console/receipts/")
    assert queue.status_code == 200 and f"#{receipt.pk}" in queue.content.decode()
    review = reviewer.get(f"/console/receipts/{receipt.pk}/")
    assert f"/console/receipts/{receipt.pk}/image/" in review.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = reviewer.post(f"/console/receipts/{receipt.pk}/", {**form, "action": "approve"})
    assert response.status_code == 302
    done = Receipt.objects.get(pk=receipt.pk)
    assert done.status == ReceiptStatus.APPROVED and done.points_earned > 0
    assert points_balance(member_id=member.pk) >= done.points_earned
    listing = client.get("/app/receipts/").content.decode()
    assert f"+{done.points_earned} points" in listing


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "The file is empty"),
        (b"GIF89a not really", "not a photo we can read"),
    ],
)
def test_bad_files_get_a_clear_message_and_nothing_is_stored(world, data, message):
    client = member_client(new_member(world))
    response = _upload(client, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Receipt.objects.exists()


def test_image_is_served_only_with_permission(world, django_capture_on_commit_callbacks):
    owner = new_member(world)
    spec, data = photo()
    script(spec)
    with django_capture_on_commit_callbacks(execute=True):
        _upload(member_client(owner), data)
    receipt = Receipt.objects.get(member=owner)
    url_app = f"/app/receipts/{receipt.pk}/image/"
    mine = member_client(owner).get(url_app)
    assert mine.status_code == 200 and mine["Content-Type"] == "image/jpeg"
    assert "no-store" in mine["Cache-Control"]
    assert member_client(new_member(world)).get(url_app).status_code == 404
    url_console = f"/console/receipts/{receipt.pk}/image/"
    assert staff_client(world.users["service"]).get(url_console).status_code == 200
    assert staff_client(world.users["finance"]).get(url_console).status_code == 403
    assert staff_client(world.users["foreign_admin"]).get(url_console).status_code == 404
    url_portal = f"/merchant/receipts/{receipt.pk}/image/"
    assert staff_client(world.users["merchant_owner"]).get(url_portal).status_code == 404  # mall reviews itself


def test_merchant_confirms_its_own_receipt(world, django_capture_on_commit_callbacks):
    services.receipt_settings_save(mall_group_id=world.group.pk, values={"merchant_confirmation": True}, actor=STAFF)
    member = new_member(world)
    client = member_client(member)
    spec, data = photo()
    script(spec)
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, data)
    receipt = Receipt.objects.get(member=member)
    form = {
        "merchant": str(world.merchant.pk),
        "amount": f"{spec.paid_fen / 100:.2f}",
        "occurred_at": spec.occurred_at.strftime("%Y-%m-%dT%H:%M"),
        "receipt_no": spec.receipt_no,
    }
    client.post(f"/app/receipts/{receipt.pk}/", form)
    owner = staff_client(world.users["merchant_owner"])
    page = owner.get("/merchant/receipts/").content.decode()
    assert spec.receipt_no in page
    assert owner.get(f"/merchant/receipts/{receipt.pk}/image/").status_code == 200
    other = staff_client(world.users["other_owner"])
    assert other.post(f"/merchant/receipts/{receipt.pk}/decide/", {"action": "confirm"}).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        owner.post(f"/merchant/receipts/{receipt.pk}/decide/", {"action": "confirm"})
    assert Receipt.objects.get(pk=receipt.pk).status == ReceiptStatus.APPROVED


def test_settings_form_saves_rules(world):
    admin = staff_client(world.users["group_admin"])
    assert admin.get("/console/receipts/settings/").status_code == 200
    response = admin.post(
        "/console/receipts/settings/",
        {
            "is_enabled": "on",
            "all_merchants": "on",
            "auto_approve": "on",
            "auto_approve_max": "150",
            "auto_approve_min_confidence": "92",
            "max_age_days": "5",
            "daily_limit": "2",
            "monthly_limit": "10",
            "retention_days": "60",
            "reject_reasons": "模糊\n过期",
        },
    )
    assert response.status_code == 302
    from galleria.receipts.selectors import settings_for

    rules = settings_for(mall_group_id=world.group.pk)
    assert rules.auto_approve and rules.auto_approve_max_fen == 15000 and rules.max_age_days == 5
    assert rules.reason_list() == ["模糊", "过期"]
