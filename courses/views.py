from django.db.models import Count
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from courses.models import Course, Lecture


def home(request):
    courses = Course.objects.visible_to(request.user).annotate(
        lecture_count=Count("lectures", distinct=True)
    )
    return render(request, "courses/home.html", {"courses": courses})


def about(request):
    courses = Course.objects.visible_to(request.user).exclude(provenance="")
    return render(request, "courses/about.html", {"courses": courses})


def get_course_for_viewer(user, slug):
    """The course if the user may see its schedule, else 404 (not 403: a members-only
    course's existence is not disclosed)."""
    return get_object_or_404(Course.objects.visible_to(user), slug=slug)


def mark_lecture_states(lectures, today):
    """Set `state` on each lecture: past, next (the first on or after today),
    upcoming, or undated."""
    next_found = False
    for lecture in lectures:
        if lecture.date is None:
            lecture.state = "undated"
        elif lecture.date < today:
            lecture.state = "past"
        elif not next_found:
            lecture.state = "next"
            next_found = True
        else:
            lecture.state = "upcoming"
    return next((lecture for lecture in lectures if lecture.state == "next"), None)


def schedule(request, slug):
    course = get_course_for_viewer(request.user, slug)
    lectures = list(Lecture.objects.for_course(course))
    today = timezone.localdate(timezone.now(), course.tzinfo)
    next_lecture = mark_lecture_states(lectures, today)
    return render(
        request,
        "courses/schedule.html",
        {
            "course": course,
            "lectures": lectures,
            "next_lecture": next_lecture,
            "undated": all(lecture.date is None for lecture in lectures),
        },
    )
