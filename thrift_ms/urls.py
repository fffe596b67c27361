from django.conf import settings
from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "Thrift MS"
admin.site.site_title = "Thrift MS"
admin.site.index_title = "Back-office"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path(settings.THRIFT_ADMIN_PATH, admin.site.urls),
]
