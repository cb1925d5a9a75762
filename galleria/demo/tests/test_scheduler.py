import io
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from galleria.core.management.commands import scheduler
from galleria.core.management.commands.scheduler import JOBS, Job, check_jobs


def run(*args) -> str:
    out = io.StringIO()
    call_command("scheduler", *args, stdout=out)
    return out.getvalue()


def test_the_table_is_valid():
    check_jobs(JOBS)
    assert any(job.command == "prune_db_task_results" for job in JOBS)


def test_list_shows_every_job_with_its_next_run():
    text = run("--list")
    for job in JOBS:
        assert job.name in text and job.cron in text and job.command in text
    assert "CST" in text and "Asia/Shanghai" in text


def test_crontab_prints_equivalent_cron_lines():
    text = run("--crontab")
    assert "CRON_TZ=Asia/Shanghai" in text and "DJANGO_SETTINGS_MODULE=" in text
    for job in JOBS:
        assert any(line.startswith(f"{job.cron} ") and job.command in line for line in text.splitlines())


def test_once_runs_the_job_now(db, settings, monkeypatch):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    run("--once", "prune-task-results")
    calls = []
    monkeypatch.setattr(scheduler, "JOBS", [Job("probe", "*/5 * * * *", "check", ("--deploy",))])
    monkeypatch.setattr(scheduler, "call_command", lambda *a, **k: calls.append(a))
    run("--once", "probe")
    assert calls == [("check", "--deploy")]


def test_once_refuses_an_unknown_job():
    with pytest.raises(CommandError, match="no job 'nope'"):
        run("--once", "nope")


@pytest.mark.parametrize(
    ("jobs", "message"),
    [
        ([Job("a", "0 3 * * *", "no_such_command")], "unknown management command"),
        ([Job("a", "0 25 * * *", "check")], "bad crontab"),
        ([Job("a", "0 3 * * *", "check"), Job("a", "0 4 * * *", "check")], "duplicate job names"),
    ],
)
def test_a_bad_table_is_refused(jobs, message):
    with pytest.raises(CommandError, match=message):
        check_jobs(jobs)


def test_a_failing_job_is_logged_and_the_scheduler_goes_on(monkeypatch, caplog):
    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(scheduler, "call_command", boom)
    thread = threading.Thread(target=scheduler._run_scheduled, args=(Job("probe", "* * * * *", "check"),))
    thread.start()  # as in the scheduler: a pool thread with its own database connection
    thread.join()
    assert "job probe: failed" in caplog.text and "RuntimeError: boom" in caplog.text
