"""The docs/api.md curl + openssl recipe, run for real against a live server."""

import re
import subprocess

import pytest

from galleria.audit.types import Actor
from galleria.merchants.models import PosTerminal
from galleria.merchants.services import pos_key_create
from galleria.sales.models import Sale

DOC = (__import__("pathlib").Path(__file__).resolve().parent.parent / "docs" / "api.md").read_text()


@pytest.mark.django_db(transaction=True)
def test_curl_openssl_recipe_commits_a_sale(live_server, world):
    terminal = PosTerminal.objects.create(store=world.store, name="docs")
    key, secret = pos_key_create(actor=Actor.system(), terminal_id=terminal.pk)
    script = re.search(r"### curl \+ openssl\n\n```bash\n(.*?)```", DOC, re.S).group(1)
    script = script.replace(
        "BASE=http://127.0.0.1:8000; KEY_ID=pk_…; SECRET=…",
        f"BASE={live_server.url}; KEY_ID={key.key_id}; SECRET='{secret}'",
    )
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert '"member_joined":true' in out.stdout.replace(" ", ""), out.stdout
    assert Sale.objects.filter(pos_sale_id="20261123-0002").exists()
