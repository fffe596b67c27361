"""URLs for the bench: the project's own, plus the stock admin at /stock/."""

from django.urls import path

from bench.stock_admin import stock_site
from thrift_ms.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("stock/", stock_site.urls),
    *project_urlpatterns,
]
