"""Configuration-change triggers (see galleria/core/config_triggers.py)."""

from django.db import migrations

from galleria.core import config_triggers

TABLES = {'points_pointspolicy': 'mall_group_id', 'points_earnrule': 'mall_group_id', 'points_pointscampaign': 'mall_group_id', 'points_behaviourrule': 'mall_group_id'}


def forwards(apps, schema_editor):
    config_triggers.install(schema_editor, TABLES)


def backwards(apps, schema_editor):
    config_triggers.uninstall(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [("points", "0002_behaviouraward_behaviourrule_expirynotice_and_more"), ("malls", "0003_config_triggers")]
    operations = [migrations.RunPython(forwards, backwards)]
