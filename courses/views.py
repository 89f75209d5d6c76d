from django.db.models import Count
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from courses.models import Course, Lecture


def home(request):
    courses = Course.objects.visible_to(request.user).annotate(
        lecture_count=Count("lectures", distinct=True)
    )
    return render(request, "courses/home.html", {"courses": courses})


def get_course_for_viewer(user, slug):
    """The course if the user may see its schedule, else 404 (not 403: a members-only
    course's existence is not disclosed)."""
    return get_object_or_404(Course.objects.visible_to(user), slug=slug)


def schedule(request, slug):
    course = get_course_for_viewer(request.user, slug)
    lectures = list(Lecture.objects.for_course(course))
    today = timezone.localdate(timezone.now(), course.tzinfo)
    next_lecture = next(
        (lecture for lecture in lectures if lecture.date and lecture.date >= today), None
    )
    return render(
        request,
        "courses/schedule.html",
        {
            "course": course,
            "lectures": lectures,
            "today": today,
            "next_lecture": next_lecture,
            "undated": all(lecture.date is None for lecture in lectures),
        },
    )
