from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Thrift MS"
admin.site.site_title = "Thrift MS"
admin.site.index_title = "Back-office"
admin.site.index_template = "reports/dashboard.html"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/reports/", include("reports.report_urls")),
    path("admin/", admin.site.urls),
]
