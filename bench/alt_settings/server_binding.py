"""Production settings with psycopg 3 server-side parameter binding: the driver sends parameters apart from the SQL
(no client-side quoting) and prepares a statement it has run 5 times on a connection (psycopg's prepare_threshold),
so PostgreSQL stops parsing and planning the sale's ~30 fixed-shape statements on every request."""

from config.settings.production import *  # noqa: F403
from config.settings.production import DATABASES

DATABASES["default"]["OPTIONS"] = {**DATABASES["default"].get("OPTIONS", {}), "server_side_binding": True}
