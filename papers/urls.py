from django.urls import path

from papers import views

app_name = "papers"
urlpatterns = [
    path("", views.paper_list, name="list"),
    path("<int:pk>/", views.paper_detail, name="detail"),
    path("<int:pk>/bibtex/", views.paper_bibtex, name="bibtex"),
    path("topics/", views.topic_list, name="topics"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic"),
]
