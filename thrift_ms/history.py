"""History configuration shared by every audited model."""

from django.db import models
from simple_history.models import HistoricalRecords


class AuditedHistory(HistoricalRecords):
    """Historical records indexed for the audit log's filters.

    `history_date` and every foreign key (the acting user, the group) are
    indexed by django-simple-history already; these composite indexes serve
    "newest first within one user / group / kind of change", which is how
    the audit log reads them. History outlives its record.
    """

    def __init__(self, *, group_field: str | None = None, **kwargs):
        kwargs.setdefault("cascade_delete_history", False)
        self.group_field = group_field
        super().__init__(**kwargs)

    def get_meta_options(self, model):
        meta = super().get_meta_options(model)
        indexes = [
            models.Index(fields=["history_type", "history_date"]),
            models.Index(fields=["history_user", "history_date"]),
        ]
        if self.group_field:
            indexes.append(models.Index(fields=[self.group_field, "history_date"]))
        meta["indexes"] = (*meta.get("indexes", ()), *indexes)
        return meta

    def post_save(self, instance, created, using=None, **kwargs):
        # A save of untracked fields only (a login's last_login) has nothing
        # to record; a row for it would read as an empty change.
        update_fields = kwargs.get("update_fields")
        if update_fields and set(update_fields) <= set(self.excluded_fields):
            return
        super().post_save(instance, created, using=using, **kwargs)

    def m2m_changed(self, instance, action, attr, pk_set, reverse, **kwargs):
        model = kwargs["model"]
        # Adding a role the user already holds, or removing one they do not,
        # changes nothing and is not worth a row. Django names the rows to
        # remove before it knows which exist, so look first.
        if action == "pre_remove":
            instance._history_removing = self._linked(
                instance, attr, pk_set, reverse, model
            )
            return
        if action == "post_remove":
            pk_set = instance.__dict__.pop("_history_removing", set())
        if action in ("post_add", "post_remove") and not pk_set:
            return
        if reverse:
            self._reverse_m2m_changed(instance, action, attr, pk_set, model)
            return
        super().m2m_changed(instance, action, attr, pk_set, reverse, **kwargs)

    @staticmethod
    def _linked(instance, attr, pk_set, reverse, model) -> set:
        """Which of `pk_set` are linked to `instance` now."""
        if reverse:
            linked = model._default_manager.filter(**{attr: instance})
        else:
            linked = getattr(instance, attr).all()
        return set(linked.filter(pk__in=pk_set).values_list("pk", flat=True))

    def _reverse_m2m_changed(self, instance, action, attr, pk_set, model) -> None:
        # Changed from the other side (a role's users): a row for each
        # record whose set changed, as if changed from its own side.
        if action == "pre_clear":
            members = model._default_manager.filter(**{attr: instance})
            instance._history_cleared = set(members.values_list("pk", flat=True))
            return
        if action == "post_clear":
            pk_set = instance.__dict__.pop("_history_cleared", set())
        if action in ("post_add", "post_remove", "post_clear"):
            for record in model._default_manager.filter(pk__in=pk_set):
                super().m2m_changed(record, action, attr, pk_set, False)
