"""History pages in the admin: readable diffs, scoped to the viewer, the
admin form's route on every save, and who may revert."""

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin

from thrift.services import stamp

from . import audit


class AuditedHistoryAdmin(SimpleHistoryAdmin):
    """A model admin whose saves say "admin form" and whose history page
    shows who, when, route and what changed, old -> new.

    Reverting to a past version is off unless `allow_revert` is set, and
    then only for superusers: money records are corrected through the
    product's rules, which record the correction as one.
    """

    allow_revert = False
    object_history_template = "reports/object_history.html"
    object_history_list_template = "reports/object_history_list.html"
    history_list_per_page = 50

    # --- the route of admin saves -------------------------------------

    def save_model(self, request, obj, form, change):
        stamp(obj, request.user, getattr(request, "history_route", audit.ADMIN_FORM))
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        for inline_form in formset.forms:
            stamp(inline_form.instance, request.user, audit.ADMIN_FORM)
        super().save_formset(request, form, formset, change)

    def delete_model(self, request, obj):
        stamp(obj, request.user, audit.ADMIN_FORM)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # One by one, so that each history row names the user and action.
        with transaction.atomic():
            for obj in queryset.order_by("pk"):
                stamp(obj, request.user, "admin action: delete_selected").delete()

    # --- the history page ---------------------------------------------

    def check_history_scope(self, request, object_id) -> None:
        """Answer 404 for a record the viewer may not see, as its change page
        does, so that no URL of it tells whether it exists.

        A live record is judged by the admin's own list; a deleted one by
        its history (a coordinator keeps their own groups' past records).
        """
        object_id = unquote(object_id)
        try:
            if self.get_queryset(request).filter(pk=object_id).exists():
                return
            deleted = not self.model._default_manager.filter(pk=object_id).exists()
        except (ValueError, ValidationError):
            deleted = False
        if deleted:
            rows = self.model.history.filter(id=object_id)
            if audit.scope_history(rows, request.user).exists():
                return
        raise Http404(f"No {self.opts.verbose_name} {object_id} that you can see.")

    def history_view(self, request, object_id, extra_context=None):
        self.check_history_scope(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        qs = history_manager.filter(**{pk_name: object_id})
        return qs.select_related("history_user")

    def set_history_delta_changes(self, request, historical_records, **kwargs):
        # The page's rows, their previous versions and the names they point
        # to, in a fixed number of queries (see reports.audit).
        rows = audit.with_previous(
            self.model.history.filter(
                history_id__in=[r.history_id for r in historical_records]
            )
        )
        audit.describe(rows, audit.Names())
        described = {r.history_id: r for r in rows}
        for record in historical_records:
            r = described[record.history_id]
            record.audit_changes = r.changes
            record.audit_route = r.route
            record.audit_label = r.label

    # --- reverting ----------------------------------------------------

    def can_revert(self, request) -> bool:
        return self.allow_revert and request.user.is_superuser

    def revert_disabled(self, request, obj=None):
        return not self.can_revert(request)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # Scope first: a record the viewer may not see is not found, whatever
        # else would refuse them.
        self.check_history_scope(request, object_id)
        if not self.allow_revert:
            raise PermissionDenied
        if request.method == "POST" and not self.can_revert(request):
            raise PermissionDenied
        request.history_route = audit.ADMIN_REVERT
        return super().history_form_view(request, object_id, version_id, extra_context)
