from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db.models import Q
from simple_history.admin import SimpleHistoryAdmin

from thrift.admin_lists import LargeListMixin

from .models import Role, User
from .roles import sees_everything

BANK_FIELDS = ("phone", "account_number", "bank_name", "account_name")


@admin.register(User)
class UserAdmin(LargeListMixin, SimpleHistoryAdmin, DjangoUserAdmin):
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
        # A coordinator sees themself and the members of their own groups.
        return qs.filter(
            Q(pk=request.user.pk) | Q(memberships__group__coordinator=request.user)
        ).distinct()

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
