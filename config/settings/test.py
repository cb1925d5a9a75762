"""Test settings: fast hashing, tasks run inline, plain static storage for the browser tests."""

from .base import *  # noqa: F403
from .base import GALLERIA_WALLET_REFUND_GATEWAYS, STORAGES, env

DEBUG = False
# Tests read English by default (assertions on UI text); tests/test_translations.py checks the zh-Hans default.
LANGUAGE_CODE = "en"
GALLERIA_SANDBOX_PAYMENTS = True
SECRET_KEY = "test-secret-key-not-for-production-0123456789"
GALLERIA_MEMBER_CODE_KEY = "test-member-code-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
ALLOWED_HOSTS = ["*"]
DATABASES = {"default": env.db("DATABASE_URL", default="sqlite:///:memory:")}
DATABASES["default"]["CONN_MAX_AGE"] = 0
# API rate limits off (one test process sends thousands of requests from 127.0.0.1); their tests turn them on
GALLERIA_API_RATES = {}

# the wallet's own tests pay their top-ups at a test double (galleria/wallet/tests/fakes.py)
GALLERIA_WALLET_REFUND_GATEWAYS = {**GALLERIA_WALLET_REFUND_GATEWAYS, "fake": "galleria.wallet.tests.fakes.FakeGateway"}
