from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import render

from courses import schedule_cache
from courses.models import Course


def home(request):
    courses = Course.objects.visible_to(request.user).annotate(
        lecture_count=Count("lectures", distinct=True)
    )
    return render(request, "courses/home.html", {"courses": courses})


def about(request):
    courses = Course.objects.visible_to(request.user).exclude(provenance="")
    return render(request, "courses/about.html", {"courses": courses})


def get_course_for_viewer(user, slug):
    """The course, annotated with the viewer's role, if the user may see its schedule;
    else 404 (not 403: a members-only course's existence is not disclosed)."""
    course = Course.objects.with_viewer_role(user).filter(slug=slug).first()
    if course is None or not course.viewer_can_see_schedule(user):
        raise Http404("No such course.")
    return course


def schedule(request, slug):
    facts = schedule_cache.lookup(slug, request.user)
    user = request.user
    if facts is None or not (facts.is_public or facts.viewer_role or user.is_staff):
        raise Http404("No such course.")
    return HttpResponse(schedule_cache.schedule_page(request, facts))
