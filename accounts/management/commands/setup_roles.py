from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand

from accounts.roles import AUDITORS, COORDINATORS, role_group

THRIFT_MODELS = (
    "thriftgroup",
    "membership",
    "cycle",
    "round",
    "contribution",
    "payout",
    "positionswap",
)

# What a coordinator may do, scoped to their own groups by the admin and
# the services: run groups and places, record money through the actions.
COORDINATOR_PERMISSIONS = [
    ("accounts", "view_user"),
    ("accounts", "add_user"),
    ("accounts", "change_user"),
    ("thrift", "add_thriftgroup"),
    ("thrift", "change_thriftgroup"),
    ("thrift", "add_membership"),
    ("thrift", "change_membership"),
    ("thrift", "add_cycle"),
    ("thrift", "change_contribution"),
    ("thrift", "add_payout"),
    ("thrift", "add_positionswap"),
    *[("thrift", f"view_{model}") for model in THRIFT_MODELS],
]

AUDITOR_PERMISSIONS = [
    ("accounts", "view_user"),
    ("accounts", "view_role"),
    *[("thrift", f"view_{model}") for model in THRIFT_MODELS],
]


def grant(name: str, wanted: list[tuple[str, str]]) -> int:
    group = role_group(name)
    permissions = []
    for app_label, codename in wanted:
        permissions.append(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    group.permissions.set(permissions)
    return len(permissions)


class Command(BaseCommand):
    help = (
        "Create or refresh the Coordinators and Auditors roles and their permissions."
    )

    def handle(self, *args, **options):
        coordinators = grant(COORDINATORS, COORDINATOR_PERMISSIONS)
        auditors = grant(AUDITORS, AUDITOR_PERMISSIONS)
        self.stdout.write(
            f"Roles ready: {COORDINATORS} ({coordinators} permissions), "
            f"{AUDITORS} ({auditors} permissions)."
        )
