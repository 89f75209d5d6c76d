from django.urls import path

from papers import views

app_name = "papers"
urlpatterns = [
    path("", views.paper_list, name="list"),
    path("<int:pk>/", views.paper_detail, name="detail"),
    path("<int:pk>/bibtex/", views.paper_bibtex, name="bibtex"),
    path("topics/", views.topic_list, name="topics"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic"),
    # Imports (staff)
    path("imports/", views.import_list, name="imports"),
    path("imports/new/", views.import_new, name="import_new"),
    path("imports/<int:pk>/", views.import_detail, name="import"),
    path("imports/<int:pk>/confirm/", views.import_confirm, name="import_confirm"),
    path("imports/<int:pk>/report.csv", views.import_csv, name="import_csv"),
    # Duplicates (staff)
    path("merge/<int:a>/<int:b>/", views.merge, name="merge"),
    path("merge/<int:a>/<int:b>/not-duplicate/", views.dismiss_duplicate, name="dismiss"),
    # BibTeX exports
    path("export/search.bib", views.search_bibtex, name="export_search"),
    path("export/topic/<slug:slug>.bib", views.topic_bibtex, name="export_topic"),
    path("export/course/<slug:slug>.bib", views.course_bibtex, name="export_course"),
    path(
        "export/course/<slug:slug>/lecture/<int:number>.bib",
        views.lecture_bibtex,
        name="export_lecture",
    ),
]
