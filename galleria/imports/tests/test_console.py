"""The console screens of imports through Django's test client: upload → mapping → dry run → import → result."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from galleria.imports.models import ImportJob, ImportStatus
from galleria.members.models import Member
from galleria.tiers.services import tier_ladder_ensure_default

from .helpers import csv_bytes

pytestmark = pytest.mark.django_db


def client_for(world, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def test_console_flow(world, django_capture_on_commit_callbacks):
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    client = client_for(world, "group_admin")
    assert client.get(reverse("console:imports")).status_code == 200
    data = csv_bytes(
        [["联系电话", "姓名", "积分", "等级"], ["13800138000", "=cmd|' /C calc'!A0", "10", "金卡"],
         ["13900139000", "李四", "20", "银卡"], ["bad", "", "", ""]]
    )  # fmt: skip
    response = client.post(
        reverse("console:import_new"),
        {"file": SimpleUploadedFile("会员.csv", data), "kind": "members", "source": "crm", "mall": world.mall.pk},
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("console:import_mapping", args=[job.pk])
    page = client.get(reverse("console:import_mapping", args=[job.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "联系电话" in body and "13900139000" in body  # the preview
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("console:import_mapping", args=[job.pk]), {"phone": "0", "name": "1", "points": "2", "tier": "3"}
        )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED
    assert job.dry_counts == {"created": 1, "error": 2}
    assert not Member.objects.exists()
    report = client.get(reverse("console:import", args=[job.pk]) + "?outcome=error")
    assert report.status_code == 200
    assert report.content.decode().count('data-testid="result-row"') == 2
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("console:import_start", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.counts == {"created": 1, "error": 2}
    result = client.get(reverse("console:import_result", args=[job.pk]))
    text = b"".join(result.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 4
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert Member.objects.get().phone == "+8613900139000"


def test_console_refuses_bad_files_inline_and_scopes_jobs(world):
    client = client_for(world, "group_admin")
    response = client.post(
        reverse("console:import_new"),
        {"file": SimpleUploadedFile("x.csv", bytes(range(256)) * 10), "kind": "members", "source": "crm",
         "mall": world.mall.pk},
    )  # fmt: skip
    assert response.status_code == 400
    assert "UTF-8" in response.content.decode()
    assert not ImportJob.objects.exists()
    client.post(
        reverse("console:import_new"),
        {"file": SimpleUploadedFile("a.csv", csv_bytes([["phone"], ["13800138000"]])), "kind": "members",
         "source": "crm", "mall": world.mall.pk},
    )  # fmt: skip
    job = ImportJob.objects.get()
    foreign = client_for(world, "foreign_admin")
    assert foreign.get(reverse("console:import", args=[job.pk])).status_code == 404
    assert client_for(world, "marketing").get(reverse("console:imports")).status_code == 403


def test_declared_length_over_the_limit_is_refused_unread(world, settings):
    settings.GALLERIA_IMPORT_MAX_BYTES = 1024
    client = client_for(world, "group_admin")
    response = client.post(
        reverse("console:import_new"),
        {"file": SimpleUploadedFile("a.csv", b"phone\r\n" + b"13800138000\r\n" * 6000), "kind": "members",
         "source": "crm", "mall": world.mall.pk},
    )  # fmt: skip
    assert response.status_code == 413
    assert not ImportJob.objects.exists()


def test_a_stuck_dry_run_can_be_restarted_from_its_page(world, django_capture_on_commit_callbacks):
    client = client_for(world, "group_admin")
    data = "手机号,姓名\r\n13800138000,张三\r\n".encode()
    client.post(
        reverse("console:import_new"),
        {"file": SimpleUploadedFile("m.csv", data), "kind": "members", "source": "crm", "mall": world.mall.pk},
    )
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.CHECKING, mapping={"phone": 0, "name": 1})
    page = client.get(reverse("console:import", args=[job.pk])).content.decode()
    assert 'data-testid="restart-dry-run"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("console:import_dry_run", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED and job.dry_attempt == 1 and job.dry_counts == {"created": 1}
    page = client.get(reverse("console:import", args=[job.pk])).content.decode()
    assert 'data-testid="restart-dry-run"' not in page
    # once checked there is nothing to restart: refused with a message, nothing changes
    response = client.post(reverse("console:import_dry_run", args=[job.pk]), follow=True)
    assert "Only a dry run in progress can be restarted." in response.content.decode()
    job.refresh_from_db()
    assert job.dry_attempt == 1 and Member.objects.count() == 0
