"""`galleria scheduler`: the one long-running process that runs the periodic jobs.

Each job is a management command on a crontab schedule, listed in `JOBS` below: the scheduler (APScheduler's
BlockingScheduler) only decides *when*; the work is an ordinary command you can also run by hand or from cron.
Run exactly one scheduler per installation (two would run every job twice); a job that is still running when its
next turn comes is not started again, and missed turns (the process was down) are coalesced into one run.

    galleria scheduler                 # run forever
    galleria scheduler --list          # the table, with the next run of each job
    galleria scheduler --crontab       # the same table as system-cron lines (instead of this process)
    galleria scheduler --once NAME     # run one job now, in the foreground, and exit

Adding a job: append a `Job` to `JOBS` (core names commands by string, so any app's command can be scheduled
without core importing that app).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shlex
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections, connections

logger = logging.getLogger("galleria.scheduler")


@dataclass(frozen=True)
class Job:
    name: str
    cron: str  # five crontab fields (minute hour day month weekday), in the mall time zone
    command: str  # a management command
    args: tuple[str, ...] = ()

    def command_line(self, program: str = "galleria") -> str:
        return shlex.join([program, self.command, *self.args])


JOBS: list[Job] = [
    # Finished background-task rows (django-tasks-db) older than 14 days; failed ones are kept 30 days.
    Job(
        "prune-task-results",
        "17 3 * * *",
        "prune_db_task_results",
        ("--queue-name", "*", "--min-age-days", "14", "--failed-min-age-days", "30"),
    ),
    # Points lots past their last valid mall-local day; then "expiring within 30 days" events.
    Job("points-expire", "5 0 * * *", "points_expire"),
    # Tier grace periods, downgrades and override ends (instant upgrades happen at the sale).
    Job("tiers-reevaluate", "30 2 * * *", "tiers_reevaluate"),
    # Nonces older than twice the signature clock-skew window can no longer be replayed.
    Job("pos-prune-nonces", "*/10 * * * *", "pos_prune_nonces"),
    # The same for the car-park systems' signed requests (docs/parking.md, "Keys and signing").
    Job("parking-prune-nonces", "*/10 * * * *", "parking_prune_nonces"),
    # Vehicle licence photos unreviewed for 14 days: the claim expires and the photo is deleted.
    Job("parking-plate-claims-expire", "50 3 * * *", "parking_plate_claims_expire"),
    # Event seat offers not confirmed in time lapse to the next member on the waiting list (docs/events.md).
    Job("events-offers-lapse", "*/5 * * * *", "events_offers_lapse"),
    # Member services: the next two weeks of time slots from each service's weekly hours (docs/amenities.md).
    Job("amenities-slots-generate", "20 2 * * *", "amenities_slots_generate"),
    # Member profiles, RFM and automatic tags: the members who just bought every minute, everyone at night
    # (docs/marketing.md).
    Job("audience-refresh", "* * * * *", "audience_refresh"),
    Job("audience-rebuild", "20 2 * * *", "audience_rebuild"),
    # Daily sales rollups of the dashboards: the days touched by new sales and refunds every minute; the last three
    # days recomputed at night (anything the minute job could have missed) (docs/analytics.md).
    Job("analytics-refresh", "* * * * *", "analytics_refresh"),
    Job("analytics-rebuild", "10 3 * * *", "analytics_rebuild", ("--days", "3")),
    # Recommendations: a new model version per mall group from the shopping of the last two years, then its offline
    # scores on the last 30 days (docs/recommendations.md).
    Job("recommendations-train", "40 3 * * *", "recommendations_train", ("--evaluate",)),
    # Campaigns due or still sending (behind each campaign's own task: a lost task or a dead worker).
    Job("campaigns-run", "* * * * *", "campaigns_run"),
    Job("journeys-run", "* * * * *", "journeys_run"),
    # Webhook deliveries due (first tries, backoff retries, replays); SKIP LOCKED leases: safe on many machines.
    Job("webhooks-deliver", "* * * * *", "webhooks_deliver"),
    # Coupons past their validity become expired (the funnel's "expired"); batched, idempotent.
    Job("coupons-expire", "*/15 * * * *", "coupons_expire"),
    # Birthday coupons, once per member per year, for members whose mall-local birthday is today.
    Job("coupons-birthdays", "10 0 * * *", "coupons_birthdays"),
    # Account deletions whose cooling-off window has ended (PIPL erasure); idempotent, one member per transaction.
    Job("privacy-erasures", "40 * * * *", "privacy_erasures"),
    # Members inactive longer than GALLERIA_RETENTION_INACTIVE_DAYS are anonymised (0 = off); batched, idempotent.
    Job("privacy-retention", "50 3 * * *", "privacy_retention"),
    # Uploaded import files (personal data): a finished import's at once, an unfinished one's after the window.
    Job("imports-purge-files", "55 3 * * *", "imports_purge_files"),
    # SMS outbox rows (phone numbers, texts) older than GALLERIA_SMS_RETENTION_DAYS; queued ones stay.
    Job("sms-prune", "5 4 * * *", "sms_prune"),
    # SMS and e-mails whose retry is due (throttled, gateway down) and messages a crashed worker left half-sent:
    # the task re-enqueues itself with the database backend; this sweeps what an immediate backend could not defer.
    Job("sms-retry", "*/5 * * * *", "sms_retry"),
    # WeChat and web push messages whose retry is due (system busy, push service 429/5xx) or whose task never ran.
    Job("channels-retry", "*/5 * * * *", "channels_retry"),
    # Wallet refunds booked but not yet accepted by their payment gateway (it was down): sent again; idempotent.
    Job("wallet-refunds-send", "*/10 * * * *", "wallet_refunds_send"),
    # Receipt photos past the group's retention (decided receipts, abandoned drafts); the hashes stay.
    Job("receipts-purge-images", "25 4 * * *", "receipts_purge_images"),
    # Gateway payments nobody paid before their expiry are closed (after asking the gateway: a late payment is
    # applied); refunds the gateway has not accepted yet are sent again. Idempotent.
    Job("payments-sweep", "*/5 * * * *", "payments_sweep"),
    # Online checkouts not paid in time: the gateway payment closed (a late one applied), points, coupons and stock
    # released (docs/design/online-mall.md §10). One transaction per checkout, SKIP LOCKED: safe on many workers.
    Job("online-checkouts-expire", "* * * * *", "online_checkouts_expire"),
    # Paid online orders: auto-receive, uncollected pickups cancelled (refunded), completion after the return window
    # (earned points released), unanswered after-sales escalated. One transaction per order, SKIP LOCKED.
    Job("online-orders-progress", "*/10 * * * *", "online_orders_progress"),
    # Merchant statements of last month as drafts (days 1–8: offline uploads dated last month arrive late; a draft is
    # regenerated, a confirmed statement never changes and late legs go to a supplementary one). Idempotent.
    Job("settlement-generate", "30 1 1-8 * *", "settlement_generate"),
    # Gateway bills of the last three days (ready after 10:00 Beijing time) matched against our payments and refunds.
    Job("reconcile-bills", "30 10 * * *", "reconcile_bills", ("--days", "3")),
    # Paid pay-at-store payments whose merchant share (分账) has not started or finished: started or asked again.
    Job("profit-share-sweep", "*/10 * * * *", "profit_share_sweep"),
]


def scheduler_zone() -> ZoneInfo:
    return ZoneInfo(settings.GALLERIA_DEFAULT_MALL_TZ)


def trigger_for(job: Job) -> CronTrigger:
    try:
        return CronTrigger.from_crontab(job.cron, timezone=scheduler_zone())
    except ValueError as exc:
        raise CommandError(f"job {job.name!r}: bad crontab {job.cron!r}: {exc}") from exc


def check_jobs(jobs: list[Job]) -> None:
    names = [job.name for job in jobs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CommandError(f"duplicate job names: {', '.join(duplicates)}")
    known = get_commands()
    for job in jobs:
        if job.command not in known:
            raise CommandError(f"job {job.name!r}: unknown management command {job.command!r}")
        trigger_for(job)


def run_job(job: Job) -> None:
    """Run one job now, in the calling thread (`--once`, and the scheduler's pool threads through `_run_scheduled`)."""
    started = time.monotonic()
    logger.info("job %s: start (%s)", job.name, job.command_line())
    call_command(job.command, *job.args)
    logger.info("job %s: done in %.1f s", job.name, time.monotonic() - started)


def _run_scheduled(job: Job) -> None:
    """A scheduled run in a pool thread: its own database connection, closed afterwards; failures are logged and
    the next turn runs as scheduled."""
    close_old_connections()
    try:
        run_job(job)
    except Exception:
        logger.exception("job %s: failed", job.name)
    finally:
        connections.close_all()  # this thread's connections only


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run the periodic jobs (one process per installation), list them, or run one now."

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--list", action="store_true", dest="show_list", help="print the job table with each job's next run"
        )
        group.add_argument("--crontab", action="store_true", help="print the jobs as system-cron lines")
        group.add_argument("--once", metavar="JOB", help="run one job now and exit")

    def handle(self, *args: Any, show_list: bool, crontab: bool, once: str | None, **options: Any) -> None:
        jobs = JOBS
        check_jobs(jobs)
        if show_list:
            self._print_table(jobs)
        elif crontab:
            self._print_crontab(jobs)
        elif once is not None:
            job = next((j for j in jobs if j.name == once), None)
            if job is None:
                raise CommandError(f"no job {once!r}; jobs: {', '.join(j.name for j in jobs)}")
            run_job(job)
        else:
            self._run_forever(jobs)

    def _print_table(self, jobs: list[Job]) -> None:
        now = dt.datetime.now(tz=scheduler_zone())
        rows = [("job", "schedule", "next run", "command")]
        for job in jobs:
            upcoming = trigger_for(job).get_next_fire_time(None, now)
            rows.append((job.name, job.cron, f"{upcoming:%Y-%m-%d %H:%M %Z}" if upcoming else "-", job.command_line()))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            self.stdout.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[3])
        self.stdout.write(f"time zone: {settings.GALLERIA_DEFAULT_MALL_TZ}")

    def _print_crontab(self, jobs: list[Job]) -> None:
        program = Path(sys.executable).with_name("galleria")
        self.stdout.write(
            "# Galleria periodic jobs: install these OR run `galleria scheduler`, never both.\n"
            "# Other settings (DATABASE_URL, SECRET_KEY, …) come from the environment or the project's .env file.\n"
            f"CRON_TZ={settings.GALLERIA_DEFAULT_MALL_TZ}\n"
            f"DJANGO_SETTINGS_MODULE={os.environ.get('DJANGO_SETTINGS_MODULE', 'config.settings.production')}"
        )
        for job in jobs:
            line = job.command_line(str(program) if program.exists() else "galleria")
            self.stdout.write(f"{job.cron} {line}  # {job.name}")

    def _run_forever(self, jobs: list[Job]) -> None:
        scheduler = BlockingScheduler(
            timezone=scheduler_zone(),
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        )
        for job in jobs:
            scheduler.add_job(_run_scheduled, trigger_for(job), args=[job], id=job.name, name=job.name)
        signal.signal(signal.SIGTERM, _interrupt)
        logger.info("scheduler: %d job(s): %s", len(jobs), ", ".join(j.name for j in jobs))
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            logger.info("scheduler: stopping (waiting for running jobs)")
        finally:
            if scheduler.running:
                scheduler.shutdown(wait=True)
