"""The demo's payment gateways: the sandbox gateway process (WeChat Pay v3 + Alipay wire protocols, locally
generated keys) started beside the web server, and the demo group's credentials pointing at it.

`galleria demo` calls `sandbox_prepare(port)` before serving: the keys are generated once into var/sandbox/keys.json
(kept, so restarts keep working with trades already made), the credentials are (re)installed with the sandbox's
URL, and `sandbox_argv` is what the demo runs as a child process (its trades survive restarts in
var/sandbox/state.json). Notifications reach the demo's web server at GALLERIA_PUBLIC_URL, which the demo sets
for its children to its own address."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from galleria.audit.types import Actor
from galleria.demo import catalog
from galleria.merchants.selectors import mall_group_list, merchant_options
from galleria.payments.sandbox import keys as sandbox_keys
from galleria.payments.selectors import merchant_profile
from galleria.payments.services import merchant_profile_save, sandbox_credentials_install

HOST = "127.0.0.1"


@dataclass(frozen=True)
class SandboxPlan:
    argv: list[str]
    base_url: str
    keys_path: Path


def sandbox_dir() -> Path:
    path = Path(settings.GALLERIA_SANDBOX_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def sandbox_prepare(port: int) -> SandboxPlan | None:
    """Keys, credentials and the command line of the sandbox gateway; None when sandbox payments are off."""
    if not settings.GALLERIA_SANDBOX_PAYMENTS:
        return None
    folder = sandbox_dir()
    keys_path = folder / "keys.json"
    if not keys_path.exists():
        sandbox_keys.write(keys_path)
    keys = sandbox_keys.load(keys_path)
    base_url = f"http://{HOST}:{port}"
    group = mall_group_list(mall_group_id=None).filter(code=catalog.GROUP_CODE).first()
    if group is not None:
        sandbox_credentials_install(mall_group_id=group.pk, keys=keys, base_url=base_url, actor=Actor.system("demo"))
    argv = [sys.executable, "-m", "galleria.payments.sandbox", "serve", "--port", str(port)]
    argv += ["--keys", str(keys_path), "--state", str(folder / "state.json"), "--time-scale", "1"]
    return SandboxPlan(argv=argv, base_url=base_url, keys_path=keys_path)


def _mall_points_shops(*, group_id: int, actor: Actor) -> None:
    """The demo's 智慧商圈 shops: the first few merchants take WeChat Pay at their own tills under their own
    merchant numbers (10000001, …), so a payment there (sandbox control `mall-payment`) credits points."""
    for n, merchant in enumerate(merchant_options(mall_group_id=group_id).order_by("pk")[:6], start=1):
        if merchant_profile(merchant_id=merchant.pk) is None:
            merchant_profile_save(
                mall_group_id=group_id,
                merchant_id=merchant.pk,
                values={"pay_at_store": True, "wechat_mchid": f"{10000000 + n}", "wechat_shop_number": f"SHOP{n:03d}"},
                actor=actor,
            )
