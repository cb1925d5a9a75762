"""The settings under test (config.settings.production, or the module in BENCH_BASE_SETTINGS — see pos_bench.py
--settings) plus the baseline app and its one-view URLconf: same middleware, same database."""

import importlib
import os

_base = importlib.import_module(os.environ.get("BENCH_BASE_SETTINGS", "config.settings.production"))
globals().update({name: getattr(_base, name) for name in dir(_base) if name.isupper()})

INSTALLED_APPS = [*_base.INSTALLED_APPS, "bench.baseline.apps.BaselineConfig"]
ROOT_URLCONF = "bench.baseline.urls"
