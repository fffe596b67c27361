from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from reports.history_admin import AuditedHistoryAdmin
from thrift.admin_lists import LargeListMixin
from thrift.spreadsheets import SpreadsheetAdminMixin

from .models import Role, User
from .resources import MemberResource
from .roles import sees_everything

BANK_FIELDS = ("phone", "account_number", "bank_name", "account_name")


@admin.register(User)
class UserAdmin(
    SpreadsheetAdminMixin, LargeListMixin, AuditedHistoryAdmin, DjangoUserAdmin
):
    resource_classes = [MemberResource]
    list_display = (
        "username",
        "first_name",
        "last_name",
        "phone",
        "email",
        "bank_name",
        "account_number",
        "is_staff",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "groups", "bank_name")
    search_fields = (
        "username",
        "first_name",
        "last_name",
        "email",
        "phone",
        "account_number",
        "account_name",
    )
    ordering = ("first_name", "last_name", "username")
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email", "phone")}),
        ("Bank details", {"fields": ("bank_name", "account_number", "account_name")}),
        (
            "Permissions",
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ),
            },
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2"),
            },
        ),
        ("Personal info", {"fields": ("first_name", "last_name", "email", "phone")}),
        ("Bank details", {"fields": ("bank_name", "account_number", "account_name")}),
    )

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if sees_everything(request.user):
            return qs
        # A coordinator sees themself, the members of their own groups and
        # the people they registered who have no place yet.
        registered = User.history.filter(
            history_type="+", history_user=request.user
        ).values("id")
        # Never another staff account: a coordinator who could reach one
        # could set its password.
        members = Q(is_staff=False, is_superuser=False) & (
            Q(memberships__group__coordinator=request.user)
            | Q(pk__in=registered, memberships__isnull=True)
        )
        return qs.filter(Q(pk=request.user.pk) | members).distinct()

    def get_object(self, request, object_id, from_field=None):
        # Another coordinator's member answers 404, not a redirect.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(f"No user {object_id} that you can see.")
        return obj

    def _visible(self, request, obj) -> bool:
        if obj is None or sees_everything(request.user):
            return True
        # Asked many times while one page renders; read once a request.
        answers = request.__dict__.setdefault("_visible_users", {})
        if obj.pk not in answers:
            answers[obj.pk] = self.get_queryset(request).filter(pk=obj.pk).exists()
        return answers[obj.pk]

    def has_view_permission(self, request, obj=None):
        return self._visible(request, obj) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._visible(request, obj) and super().has_change_permission(
            request, obj
        )

    def revert_disabled(self, request, obj=None):
        # A revert writes every column back, staff status included.
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self.check_history_scope(request, object_id)
        if request.method == "POST":
            raise PermissionDenied("Past versions are shown, never written back.")
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        # Only the platform owner grants staff status and permissions.
        return [fs for fs in fieldsets if fs[0] != "Permissions"]

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ("last_login", "date_joined")
        return ("last_login", "date_joined", "is_staff", "is_superuser")


# Roles sit with the people they apply to, rather than under a separate
# "Authentication and Authorization" heading.
admin.site.unregister(Group)


@admin.register(Role)
class RoleAdmin(GroupAdmin):
    pass
