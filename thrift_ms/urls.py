from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from reports.audit_views import audit_log

admin.site.site_header = "Thrift MS"
admin.site.site_title = "Thrift MS"
admin.site.index_title = "Back-office"
admin.site.index_template = "reports/dashboard.html"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path(
        f"{settings.THRIFT_ADMIN_PATH}audit/",
        admin.site.admin_view(audit_log),
        name="audit_log",
    ),
    path(f"{settings.THRIFT_ADMIN_PATH}reports/", include("reports.report_urls")),
    path(settings.THRIFT_ADMIN_PATH, admin.site.urls),
]
