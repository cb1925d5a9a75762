"""Settings for bench/sale_cpu.py: the test settings plus the baseline app (its unmanaged tables are created by
the script), a persistent connection as in production, and a URLconf with both the product and the baseline."""

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.baseline.apps.BaselineConfig"]
ROOT_URLCONF = "bench.sale_cpu_urls"
ALLOWED_HOSTS = ["*"]
DATABASES["default"]["CONN_MAX_AGE"] = 600
