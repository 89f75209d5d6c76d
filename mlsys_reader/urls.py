from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "mlsys-reader administration"
admin.site.site_title = "mlsys-reader admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("papers/", include("papers.urls")),
    path("", include("courses.urls")),
]
