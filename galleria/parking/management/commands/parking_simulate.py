"""`galleria parking_simulate`: a car park's system driving a running Galleria through the integration API.

    galleria parking_simulate --url http://127.0.0.1:8000 --key-file carpark.env --cars 300 --hours 12 --rate 50
    galleria parking_simulate --url … --key-id ck_… --secret … --car-park p1 --member-plates-from plates.txt

The stream (entries, plate corrections, pay-station payments, exit requests, booth payments when told to pay, exits,
occupancy reports, replays and late deliveries) comes from galleria.parking.simulation.simulate for the last --hours
hours (ending a few minutes ago, so every time is in the past as the API requires) and is sent, signed with the car
park's key exactly as docs/parking.md says, at --rate events a second (0: as fast as the server answers), for at most
--duration seconds. The key file is the settings block the console shows when it issues a key
(GALLERIA_API_BASE=…, GALLERIA_CAR_PARK=…, GALLERIA_KEY_ID=…, GALLERIA_KEY_SECRET=…).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from galleria.core import timeutil
from galleria.merchants.rules import canonical_target_of
from galleria.parking import rules
from galleria.parking.simulation import SimEvent, Tally, drive, simulate

API_PREFIX = "/api/v1/parking/"
MARGIN = dt.timedelta(minutes=6)  # the window ends this long ago: a car leaving at its end is still in the past


def read_key_file(path: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and name.startswith("GALLERIA_"):
            values[name] = value.strip()
    return values


def read_plates(path: str) -> list[str]:
    """Plates, one a line (blank lines and # comments skipped); a line that is not a plate is an error."""
    plates = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if text:
            try:
                plates.append(rules.normalize_plate(text))
            except rules.PlateError as exc:
                raise CommandError(f"{path}:{n}: not a plate ({exc.code}): {text}") from exc
    return plates


class Signer:
    """Signs requests as docs/api.md (and docs/parking.md) says: HMAC-SHA256 over five lines, a fresh nonce."""

    def __init__(self, base: str, key_id: str, secret: str, timeout: float = 30.0) -> None:
        self.base, self.key_id, self.secret, self.timeout = base.rstrip("/"), key_id, secret, timeout

    def call(self, method: str, target: str, payload: Any = None) -> tuple[int, dict[str, Any]]:
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        ts, nonce = str(int(time.time())), uuid.uuid4().hex
        to_sign = "\n".join([method, canonical_target_of(target), ts, nonce, hashlib.sha256(body).hexdigest()])
        headers = {
            "Content-Type": "application/json",
            "X-Galleria-Key": self.key_id,
            "X-Galleria-Timestamp": ts,
            "X-Galleria-Nonce": nonce,
            "X-Galleria-Signature": hmac.new(self.secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest(),
        }
        url = self.base + urllib.parse.quote(target, safe="/?=&")
        data = body if method == "POST" else None
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 - http(s) only
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - our own URL
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw or b"{}")
            except ValueError:
                return exc.code, {"code": f"http_{exc.code}", "status": exc.code}


def local_tariff(code: str) -> tuple[rules.Tariff | None, dt.tzinfo]:
    """The car park's tariff now and its mall's zone, when this process's database has that car park (the demo);
    otherwise no tariff (no pay-station payments) and Asia/Shanghai."""
    from galleria.parking import selectors

    try:
        park = selectors.car_park_list().filter(code=code).first() if code else None
        if park is None:
            return None, timeutil.zone("Asia/Shanghai")
        return selectors.tariff_in_force(car_park_id=park.pk, at=timezone.now()), selectors.car_park_tz(park)
    except Exception:  # no database here: simulate without a tariff
        return None, timeutil.zone("Asia/Shanghai")


class Command(BaseCommand):
    help = "Drive a running Galleria's car-park API with a simulated car park (entries, exits, payments, …)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url", default="", help="the server, e.g. http://127.0.0.1:8000 (default: the key file's)"
        )
        parser.add_argument("--key-id", default="")
        parser.add_argument("--secret", default="")
        parser.add_argument("--key-file", default="", help="the settings block the console showed with the key")
        parser.add_argument("--car-park", default="", help="the car park's code (checked against the key's)")
        parser.add_argument("--cars", type=int, default=200, help="cars over the window (200)")
        parser.add_argument("--hours", type=float, default=12.0, help="the simulated window, ending now (12)")
        parser.add_argument("--rate", type=float, default=20.0, help="events a second; 0 = as fast as answered (20)")
        parser.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds (0: all)")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--member-plates-from", default="", help="a file of members' plates, one a line")
        parser.add_argument("--dry-run", action="store_true", help="print the stream's summary, send nothing")

    def handle(self, *args: Any, **o: Any) -> None:
        keys = read_key_file(o["key_file"]) if o["key_file"] else {}
        url = o["url"] or keys.get("GALLERIA_API_BASE", "").split(API_PREFIX)[0]
        key_id = o["key_id"] or keys.get("GALLERIA_KEY_ID", "")
        secret = o["secret"] or keys.get("GALLERIA_KEY_SECRET", "")
        code = o["car_park"] or keys.get("GALLERIA_CAR_PARK", "")
        if not (1 <= o["cars"] <= 100_000 and 0 < o["hours"] <= 24 * 30 and o["rate"] >= 0 and o["duration"] >= 0):
            raise CommandError("out of range: --cars 1..100000, --hours 0..720, --rate >= 0, --duration >= 0")
        if not o["dry_run"] and not (url and key_id and secret):
            raise CommandError("give --url, --key-id and --secret (or --key-file)")
        plates = read_plates(o["member_plates_from"]) if o["member_plates_from"] else []
        signer = Signer(url, key_id, secret)
        zones: dict[str, int] = {"B1": 400}
        if not o["dry_run"]:
            status, state = signer.call("GET", API_PREFIX + "status" + (f"?car_park={code}" if code else ""))
            if status != 200:
                raise CommandError(f"GET status: {status} {state.get('code', '')} {state.get('title', '')}")
            code = state["code"]
            zones = {z["code"]: int(z["capacity"]) for z in state["zones"]}
            self.stdout.write(f"{state['name']} ({code}): {state['capacity']} spaces, {state['parked']} parked now")
        tariff, tz = local_tariff(code)
        end = timezone.now() - MARGIN
        stream = simulate(
            start=end - dt.timedelta(hours=o["hours"]),
            end=end,
            cars=o["cars"],
            seed=o["seed"],
            tz=tz,
            member_plates=plates,
            zones=zones,
            tariff=tariff,
        )
        kinds: dict[str, int] = {}
        for ev in stream:
            kinds[ev.kind] = kinds.get(ev.kind, 0) + 1
        self.stdout.write(f"{len(stream)} events for {o['cars']} cars over {o['hours']:g} h: {kinds}")
        if o["dry_run"]:
            return
        tally = self._send(stream, signer, rate=o["rate"], duration=o["duration"])
        self.stdout.write(f"sent {dict(tally.sent)}")
        self.stdout.write(f"outcomes {dict(sorted(tally.outcomes.items()))}")
        self.stdout.write(f"exit decisions {dict(sorted(tally.decisions.items()))}")
        self.stdout.write(f"booth payments {tally.booth_payments} (¥{tally.booth_fen / 100:.2f})")
        if tally.errors:
            self.stdout.write(self.style.WARNING(f"errors {dict(tally.errors)}"))

    def _send(self, stream: list[SimEvent], signer: Signer, *, rate: float, duration: float) -> Tally:
        started = time.monotonic()
        gap = 1.0 / rate if rate else 0.0
        sent = 0

        def send(ev: SimEvent) -> dict[str, Any]:
            nonlocal sent
            if gap:
                time.sleep(max(0.0, started + sent * gap - time.monotonic()))
            sent += 1
            _status, answer = signer.call("POST", API_PREFIX + ev.path, dict(ev.body))
            return answer

        def paced() -> Any:
            for ev in stream:
                if duration and time.monotonic() - started > duration:
                    self.stdout.write(f"stopped after {duration:g} s")
                    return
                yield ev

        return drive(paced(), send)
