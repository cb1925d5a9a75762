"""Imports in a real browser (zh-Hans): upload a GBK CSV → the mapping proposed from Chinese headers → dry run with
progress → report filtered to errors → import with a progress bar → result download.

The background worker is played by the test: enqueueing is switched off, the page polls (htmx) while the task is
queued, the test runs the task, and the page reloads itself with the final report.
Screenshots: var/screenshots/imports-*.png.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import Page, expect

from galleria.imports import services as import_services
from galleria.imports.models import ImportJob
from galleria.imports.services import jobs
from galleria.members.models import Member
from galleria.testing import PASSWORD
from galleria.tiers.services import tier_ladder_ensure_default

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _catalogue():
    call_command("compile_translations", verbosity=0)


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.GALLERIA_IMPORT_DIR = str(tmp_path / "imports")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"imports-{name}.png"), full_page=True)


def gbk_file(tmp_path: Path) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["手机号", "姓名", "性别", "生日", "积分", "积分有效期", "会员等级", "车牌号"])
    writer.writerow(["13800138000", "张三", "男", "1990-01-02", "1200", "2030-06-30", "金卡", "粤B12345"])
    writer.writerow(["13900139000", "李四", "女", "1988/3/4", "300", "", "银卡", ""])
    writer.writerow(["13700137000", "王五", "", "1990-13-01", "", "", "", ""])
    writer.writerow(["13600136000", '=HYPERLINK("http://x")', "", "", "", "", "", ""])
    writer.writerow(["13800138000", "张三重复", "", "", "", "", "", ""])
    path = tmp_path / "会员导出.csv"
    path.write_bytes(out.getvalue().encode("gbk"))
    return path


def test_upload_map_dry_run_import_download(browser, live_server, world, tmp_path, monkeypatch):
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    queued: list[str] = []
    monkeypatch.setattr(jobs, "enqueue", lambda path, **kwargs: queued.append(path))
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/console/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")

    page.click('[data-nav="imports"]')
    expect(page.get_by_test_id("import-list")).to_be_visible()
    page.get_by_test_id("new-import").click()
    page.set_input_files("#id_file", str(gbk_file(tmp_path)))
    page.fill("#id_source", "旧CRM")
    shot(page, "upload")
    page.get_by_test_id("upload").click()

    # mapping proposed from the Chinese header names, with a preview of the GBK file decoded
    expect(page.get_by_test_id("import-mapping")).to_be_visible()
    expect(page.locator("#id_phone")).to_have_value("0")
    expect(page.locator("#id_tier")).to_have_value("6")
    expect(page.locator("#id_plate")).to_have_value("7")
    expect(page.get_by_test_id("import-preview")).to_contain_text("张三")
    shot(page, "mapping")
    page.get_by_test_id("dry-run").click()

    # the dry run is queued: the status card polls; the "worker" runs it; the page reloads with the report
    expect(page.get_by_test_id("import-status")).to_have_attribute("data-status", "checking")
    job = ImportJob.objects.get()
    assert queued == [jobs.DRY_TASK]
    import_services.import_dry_run(job_id=job.pk)
    expect(page.get_by_test_id("import-status")).to_have_attribute("data-status", "checked", timeout=15_000)
    expect(page.get_by_test_id("count-created")).to_contain_text("2")
    expect(page.get_by_test_id("count-error")).to_contain_text("2")
    expect(page.get_by_test_id("count-duplicate")).to_contain_text("1")
    assert not Member.objects.exists()
    page.select_option("#id_outcome", "error")
    expect(page.locator('[data-testid="result-row"]')).to_have_count(2)
    shot(page, "dry-run")

    page.get_by_test_id("start-import").click()
    expect(page.get_by_test_id("import-progress")).to_be_visible()
    expect(page.get_by_test_id("import-status")).to_have_attribute("data-status", "queued")
    shot(page, "running")
    import_services.import_run(job_id=job.pk)
    expect(page.get_by_test_id("import-status")).to_have_attribute("data-status", "done", timeout=15_000)
    expect(page.get_by_test_id("import-progress")).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_test_id("count-created")).to_contain_text("2")
    shot(page, "done")
    assert Member.objects.count() == 2

    with page.expect_download() as info:
        page.get_by_test_id("download-result").click()
    text = Path(info.value.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 6
    assert [r[0] for r in rows[1:]] == ["2", "3", "4", "5", "6"]
    assert sorted(r[6] for r in rows[1:] if r[6]) == sorted(str(m.pk) for m in Member.objects.all())
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)
    context.close()
