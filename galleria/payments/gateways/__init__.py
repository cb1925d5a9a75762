"""Payment gateways: `gateway_for(config)` gives the adapter for one provider account (see `base.py` for the
contract, docs/payments.md for configuration).

Building an SDK client costs ~100 ms of RSA key loading, so adapters are cached per process per config (a frozen,
hashable dataclass: new credentials are a new config and get a new adapter). The cache is bounded; `gateway_cache_clear`
empties it (tests, credential rotation).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from .base import Gateway, GatewayConfig, Provider

__all__ = ["gateway_cache_clear", "gateway_for"]

_CACHE_SIZE = 32
_cache: OrderedDict[GatewayConfig, Gateway] = OrderedDict()
_lock = threading.Lock()


def _build(config: GatewayConfig) -> Gateway:
    if config.provider == Provider.WECHAT:
        from .wechat import WechatGateway

        return WechatGateway(config)
    if config.provider == Provider.ALIPAY:
        from .alipay import AlipayGateway

        return AlipayGateway(config)
    raise ValueError(f"unknown provider {config.provider!r}")


def gateway_for(config: GatewayConfig) -> Gateway:
    """The adapter for this account, built once per process (a WechatGateway is also a MallGateway)."""
    with _lock:
        cached = _cache.get(config)
        if cached is not None:
            _cache.move_to_end(config)
            return cached
        gateway = _build(config)  # under the lock: two threads must not both pay the construction cost
        _cache[config] = gateway
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
        return gateway


def gateway_cache_clear() -> None:
    with _lock:
        _cache.clear()
