"""Staff roles. Permissions themselves are granted by `setup_roles`."""

from django.contrib.auth.models import Group

COORDINATORS = "Coordinators"
AUDITORS = "Auditors"


def _in_group(user, name: str) -> bool:
    if not user.is_authenticated:
        return False
    cache = getattr(user, "_role_names", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        user._role_names = cache
    return name in cache


def is_auditor(user) -> bool:
    return _in_group(user, AUDITORS)


def is_coordinator(user) -> bool:
    return _in_group(user, COORDINATORS)


def sees_everything(user) -> bool:
    """Superusers and auditors see every group; coordinators their own."""
    return user.is_superuser or is_auditor(user)


def role_group(name: str) -> Group:
    return Group.objects.get_or_create(name=name)[0]
