# The console member list sorted by points walks this index (ledger.selectors.members_by_points; docs/performance.md,
# "Member search at 1,000,000 members").

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0005_wallet_cash_payout_kind"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="account",
            index=models.Index(
                condition=models.Q(("member__isnull", False)),
                fields=["kind", "balance", "member"],
                name="account_member_balance_idx",
            ),
        ),
    ]
