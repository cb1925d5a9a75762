from django.db import migrations


def close_merged(apps, schema_editor):
    """Accounts of members merged before ledger accounts could be closed are closed as of their merge."""
    Account = apps.get_model("ledger", "Account")
    MergeRecord = apps.get_model("dedupe", "MergeRecord")
    for absorbed_id, merged_at in MergeRecord.objects.filter(status="merged").values_list("absorbed_id", "merged_at"):
        Account.objects.filter(member_id=absorbed_id, closed_at__isnull=True).update(closed_at=merged_at)


class Migration(migrations.Migration):
    dependencies = [
        ("dedupe", "0001_initial"),
        ("ledger", "0004_account_closed_at"),
    ]

    operations = [migrations.RunPython(close_merged, migrations.RunPython.noop)]
