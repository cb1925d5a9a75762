"""The docs/api.md webhook verification snippets, run for real: a member joins, the worker delivers the event to a
local receiver, and the Python snippet (exec'd as written) and the JavaScript one (run by node) accept the request
as received — and refuse it with another secret or a changed body."""

from __future__ import annotations

import base64
import os
import re
import subprocess
from pathlib import Path

import pytest

from galleria.webhooks import services

from .helpers import endpoint, member
from .receiver import receiver

DOC = (Path(__file__).resolve().parents[3] / "docs" / "api.md").read_text(encoding="utf-8")
pytestmark = pytest.mark.django_db


def _snippet(lang: str) -> str:
    match = re.search(rf"## Webhooks\n.*?```{lang}\n(.*?)```", DOC, re.S)
    assert match, f"no {lang} snippet under ## Webhooks"
    return match.group(1)


@pytest.fixture
def delivered(world, settings):
    settings.GALLERIA_WEBHOOKS_ALLOW_HTTP = True
    with receiver() as rec:
        _eid, secret = endpoint(world, rec.url)
        member(world)
        services.deliveries_run()
        (req,) = rec.requests
    return secret, req.headers["x-galleria-signature"], req.body


def test_the_python_snippet_verifies_a_real_delivery(delivered):
    secret, header, body = delivered
    namespace: dict[str, object] = {}
    exec(compile(_snippet("python"), "docs/api.md", "exec"), namespace)
    verify = namespace["verify"]
    assert verify(secret, header, body) is True
    assert verify("whsec_other", header, body) is False
    assert verify(secret, header, body.replace(b"member.joined", b"member.erased")) is False


def test_the_javascript_snippet_verifies_a_real_delivery(delivered, tmp_path):
    secret, header, body = delivered
    script = tmp_path / "verify.js"
    script.write_text(
        _snippet("javascript")
        + "\nconst b = Buffer.from(process.env.BODY_B64, 'base64');"
        + "\nconsole.log(JSON.stringify([verify(process.env.SECRET, process.env.HEADER, b),"
        + " verify('whsec_other', process.env.HEADER, b),"
        + " verify(process.env.SECRET, process.env.HEADER, Buffer.concat([b, Buffer.from(' ')]))]));\n"
    )
    env = {**os.environ, "SECRET": secret, "HEADER": header, "BODY_B64": base64.b64encode(body).decode()}
    out = subprocess.run(["node", str(script)], capture_output=True, text=True, env=env, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[true,false,false]"
