"""Which records a staff user may see: one rule for admin, imports and
reports alike."""

from django.db.models import QuerySet

from accounts.roles import sees_everything


def scope_to_user(qs: QuerySet, user, group_path: str = "group") -> QuerySet:
    """Limit `qs` to the groups `user` coordinates, unless they see all.

    `group_path` is the lookup from the queryset's model to ThriftGroup;
    an empty string means the queryset is of groups.
    """
    if sees_everything(user):
        return qs
    lookup = f"{group_path}__coordinator" if group_path else "coordinator"
    return qs.filter(**{lookup: user})
