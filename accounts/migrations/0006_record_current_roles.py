"""Record each staff user's current roles in their history.

Roles were not kept in history before 0005. Without this row the first
change after it would read as if every role had just been granted.
"""

from django.db import migrations
from django.utils import timezone

ROUTE = "command: migrate (roles recorded)"
HISTORY_FIELDS = {
    "history_id",
    "history_date",
    "history_change_reason",
    "history_type",
    "history_user_id",
}


def record_current_roles(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    HistoricalUser = apps.get_model("accounts", "HistoricalUser")
    HistoricalRoles = apps.get_model("accounts", "HistoricalUser_groups")
    Through = User.groups.through
    copied = [
        f.attname
        for f in HistoricalUser._meta.concrete_fields
        if f.attname not in HISTORY_FIELDS
    ]
    now = timezone.now()
    holders = User.objects.filter(groups__isnull=False).distinct().order_by("pk")
    for user in holders:
        version = HistoricalUser.objects.create(
            history_date=now,
            history_type="~",
            history_change_reason=ROUTE,
            history_user_id=None,
            **{name: getattr(user, name) for name in copied},
        )
        HistoricalRoles.objects.bulk_create(
            HistoricalRoles(
                history=version, id=row.pk, user_id=row.user_id, group_id=row.group_id
            )
            for row in Through.objects.filter(user_id=user.pk).order_by("pk")
        )


def forget_recorded_roles(apps, schema_editor):
    HistoricalUser = apps.get_model("accounts", "HistoricalUser")
    HistoricalRoles = apps.get_model("accounts", "HistoricalUser_groups")
    # The roles rows point at their version without a database constraint,
    # so they go first and explicitly.
    HistoricalRoles.objects.filter(history__history_change_reason=ROUTE).delete()
    HistoricalUser.objects.filter(history_change_reason=ROUTE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_record_roles_in_user_history"),
    ]

    operations = [
        migrations.RunPython(record_current_roles, forget_recorded_roles),
    ]
