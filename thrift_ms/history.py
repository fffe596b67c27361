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
