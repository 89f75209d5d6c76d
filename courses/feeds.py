"""Subscriptions: the course calendar (iCalendar) and the feed of newly assigned
readings (Atom).

Calendar apps and feed readers fetch without the user's session cookie, so a
members-only course is reached through a secret URL: /courses/<slug>/calendar/<token>.ics
with the course's `feed_token`, shown to its members. Staff regenerate the token to
revoke every copy of the old URL. A public course's calendar and feed are public like
its schedule.
"""

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html

from courses.exports import course_calendar
from courses.models import Course, Reading

FEED_LENGTH = 50


def get_course_for_subscription(request, slug, token=None):
    """The course if the token is its feed token, or without a token if the user may
    see its schedule; otherwise 404 (a members-only course is not disclosed)."""
    if token is not None:
        course = get_object_or_404(Course, slug=slug)
        if not constant_time_compare(token, course.feed_token):
            raise Http404("No such calendar.")
        return course
    return get_object_or_404(Course.objects.visible_to(request.user), slug=slug)


def subscription_urls(course):
    """Paths of the course's calendar and feed: the public ones for a public course,
    else the secret ones (to be shown to members only)."""
    if course.is_public:
        return {
            "calendar": reverse("courses:calendar", args=[course.slug]),
            "feed": reverse("courses:readings_feed", args=[course.slug]),
        }
    return {
        "calendar": reverse("courses:calendar_private", args=[course.slug, course.feed_token]),
        "feed": reverse("courses:readings_feed_private", args=[course.slug, course.feed_token]),
    }


def calendar(request, slug, token=None):
    course = get_course_for_subscription(request, slug, token)
    body = course_calendar(
        course=course, base_url=request.build_absolute_uri("/")[:-1], host=request.get_host()
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{course.slug}.ics"'
    if token is not None:
        # A secret URL must not end up in shared caches.
        response["Cache-Control"] = "private, no-store"
    return response


class NewReadingsFeed(Feed):
    """Readings as they are assigned, newest first (Atom)."""

    feed_type = Atom1Feed
    item_guid_is_permalink = False

    def __call__(self, request, *args, **kwargs):
        response = super().__call__(request, *args, **kwargs)
        if kwargs.get("token"):
            response["Cache-Control"] = "private, no-store"
        return response

    def get_object(self, request, slug, token=None):
        return get_course_for_subscription(request, slug, token)

    def title(self, course):
        return f"{course.code} {course.term}: new readings"

    def subtitle(self, course):
        return f"Readings assigned in {course.code} {course.title}, newest first."

    def link(self, course):
        return course.get_absolute_url()

    def items(self, course):
        return (
            Reading.objects.filter(lecture__course=course)
            .select_related("paper", "lecture__course")
            .order_by("-created_at", "-pk")[:FEED_LENGTH]
        )

    def item_title(self, reading):
        return f"Lecture {reading.lecture.number}: {reading.paper.title}"

    def item_description(self, reading):
        lecture = reading.lecture
        when = f" on {lecture.date:%a %b %-d, %Y}" if lecture.date else ""
        kind = "Required" if reading.required else "Optional"
        note = format_html("<p>{}</p>", reading.note) if reading.note else ""
        return format_html(
            "<p>{} reading for lecture {}{}: {}.</p>{}",
            kind,
            lecture.number,
            when,
            lecture.title,
            note,
        )

    def item_link(self, reading):
        return reading.lecture.get_absolute_url()

    def item_guid(self, reading):
        return f"urn:mlsys-reader:reading:{reading.pk}"

    def item_pubdate(self, reading):
        return reading.created_at

    def item_updateddate(self, reading):
        return reading.updated_at
