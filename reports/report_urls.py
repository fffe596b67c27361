"""Report pages, mounted under the admin and wrapped by its staff check."""

from django.contrib import admin
from django.urls import path

from . import report_views as views

app_name = "reports"

urlpatterns = [
    path("ledger/", admin.site.admin_view(views.ledger_index), name="ledger_index"),
    path(
        "ledger/<int:group_id>/",
        admin.site.admin_view(views.ledger_card),
        name="ledger_card",
    ),
    path(
        "ledger/<int:group_id>/cycle/<int:cycle_number>/",
        admin.site.admin_view(views.ledger_card),
        name="ledger_card_cycle",
    ),
    path(
        "statement/",
        admin.site.admin_view(views.statement_search),
        name="statement_search",
    ),
    path(
        "statement/<int:member_id>/",
        admin.site.admin_view(views.statement),
        name="statement",
    ),
    path("arrears/", admin.site.admin_view(views.arrears), name="arrears"),
    path("collections/", admin.site.admin_view(views.collections), name="collections"),
]
