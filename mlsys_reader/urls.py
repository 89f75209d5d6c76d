from django.contrib import admin
from django.urls import include, path

from mlsys_reader.views import favicon, healthz

admin.site.site_header = "mlsys-reader administration"
admin.site.site_title = "mlsys-reader admin"

urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("papers/", include("papers.urls")),
    path("", include("courses.urls")),
]
