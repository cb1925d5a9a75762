"""Imports end to end through the services: dry run, real run, idempotency, balances, tiers, past sales, bad files."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from galleria.audit.models import AuditEvent
from galleria.core import timeutil
from galleria.imports import files, services
from galleria.imports.exceptions import FileRefusedError, ImportFileDeletedError, MappingInvalidError
from galleria.imports.models import ImportJob, ImportRow, ImportStatus, OpeningBalance, Phase
from galleria.ledger.models import Account, AccountKind, Entry, Transaction, TransactionKind
from galleria.ledger.selectors import ledger_check
from galleria.members.models import Consent, IdentifierKind, Member, MemberIdentifier
from galleria.members.services import member_register
from galleria.points.models import PointsLot
from galleria.tiers.models import MemberTier, TierChange, TierSpend
from galleria.tiers.services import tier_ladder_ensure_default

from .helpers import ACTOR, csv_bytes, dry, full, run, upload, xlsx_bytes

pytestmark = pytest.mark.django_db

HEAD = ["手机号", "姓名", "性别", "生日", "卡号", "车牌", "积分", "积分有效期", "等级", "入会日期"]
NEXT_YEAR = dt.date.today().year + 1


def business_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Member, MemberIdentifier, Consent, Account, Transaction, Entry, PointsLot, MemberTier,
                      TierChange, TierSpend, OpeningBalance)
    }  # fmt: skip


def outcomes(job: ImportJob, phase: str = Phase.REAL) -> dict[int, tuple[str, str]]:
    return {r.line: (r.outcome, r.code) for r in ImportRow.objects.filter(job=job, phase=phase)}


@pytest.fixture
def ladder(world):
    return tier_ladder_ensure_default(mall_group_id=world.group.pk)


def test_dry_run_writes_nothing_and_reports_every_row(world, ladder):
    existing = member_register(mall=world.mall, phone="13900139000", channel="desk", actor=ACTOR)
    data = csv_bytes(
        [
            HEAD,
            ["13800138000", "张三", "男", "1990-01-02", "A1001", "粤B12345", "1200", f"{NEXT_YEAR}-06-30", "金卡", "2020-05-01"],  # noqa: E501
            ["139 0013 9000", "李四", "女", "", "", "", "", "", "", ""],
            ["12345", "坏号码", "", "", "", "", "", "", "", ""],
            ["13700137000", "", "", "1990-13-01", "", "", "", "", "", ""],
            ["13600136000", "", "", "", "", "", "-5", "", "", ""],
            ["13500135000", "", "", "", "", "", "", "", "钻石卡", ""],
            ["13400134000", "=HYPERLINK(\"x\")", "", "", "", "", "", "", "", ""],
            ["13800138000", "重复", "", "", "", "", "", "", "", ""],
            ["13300133000", "", "", "", "A1001", "", "", "", "", ""],
            ["", "", "", "", "", "", "", "", "", ""],
        ]
    )  # fmt: skip
    job = upload(world, data)
    assert job.mapping["phone"] == 0 and job.mapping["tier"] == 8
    before = business_counts()
    job = dry(job)
    assert business_counts() == before
    rows = outcomes(job, Phase.DRY)
    assert rows[2] == ("created", "")
    assert rows[3] == ("updated", "")  # the existing member gets a name and a gender
    assert rows[4] == ("error", "phone_invalid")
    assert rows[5] == ("error", "date_invalid")
    assert rows[6] == ("error", "points_negative")
    assert rows[7] == ("error", "tier_unknown")
    assert rows[8] == ("error", "formula")
    assert rows[9] == ("duplicate", "phone_in_file")
    assert rows[10] == ("duplicate", "card_taken")
    assert 11 not in rows  # blank row skipped
    assert job.status == ImportStatus.CHECKED
    assert job.dry_counts == {"created": 1, "updated": 1, "error": 5, "duplicate": 2}
    assert job.rows_total == 9
    existing.refresh_from_db()
    assert existing.name == ""


def test_real_run_creates_members_balance_lot_tier_and_is_idempotent(world, ladder):
    gold = next(level for level in ladder if level.name == "金卡")
    data = csv_bytes(
        [
            HEAD,
            ["13800138000", "张三", "男", "1990-01-02", "A1001", "粤B12345", "1,200", f"{NEXT_YEAR}-06-30", "金卡", "2020-05-01"],  # noqa: E501
            ["13900139000", "李四", "女", "", "", "", "300", "", "", ""],
        ]
    )  # fmt: skip
    job = full(world, data)
    assert job.status == ImportStatus.DONE
    assert job.counts == {"created": 2}
    zhang = Member.objects.get(phone="+8613800138000")
    assert (zhang.name, zhang.gender, zhang.birthday, zhang.join_channel) == (
        "张三",
        "male",
        dt.date(1990, 1, 2),
        "import",
    )
    assert timeutil.local_date(zhang.created_at, world.mall.timezone) == dt.date(2020, 5, 1)
    kinds = set(MemberIdentifier.objects.filter(member=zhang).values_list("kind", "value"))
    assert (IdentifierKind.PHYSICAL_CARD, "A1001") in kinds and (IdentifierKind.PLATE, "粤B12345") in kinds
    assert any(k == IdentifierKind.CARD and v == zhang.card_no for k, v in kinds)
    account = Account.objects.get(member=zhang, kind=AccountKind.MEMBER_POINTS)
    assert account.balance == 1200
    tx = Transaction.objects.get(kind=TransactionKind.IMPORT, entries__account=account)
    legs = {e.account.kind: e.amount for e in tx.entries.select_related("account")}
    assert legs == {AccountKind.MEMBER_POINTS: 1200, AccountKind.POINTS_ISSUED: -1200}
    lot = PointsLot.objects.get(member=zhang)
    assert (lot.points, lot.remaining, lot.expires_on) == (1200, 1200, dt.date(NEXT_YEAR, 6, 30))
    li = Member.objects.get(phone="+8613900139000")
    lot_li = PointsLot.objects.get(member=li)
    assert lot_li.expires_on == dt.date(timeutil.local_date(timeutil.now(), None).year + 1, 12, 31)  # the policy
    assert MemberTier.objects.get(member=zhang).level == gold
    change = TierChange.objects.get(member=zhang)
    assert (change.reason, change.to_level) == ("import", gold)
    assert TierChange.objects.get(member=li).reason == "join"
    assert ledger_check(mall_group_id=world.group.pk).ok
    call_command("ledger", "check", stdout=io.StringIO())  # `galleria ledger check`: raises CommandError on drift
    assert AuditEvent.objects.filter(action="import.start", target_id=str(job.pk)).exists()
    assert AuditEvent.objects.filter(action="import.finish", target_id=str(job.pk)).exists()

    # the same file again: nothing new, every row unchanged
    counts = business_counts()
    again = full(world, data)
    assert again.counts == {"unchanged": 2}
    assert business_counts() == counts
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_existing_member_updated_balance_once_per_source(world, ladder):
    member = member_register(
        mall=world.mall, phone="13800138000", channel="desk", actor=ACTOR, profile={"name": "旧名"}
    )
    data = csv_bytes([["phone", "name", "points", "tier"], ["13800138000", "新名", "500", "银卡"]])
    job = full(world, data)
    assert job.counts == {"updated": 1}
    member.refresh_from_db()
    assert member.name == "旧名"  # data the member already has is never overwritten
    assert Account.objects.get(member=member, kind=AccountKind.MEMBER_POINTS).balance == 500
    assert TierChange.objects.filter(member=member, reason="import").count() == 1
    # another file of the same source system: the balance is not posted twice
    job2 = full(world, csv_bytes([["phone", "points"], ["13800138000", "700"]]))
    assert job2.counts == {"unchanged": 1}
    assert OpeningBalance.objects.filter(member=member).count() == 1
    # another source system: a second opening balance
    job3 = full(world, csv_bytes([["phone", "points"], ["13800138000", "700"]]), source="parking")
    assert job3.counts == {"updated": 1}
    assert Account.objects.get(member=member, kind=AccountKind.MEMBER_POINTS).balance == 1200
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_opening_balance_unique_constraint_backs_idempotency(world, ladder):
    job = full(world, csv_bytes([["phone", "points"], ["13800138000", "100"]]))
    balance = OpeningBalance.objects.get()
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        OpeningBalance.objects.create(
            mall_group_id=world.group.pk,
            member_id=balance.member_id,
            source=balance.source,
            job=job,
            points=5,
            transaction_id=balance.transaction_id,
        )


def test_gbk_csv_and_utf8_bom(world, ladder):
    rows = [["手机号", "姓名", "会员等级"], ["13800138000", "张三丰", "金卡"]]
    job = upload(world, csv_bytes(rows, encoding="gbk"))
    assert job.encoding == files.GB
    assert job.headers == ["手机号", "姓名", "会员等级"]
    run(dry(job))
    assert Member.objects.get(phone="+8613800138000").name == "张三丰"
    job2 = upload(world, csv_bytes([["手机号", "姓名"], ["13900139000", "李四"]], bom=True))
    assert job2.encoding == files.UTF8 and job2.headers[0] == "手机号"


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (bytes(range(256)) * 50, "garbage.csv", "not readable text"),
        (b"PK\x03\x04" + b"\x00" * 100, "x.csv", "XLSX"),
        (b"13800138000,zhang\r\n13900139000,li\r\n", "noheader.csv", "header row"),
        ("手机号,姓名, 手机号 \r\n138,a,b\r\n".encode(), "dup.csv", "more than once"),
        ((",".join(f"c{i}" for i in range(100)) + "\r\n").encode(), "wide.csv", "columns"),
        (b"hello", "a.xls", "XLSX"),
        (b"not a zip", "a.xlsx", "not an XLSX"),
        (b"\r\n\r\n", "blank.csv", "no header"),
    ],
)
def test_malformed_files_are_refused_with_a_reason(world, data, name, message):
    with pytest.raises(FileRefusedError) as info:
        upload(world, data, name=name)
    assert message in str(info.value.message)
    assert not ImportJob.objects.exists()


def test_size_limit_refused_before_reading(world, settings, tmp_path):
    settings.GALLERIA_IMPORT_MAX_BYTES = 200 * 1024 * 1024
    big = tmp_path / "big.csv"
    with big.open("wb") as handle:  # a sparse 201 MB file: nothing is committed, nothing much is written
        handle.truncate(201 * 1024 * 1024)

    class Exploding:
        def read(self, n: int) -> bytes:
            raise AssertionError("the file was read")

    with pytest.raises(FileRefusedError) as info:
        services.import_upload(
            mall_group_id=world.group.pk,
            kind="members",
            filename="big.csv",
            stream=Exploding(),
            size=big.stat().st_size,
            actor=ACTOR,
        )
    assert "200 MB" in str(info.value.message)
    # a stream without a declared size is cut off at the limit while it is copied
    settings.GALLERIA_IMPORT_MAX_BYTES = 1024 * 1024
    with big.open("rb") as handle, pytest.raises(FileRefusedError):
        services.import_upload(
            mall_group_id=world.group.pk, kind="members", filename="big.csv", stream=handle, size=None, actor=ACTOR
        )
    assert not list((tmp_path / "imports").glob("*"))


def test_a_million_blank_rows_stop_reading(world, settings):
    settings.GALLERIA_IMPORT_MAX_BLANK_ROWS = 1000
    data = b"phone,name\r\n13800138000,a\r\n" + b",\r\n" * 1_000_000 + b"13900139000,b\r\n"
    job = dry(upload(world, data))
    assert job.rows_total == 1
    assert job.notes == ["blank_rows"]


def test_xlsx_formulas_merged_cells_and_dates(world, ladder):
    rows = [
        ["手机号", "姓名", "生日", "积分"],
        [13800138000, "张三", dt.datetime(1990, 1, 2), 100],
        [13900139000, "=A1", None, 10],
        [13700137000, "王五", None, "=1+1"],
        [13600136000, "合并", None, None],
        [None, None, None, None],
        [13500135000, "赵六", "1991/2/3", 5.0],
    ]
    job = upload(world, xlsx_bytes(rows, merge="B5:B6"), name="m.xlsx")
    dry(job)
    got = outcomes(job, Phase.DRY)
    assert got[2] == ("created", "")
    assert got[3] == ("error", "formula")
    assert got[4] == ("error", "formula")
    assert got[5] == ("error", "merged")
    assert got[7] == ("created", "")
    run(job)
    assert Member.objects.get(phone="+8613800138000").birthday == dt.date(1990, 1, 2)
    assert Account.objects.get(member__phone="+8613500135000", kind=AccountKind.MEMBER_POINTS).balance == 5


def test_mapping_adjusted_and_validated(world):
    job = upload(world, csv_bytes([["联系方式", "客户"], ["13800138000", "张三"]]))
    assert "phone" not in job.mapping
    with pytest.raises(MappingInvalidError):
        services.import_dry_run(job_id=job.pk)
    with pytest.raises(MappingInvalidError):
        services.import_set_mapping(job_id=job.pk, mall_group_id=world.group.pk, mapping={"name": 1}, actor=ACTOR)
    services.import_set_mapping(
        job_id=job.pk, mall_group_id=world.group.pk, mapping={"phone": 0, "name": 1}, actor=ACTOR
    )
    job = run(dry(ImportJob.objects.get(pk=job.pk)))
    assert Member.objects.get(phone="+8613800138000").name == "张三"


def test_past_sales_qualify_a_tier(world, ladder):
    silver = next(level for level in ladder if level.name == "银卡")
    member = member_register(mall=world.mall, phone="13800138000", channel="desk", actor=ACTOR)
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    today = timeutil.local_date(timeutil.now(), world.mall.timezone)
    recent = (today - dt.timedelta(days=30)).isoformat()
    threshold_yuan = silver.threshold // 100
    rows = [
        ["手机号", "商户", "消费日期", "金额"],
        ["13800138000", "喜茶", recent, f"{threshold_yuan}.00"],
        ["13800138000", "喜茶", "2015-01-01", "99999"],  # outside the rolling window: recorded, not qualifying
        ["13900139000", "喜茶", recent, "10"],  # not a member
        ["13800138000", "不存在的店", recent, "10"],
        ["13800138000", "喜茶", recent, f"{threshold_yuan}.00"],  # the same sale twice in the file: counted twice
    ]
    job = full(world, csv_bytes(rows), kind="sales", name="sales.csv")
    got = outcomes(job)
    assert [got[n] for n in (2, 3, 4, 5, 6)] == [
        ("created", ""), ("created", ""), ("error", "member_unknown"), ("error", "merchant_unknown"), ("created", ""),
    ]  # fmt: skip
    assert TierSpend.objects.filter(member=member).count() == 3
    tier = MemberTier.objects.get(member=member)
    assert tier.level.rank >= silver.rank
    assert TierChange.objects.filter(member=member, reason="upgrade").exists()
    again = full(world, csv_bytes(rows), kind="sales", name="sales.csv")
    assert again.counts == {"unchanged": 3, "error": 2}
    assert TierSpend.objects.filter(member=member).count() == 3


def test_resume_after_a_crash_mid_run(world, ladder, settings, monkeypatch):
    settings.GALLERIA_IMPORT_BATCH_ROWS = 10
    rows = [["phone", "name", "points"]] + [[f"138{i:08d}", f"会员{i}", 10] for i in range(35)]
    job = dry(upload(world, csv_bytes(rows)))
    from galleria.imports.services import jobs, process

    real = process.process_batch
    calls = {"n": 0}

    def crash_on_third(batch, ctx, *, phase, write):
        calls["n"] += 1
        if calls["n"] == 3:
            real(batch, ctx, phase=phase, write=write)  # the batch writes, then the process dies
            raise RuntimeError("worker killed")
        return real(batch, ctx, phase=phase, write=write)

    monkeypatch.setattr(jobs, "process_batch", crash_on_third)
    services.import_start(job_id=job.pk, mall_group_id=world.group.pk, actor=ACTOR)
    with pytest.raises(RuntimeError):
        services.import_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING
    assert (job.rows_done, Member.objects.count()) == (20, 20)  # the crashed batch rolled back entirely
    monkeypatch.setattr(jobs, "process_batch", real)
    services.import_start(job_id=job.pk, mall_group_id=world.group.pk, actor=ACTOR)
    assert AuditEvent.objects.filter(action="import.resume", target_id=str(job.pk)).exists()
    services.import_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert job.counts == {"created": 35}
    assert Member.objects.count() == 35
    assert ImportRow.objects.filter(job=job, phase=Phase.REAL).count() == 35
    assert Account.objects.filter(kind=AccountKind.MEMBER_POINTS, balance=10).count() == 35
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_a_batch_that_collides_is_retried_then_the_job_fails(world, ladder, monkeypatch):
    """A unique constraint firing in a batch (a concurrent registration took a phone or card) rolls the batch back
    and retries it; after RETRIES collisions the job stops as failed, resumable, with nothing half-written."""
    from django.db import IntegrityError

    from galleria.imports.services import jobs, process

    job = dry(upload(world, csv_bytes([["phone", "name", "points"], ["13800138000", "张三", "50"]])))
    real = process._write_members
    state = {"fail": 1}

    def collide(plans, ctx):
        real(plans, ctx)  # the batch writes everything, then a constraint fires
        if state["fail"]:
            state["fail"] -= 1
            raise IntegrityError("identifier_unique_in_group")

    monkeypatch.setattr(process, "_write_members", collide)
    job = run(job)
    assert job.status == ImportStatus.DONE and job.counts == {"created": 1}
    assert Member.objects.count() == 1 and PointsLot.objects.count() == 1
    assert ledger_check(mall_group_id=world.group.pk).ok

    job2 = dry(upload(world, csv_bytes([["phone", "points"], ["13900139000", "50"]])))
    state["fail"] = jobs.RETRIES
    services.import_start(job_id=job2.pk, mall_group_id=world.group.pk, actor=ACTOR)
    with pytest.raises(IntegrityError):
        services.import_run(job_id=job2.pk)
    job2.refresh_from_db()
    assert job2.status == ImportStatus.FAILED and job2.rows_done == 0
    assert not Member.objects.filter(phone="+8613900139000").exists()
    services.import_start(job_id=job2.pk, mall_group_id=world.group.pk, actor=ACTOR)
    services.import_run(job_id=job2.pk)
    job2.refresh_from_db()
    assert job2.status == ImportStatus.DONE
    assert Member.objects.filter(phone="+8613900139000").exists()


def test_start_enqueues_the_task(world, django_capture_on_commit_callbacks):
    job = dry(upload(world, csv_bytes([["phone"], ["13800138000"]])))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.import_start(job_id=job.pk, mall_group_id=world.group.pk, actor=ACTOR)
    # (a system ledger account created on the way adds its own on-commit callback)
    assert len([c for c in callbacks if c.__qualname__.startswith("import_start")]) == 1
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE  # the immediate task backend of the tests ran it
    assert Member.objects.filter(phone="+8613800138000").exists()


def test_group_scope_is_enforced(world):
    job = upload(world, csv_bytes([["phone"], ["13800138000"]]))
    with pytest.raises(ImportJob.DoesNotExist):
        services.import_set_mapping(
            job_id=job.pk, mall_group_id=world.other_group.pk, mapping={"phone": 0}, actor=ACTOR
        )


def test_a_restarted_dry_run_supersedes_the_stuck_one(world, settings, monkeypatch):
    """A dry run whose worker died leaves the import 'checking'; requesting it again bumps the attempt, the old
    worker (if it is in fact still going) stops at its next batch, and the new one owns the rows and counts."""
    settings.GALLERIA_IMPORT_BATCH_ROWS = 10
    rows = [["phone", "name"]] + [[f"138{i:08d}", f"会员{i}"] for i in range(25)]
    job = upload(world, csv_bytes(rows))
    first = services.import_dry_run_request(job_id=job.pk, mall_group_id=world.group.pk, actor=ACTOR)
    from galleria.imports.services import jobs, process

    real = process.process_batch
    calls = {"n": 0}

    def restart_after_first_batch(batch, ctx, *, phase, write):
        calls["n"] += 1
        if calls["n"] == 1:  # meanwhile, staff press "Restart the dry run" (what the request commits)
            ImportJob.objects.filter(pk=job.pk).update(dry_attempt=F("dry_attempt") + 1)
        return real(batch, ctx, phase=phase, write=write)

    monkeypatch.setattr(jobs, "process_batch", restart_after_first_batch)
    stale = services.import_dry_run(job_id=job.pk, attempt=first.dry_attempt)
    assert calls["n"] == 1  # stopped before processing its second batch
    assert stale.status == ImportStatus.CHECKING and stale.dry_attempt == first.dry_attempt + 1
    assert stale.rows_total == 10  # what the old attempt committed before it was superseded
    monkeypatch.setattr(jobs, "process_batch", real)
    assert services.import_dry_run(job_id=job.pk, attempt=first.dry_attempt).rows_total == 10  # a late start: no-op
    done = services.import_dry_run(job_id=job.pk, attempt=stale.dry_attempt)
    assert done.status == ImportStatus.CHECKED and done.dry_counts == {"created": 25} and done.rows_total == 25
    assert ImportRow.objects.filter(job=job, phase=Phase.DRY).count() == 25
    assert Member.objects.count() == 0


def test_the_uploaded_file_is_deleted_once_done_and_unfinished_ones_after_the_window(world, settings):
    """The file holds personal data of every row: a finished import keeps only its row reports; an abandoned one
    keeps its file GALLERIA_IMPORT_FILE_RETENTION_DAYS, then checking it again asks for a new upload."""
    settings.GALLERIA_IMPORT_FILE_RETENTION_DAYS = 30
    finished = full(world, csv_bytes([["phone"], ["13800138000"]]))
    assert finished.status == ImportStatus.DONE and finished.file_deleted_at is not None
    assert not services.job_path(finished).exists()
    assert ImportRow.objects.filter(job=finished, phase=Phase.REAL).count() == 1  # the result stays
    old = upload(world, csv_bytes([["phone"], ["13900139000"]]), name="old.csv")
    recent = upload(world, csv_bytes([["phone"], ["13700137000"]]), name="recent.csv")
    ImportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=31))

    assert services.import_files_purge() == 1
    assert services.import_files_purge() == 0  # idempotent

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.file_deleted_at is not None and not services.job_path(old).exists()
    assert recent.file_deleted_at is None and services.job_path(recent).exists()
    with pytest.raises(ImportFileDeletedError) as err:
        services.import_dry_run_request(job_id=old.pk, mall_group_id=world.group.pk, actor=ACTOR)
    assert err.value.code == "imports.file_deleted" and err.value.status == 409
    with pytest.raises(ImportFileDeletedError):
        services.import_dry_run(job_id=old.pk)
    call_command("imports_purge_files")  # the scheduler's command runs (nothing left to delete)
