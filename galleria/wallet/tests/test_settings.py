"""The sandbox payment gateway is on where the demo runs and off in production, decided by each settings module
(a default taken from DEBUG in base.py would be base's DEBUG, before dev.py turns DEBUG on)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

SECRETS = {"SECRET_KEY": "x" * 40, "GALLERIA_MEMBER_CODE_KEY": "y" * 40}


def setting_in(module: str, name: str, **env: str) -> object:
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", name, "DJANGO_SETTINGS_MODULE")}
    code = f"import json; from django.conf import settings; print(json.dumps(settings.{name}))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **SECRETS, **env, "DJANGO_SETTINGS_MODULE": module},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("module", "env", "expected"),
    [
        ("config.settings.dev", {}, True),  # the demo tops up through the sandbox
        ("config.settings.dev", {"DEBUG": "false"}, False),  # a dev server with DEBUG off: off unless asked
        ("config.settings.dev", {"DEBUG": "false", "GALLERIA_SANDBOX_PAYMENTS": "true"}, True),
        ("config.settings.production", {}, False),
        ("config.settings.production", {"GALLERIA_SANDBOX_PAYMENTS": "true"}, True),  # a staging demo, on purpose
    ],
)
def test_sandbox_payments_per_settings_module(module, env, expected):
    assert setting_in(module, "GALLERIA_SANDBOX_PAYMENTS", **env) is expected
