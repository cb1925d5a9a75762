"""`galleria demo`: migrate, collect static files, seed the demo once, print where to go and how to log in, then
run the child processes — Django's development server on 127.0.0.1, a background-task worker, the scheduler,
the sandbox payment gateway (WeChat Pay / Alipay protocols, galleria.demo.payments) and the SMS sandbox (Aliyun /
Tencent Cloud SMS protocols, galleria.demo.sms) — until Ctrl-C or SIGTERM, which stops them all (so does any one of
them exiting)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from galleria.accounts.models import Role
from galleria.demo import catalog
from galleria.demo.loyalty import DEMO_KEY_LABEL
from galleria.demo.payments import SandboxPlan, sandbox_prepare
from galleria.demo.seed import is_seeded
from galleria.demo.sms import SmsSandboxPlan, sms_sandbox_prepare
from galleria.malls.models import MallGroup
from galleria.members import rules
from galleria.members.models import Member
from galleria.merchants.models import PosKey
from galleria.merchants.services import pos_key_secret

HOST = "127.0.0.1"
CHILDREN = (
    ("worker", ("db_worker", "--queue-name", "*", "--no-reload")),
    ("scheduler", ("scheduler",)),
)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def banner(port: int, sms: SmsSandboxPlan | None = None) -> str:
    base = f"http://{HOST}:{port}"
    group = MallGroup.objects.filter(code=catalog.GROUP_CODE).first()
    malls = "、".join(group.malls.order_by("pk").values_list("name", flat=True)) if group else ""
    lines = [
        "",
        f"  Galleria demo — {catalog.GROUP_NAME}（{malls}）",
        "",
        f"  Console (mall operator)   {base}/console/",
        f"  Merchant portal           {base}/merchant/",
        f"  Member app                {base}/app/",
        f"  API docs                  {base}/api/v1/docs",
        "",
        f"  Staff logins — every account's password is  {catalog.DEMO_PASSWORD}",
        "",
        f"  {'username':<16}{'role':<20}{'scope':<22}password",
    ]
    for spec in catalog.STAFF:
        if spec.merchant:
            scope = f"{spec.merchant[1]} · {next(m.name for m in catalog.MALLS if m.code == spec.merchant[0])}"
        else:
            scope = "all mall groups" if spec.role == Role.PLATFORM_ADMIN else catalog.GROUP_NAME
        label = str(Role(spec.role).label)
        lines.append(f"  {spec.username:<16}{_pad(label, 20)}{_pad(scope, 22)}{catalog.DEMO_PASSWORD}")
    key = PosKey.objects.filter(label=DEMO_KEY_LABEL, revoked_at__isnull=True).select_related("terminal").first()
    if key:
        lines += [
            "",
            f"  POS test terminal ({key.terminal.name}) — sign requests as docs/api.md describes:",
            f"    GALLERIA_API_BASE={base}/api/v1/pos/",
            f"    GALLERIA_KEY_ID={key.key_id}",
            f"    GALLERIA_KEY_SECRET={pos_key_secret(key)}",
        ]
    sample = Member.objects.filter(mall_group__code=catalog.GROUP_CODE).order_by("-created_at").first()
    if sample:
        lines += ["", f"  Member app: sign in with a member's phone, e.g. {rules.national_phone(sample.phone)}."]
        if sms is not None:
            lines.append(f"  Sign-in codes go to the SMS sandbox ({sms.provider}): {sms.base_url}/sandbox/outbox;")
            lines.append("  each is also printed in this terminal, on a line starting with >>>.")
        elif settings.GALLERIA_SMS_BACKEND in ("outbox", "galleria.messaging.sms.OutboxSmsBackend"):
            lines.append(
                "  No SMS is sent: each sign-in code is printed in this terminal, on a line starting with >>>."
            )
    return "\n".join([*lines, ""])


def collect_static() -> bool:
    """collectstatic, skipped when nothing changed since the last run (collecting and compressing the ECharts
    bundles takes ~10 s). Returns whether it ran."""
    root = Path(settings.STATIC_ROOT)
    stamp = root / ".galleria-collected"
    backend = str(settings.STORAGES["staticfiles"]["BACKEND"])
    if stamp.is_file() and stamp.read_text() == backend and stamp.stat().st_mtime >= _newest_static_source():
        return False
    call_command("collectstatic", interactive=False, verbosity=0)
    stamp.write_text(backend)
    return True


def _newest_static_source() -> float:
    newest = 0.0
    for finder in finders.get_finders():
        for path, storage in finder.list(["CVS", ".*", "*~"]):
            newest = max(newest, os.path.getmtime(storage.path(path)))
    return newest


def _pad(text: str, width: int) -> str:
    """ljust by display width: a CJK character takes two columns."""
    used = sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
    return text + " " * max(1, width - used)


class Command(BaseCommand):
    help = "Run the demo: migrate, collectstatic, seed once, then serve with a task worker and the scheduler."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default %(default)s)")
        parser.add_argument("--no-serve", action="store_true", help="stop after seeding and printing the banner")
        parser.add_argument(
            "--gateway-port",
            type=int,
            default=0,
            help="port of the sandbox payment gateway (default: the web port + 765, e.g. 8765)",
        )
        parser.add_argument(
            "--sms-port",
            type=int,
            default=0,
            help="port of the SMS sandbox (default: the gateway port + 1, e.g. 8766)",
        )
        parser.add_argument(
            "--members",
            type=int,
            default=catalog.DEFAULT_MEMBERS,
            help="members to seed the first time (default %(default)s)",
        )
        parser.add_argument(
            "--sales",
            type=int,
            default=catalog.DEFAULT_SALES,
            help="sales to seed the first time (default %(default)s)",
        )

    def handle(
        self,
        *args: Any,
        port: int,
        no_serve: bool,
        members: int,
        sales: int,
        gateway_port: int,
        sms_port: int,
        **options: Any,
    ) -> None:
        if not 1 <= port <= 65535:
            raise CommandError("--port must be 1–65535")
        gateway_port = gateway_port or port + 765
        if not 1 <= gateway_port <= 65535 or gateway_port == port:
            raise CommandError("--gateway-port must be 1–65535 and not the web port")
        sms_port = sms_port or gateway_port + 1
        if not 1 <= sms_port <= 65535 or sms_port in (port, gateway_port):
            raise CommandError("--sms-port must be 1–65535 and not the web or gateway port")
        self.stdout.write("Applying migrations and collecting static files…")
        call_command("migrate", interactive=False, verbosity=0)
        collect_static()
        if not is_seeded():
            self.stdout.write(f"Seeding the demo ({members} members, a year of {sales} sales)…")
            call_command("seed_demo", members=members, sales=sales, stdout=self.stdout)
        plan = sandbox_prepare(gateway_port)
        sms = sms_sandbox_prepare(sms_port, port)
        self.stdout.write(banner(port, sms))
        if plan is not None:
            self.stdout.write(
                f"  Payments: WeChat Pay and Alipay run against the sandbox gateway at {plan.base_url}"
                " (no real money; its cashier pages open when a member pays).\n"
            )
        if no_serve:
            return
        self._serve(port, plan, sms)

    def _serve(self, port: int, plan: SandboxPlan | None, sms: SmsSandboxPlan | None = None) -> None:
        ports = [port, *(int(p.base_url.rsplit(":", 1)[1]) for p in (plan, sms) if p is not None)]
        for taken in ports:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                try:
                    probe.bind((HOST, taken))
                except OSError as exc:
                    raise CommandError(f"{HOST}:{taken} is in use ({exc.strerror}); choose another port") from exc
        children: list[tuple[str, subprocess.Popen[bytes]]] = []
        previous = signal.signal(signal.SIGTERM, _interrupt)
        env = dict(os.environ, GALLERIA_PUBLIC_URL=f"http://{HOST}:{port}")  # where the gateway posts notifications
        if sms is not None:
            env.update(sms.env)  # every child sends its SMS through the sandbox (docs/messaging.md)
        try:
            if plan is not None:
                children.append(("payment gateway sandbox", subprocess.Popen(plan.argv, env=env)))  # noqa: S603
            if sms is not None:
                children.append(("SMS sandbox", subprocess.Popen(sms.argv, env=env)))  # noqa: S603
            for name, argv in (*CHILDREN, ("web server", ("runserver", "--noreload", f"{HOST}:{port}"))):
                command = [sys.executable, "-m", "galleria", *argv]
                children.append((name, subprocess.Popen(command, env=env)))  # noqa: S603
            while True:  # until Ctrl-C / SIGTERM, or one of the three exits
                exited = next(((name, p.returncode) for name, p in children if p.poll() is not None), None)
                if exited:
                    self.stderr.write(f"The {exited[0]} exited (status {exited[1]}); stopping the demo.")
                    break
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            self._stop(children)

    def _stop(self, children: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
        for _name, proc in children:
            if proc.poll() is None:
                proc.terminate()
        for name, proc in children:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in 15 s; killing it")
                proc.kill()
                proc.wait()
        self.stdout.write("Demo stopped.")
