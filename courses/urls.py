from django.urls import include, path

from courses import student_views, views

app_name = "courses"
urlpatterns = [
    path("", views.home, name="home"),
    path("about/", views.about, name="about"),
    path("courses/<slug:slug>/", views.schedule, name="schedule"),
    path("", include("courses.staff_urls")),  # instructors and TAs (issue 5)
    # Students
    path("dashboard/", student_views.dashboard, name="dashboard"),
    path("join/", student_views.join, name="join"),
    path("join/<str:code>/", student_views.join_link, name="join_link"),
    path("courses/<slug:slug>/join/", student_views.join_course, name="join_course"),
    path(
        "courses/<slug:slug>/papers/<int:paper_id>/reviews/",
        student_views.peer_reviews,
        name="peer_reviews",
    ),
    path("reading/<int:paper_id>/status/", student_views.set_status, name="set_status"),
    path("reading/<int:paper_id>/note/", student_views.save_note, name="save_note"),
    path("reviews/", student_views.my_reviews, name="my_reviews"),
    path("reviews/all.md", student_views.reviews_download, name="reviews_download"),
    path("reviews/<int:paper_id>/", student_views.review, name="review"),
    path("reviews/<int:paper_id>/review.md", student_views.review_download, name="review_download"),
]
