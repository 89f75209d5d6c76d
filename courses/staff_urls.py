"""URLs of the instructor and TA pages (issue 5) and of the course subscriptions.

Included from courses/urls.py without a namespace of its own, so every name is in the
"courses" namespace: reverse("courses:manage_lecture", args=[slug, pk]).
"""

from django.urls import path

from courses import feeds
from courses import staff_views as views

manage = "courses/<slug:slug>/manage/"

urlpatterns = [
    path("teach/", views.teach, name="teach"),
    path("teach/new/", views.course_new, name="course_new"),
    # Subscriptions: public for a public course, by secret token for any course.
    path("courses/<slug:slug>/calendar.ics", feeds.calendar, name="calendar"),
    path(
        "courses/<slug:slug>/calendar/<str:token>.ics",
        feeds.calendar,
        name="calendar_private",
    ),
    path("courses/<slug:slug>/feeds/readings/", feeds.NewReadingsFeed(), name="readings_feed"),
    path(
        "courses/<slug:slug>/feeds/readings/<str:token>/",
        feeds.NewReadingsFeed(),
        name="readings_feed_private",
    ),
    # Course
    path(manage, views.manage, name="manage"),
    path(f"{manage}settings/", views.course_settings, name="manage_settings"),
    path(f"{manage}join-code/", views.regenerate_join_code, name="manage_join_code"),
    path(f"{manage}feed-token/", views.regenerate_feed_token, name="manage_feed_token"),
    path(f"{manage}delete/", views.course_delete, name="manage_delete"),
    path(f"{manage}clone/", views.course_clone, name="manage_clone"),
    # People
    path(f"{manage}people/", views.people, name="manage_people"),
    path(f"{manage}people/enrol/", views.enrol, name="manage_enrol"),
    path(f"{manage}people/staff/", views.add_staff, name="manage_add_staff"),
    path(f"{manage}people/<int:pk>/remove/", views.member_remove, name="manage_member_remove"),
    path(
        f"{manage}invitations/<int:pk>/cancel/",
        views.invitation_cancel,
        name="manage_invitation_cancel",
    ),
    # Schedule
    path(f"{manage}lectures/", views.lectures, name="manage_lectures"),
    path(f"{manage}lectures/new/", views.lecture_new, name="manage_lecture_new"),
    path(f"{manage}lectures/generate/", views.lectures_generate, name="manage_lectures_generate"),
    path(f"{manage}lectures/import/", views.lectures_import, name="manage_lectures_import"),
    path(f"{manage}lectures/<int:pk>/", views.lecture, name="manage_lecture"),
    path(f"{manage}lectures/<int:pk>/edit/", views.lecture_edit, name="manage_lecture_edit"),
    path(f"{manage}lectures/<int:pk>/delete/", views.lecture_delete, name="manage_lecture_delete"),
    path(f"{manage}lectures/<int:pk>/move/", views.lecture_move, name="manage_lecture_move"),
    # Readings
    path(f"{manage}lectures/<int:pk>/readings/add/", views.reading_add, name="manage_reading_add"),
    path(
        f"{manage}lectures/<int:pk>/readings/import/",
        views.reading_import,
        name="manage_reading_import",
    ),
    path(
        f"{manage}lectures/<int:pk>/readings/reorder/",
        views.readings_reorder,
        name="manage_readings_reorder",
    ),
    path(f"{manage}readings/<int:pk>/", views.reading, name="manage_reading"),
    path(f"{manage}readings/<int:pk>/move/", views.reading_move, name="manage_reading_move"),
    path(
        f"{manage}readings/<int:pk>/transfer/",
        views.reading_transfer,
        name="manage_reading_transfer",
    ),
    path(f"{manage}readings/<int:pk>/remove/", views.reading_remove, name="manage_reading_remove"),
    # Running the term
    path(
        f"{manage}lectures/<int:pk>/progress/",
        views.lecture_progress,
        name="manage_lecture_progress",
    ),
    path(
        f"{manage}lectures/<int:pk>/reviews.md",
        views.export_lecture_reviews,
        name="manage_lecture_reviews",
    ),
    path(f"{manage}students/<int:user_id>/", views.student, name="manage_student"),
    path(f"{manage}papers/<int:paper_id>/", views.paper, name="manage_paper"),
    path(f"{manage}export/progress.csv", views.export_progress, name="manage_export_progress"),
    path(f"{manage}export/readings.bib", views.export_bibtex, name="manage_export_bibtex"),
]
