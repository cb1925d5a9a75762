"""Configuration-change triggers (see galleria/core/config_triggers.py): templates and promotions are read from
the per-process cache on the sale path (stock lives in CouponStockShard, which has no trigger)."""

from django.db import migrations

from galleria.core import config_triggers

TABLES = {"coupons_coupontemplate": "mall_group_id", "coupons_promotion": "mall_group_id"}


def forwards(apps, schema_editor):
    config_triggers.install(schema_editor, TABLES)


def backwards(apps, schema_editor):
    config_triggers.uninstall(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [("coupons", "0001_initial"), ("malls", "0003_config_triggers")]
    operations = [migrations.RunPython(forwards, backwards)]
