"""The schedule page, fast: rendered once per course revision, personalised per request.

Rendering a 30-lecture schedule with Django's templates takes several milliseconds,
far more than everything else a request does, and almost all of it is the same for
every viewer. So the whole page is rendered once per (course revision, day, kind of
viewer) and cached as a list of static HTML parts separated by markers; a request only
fills the markers in:

- the CSRF token and the viewer's name (rendered as random per-process sentinels,
  which no user-supplied text can contain);
- the flash messages, if any;
- at each reading's <!--reader:PAPER_ID--> marker, the member's own reading status
  and review link (ReaderOverlay).

Everything a request needs from the database besides the session and the user comes
from one round trip (`lookup`).

Course.schedule_revision goes up on any change to the course, its lectures, its
readings or their papers (courses/signals.py), so the very next request after an
edit renders afresh, in every process. Pages are kept per process (SHELLS): an old
revision is never served, it only ages out.
"""

import re
import secrets
import threading
import zoneinfo
from collections import OrderedDict
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.contrib.messages import get_messages
from django.db import connection
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape

from courses.feeds import subscription_urls
from courses.models import Course, Lecture, Membership, ReadingProgress, Review

_SENTINEL = secrets.token_hex(12)
CSRF = f"csrf{_SENTINEL}"
NAME = f"name{_SENTINEL}"
MESSAGES = f"messages{_SENTINEL}"
_MARKERS = re.compile(rf"({CSRF}|{NAME}|{MESSAGES}|<!--reader:\d+-->)")


def mark_lecture_states(lectures, today):
    """Set `state` on each lecture: past, next (the first on or after today),
    upcoming, or undated. Returns the next lecture or None."""
    next_lecture = None
    for lecture in lectures:
        if lecture.date is None:
            lecture.state = "undated"
        elif lecture.date < today:
            lecture.state = "past"
        elif next_lecture is None:
            lecture.state = "next"
            next_lecture = lecture
        else:
            lecture.state = "upcoming"
    return next_lecture


def _viewer_kind(user, role):
    if not user.is_authenticated:
        return "anonymous"
    return f"user:{int(user.is_staff)}:{role or '-'}"


@dataclass
class ScheduleLookup:
    """What one request needs to know before serving a schedule from the cache."""

    course_id: int
    revision: int
    is_public: bool
    timezone: str
    viewer_role: str | None
    statuses: dict[int, str] = field(default_factory=dict)  # paper id -> progress status
    reviews: dict[int, str] = field(default_factory=dict)  # paper id -> review status


def lookup(slug, user) -> ScheduleLookup | None:
    """The course's cache-relevant facts, the viewer's role and the viewer's own
    reading and review statuses, in ONE database round trip.

    Raw SQL on purpose: this runs on every schedule request and is the page's whole
    database cost besides the session and the user; three ORM queries cost several
    times more (query compilation, model instances, round trips).
    """
    tables = {
        "course": Course._meta.db_table,
        "membership": Membership._meta.db_table,
        "progress": ReadingProgress._meta.db_table,
        "review": Review._meta.db_table,
    }
    course_sql = """
        SELECT 'c', c.id, c.schedule_revision, c.is_public, c.timezone, m.role
          FROM {course} c
          LEFT JOIN {membership} m ON m.course_id = c.id AND m.user_id = %s
         WHERE c.slug = %s"""
    own_sql = """
        UNION ALL
        SELECT 'p', p.paper_id, NULL, NULL, p.status, NULL FROM {progress} p WHERE p.user_id = %s
        UNION ALL
        SELECT 'r', r.paper_id, NULL, NULL, r.status, NULL FROM {review} r WHERE r.author_id = %s"""
    if user.is_authenticated:
        sql, params = course_sql + own_sql, [user.pk, slug, user.pk, user.pk]
    else:
        sql, params = course_sql, [None, slug]
    with connection.cursor() as cursor:
        # Table names come from our models; every value is a parameter.
        cursor.execute(sql.format(**tables), params)
        rows = cursor.fetchall()
    found = None
    statuses, reviews = {}, {}
    for kind, ident, revision, is_public, text, role in rows:
        if kind == "c":
            found = ScheduleLookup(ident, revision, bool(is_public), text, role)
        elif kind == "p":
            statuses[ident] = text
        else:
            reviews[ident] = text
    if found is not None:
        found.statuses, found.reviews = statuses, reviews
    return found


def _render_shell(request, course, today):
    """Render the whole page once with sentinels in place of what is personal, and
    split it at the markers."""
    lectures = list(Lecture.objects.for_course(course))
    next_lecture = mark_lecture_states(lectures, today)
    user = request.user
    if user.is_authenticated:
        user = SimpleNamespace(
            is_authenticated=True, is_staff=user.is_staff, display_name=NAME, pk=None
        )
    with timezone.override(course.tzinfo):
        body = render_to_string(
            "courses/_schedule_body.html",
            {
                "course": course,
                "lectures": lectures,
                "next_lecture": next_lecture,
                "undated": all(lecture.date is None for lecture in lectures),
            },
        )
    page = render_to_string(
        "courses/schedule.html",
        {
            "course": course,
            "schedule_body": body,
            "subscriptions": subscription_urls(course),
            "user": user,
            "csrf_token": CSRF,
            "messages_marker": MESSAGES,
        },
        request=request,
    )
    return _MARKERS.split(_squeeze(page))


_INDENT = re.compile(r"\n\s+")


def _squeeze(html):
    """Drop indentation and blank lines (a third of the page's bytes). Safe here: the
    schedule page has no <pre> or <textarea>, and a newline still separates words."""
    return _INDENT.sub("\n", html)


class _ShellCache:
    """Rendered pages by key in this process, least recently used dropped first.

    In-process on purpose: the page is served from here on every request, and a
    shared cache would add a network round trip and unpickling of 100-300 KB per
    request. Keys carry the course revision, so no process serves a stale page."""

    def __init__(self, size):
        self.size = size
        self.pages: OrderedDict[str, list] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            parts = self.pages.get(key)
            if parts is not None:
                self.pages.move_to_end(key)
            return parts

    def put(self, key, parts):
        with self.lock:
            self.pages[key] = parts
            self.pages.move_to_end(key)
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)

    def clear(self):
        with self.lock:
            self.pages.clear()


SHELLS = _ShellCache(size=64)


def _encode(parts):
    """Static HTML as bytes (encoded once, not per request); markers as CSRF, NAME,
    MESSAGES or the paper id (an int)."""
    encoded = []
    for index, part in enumerate(parts):
        if index % 2 == 0:
            encoded.append(part.encode())
        elif part in (CSRF, NAME, MESSAGES):
            encoded.append(part)
        else:
            encoded.append(int(part[11:-3]))  # <!--reader:123-->
    return encoded


def schedule_page(request, facts: ScheduleLookup) -> bytes:
    """The schedule page's HTML (UTF-8) for this request."""
    today = timezone.localdate(timezone.now(), zoneinfo.ZoneInfo(facts.timezone))
    key = (
        f"{facts.course_id}:{facts.revision}:{today.isoformat()}:"
        f"{_viewer_kind(request.user, facts.viewer_role)}"
    )
    parts = SHELLS.get(key)
    if parts is None:
        course = Course.objects.with_viewer_role(request.user).get(pk=facts.course_id)
        parts = _encode(_render_shell(request, course, today))
        SHELLS.put(key, parts)

    token = get_token(request)
    overlay = ReaderOverlay(request, facts, token) if facts.viewer_role else None
    values = {
        CSRF: token.encode(),
        NAME: escape(request.user.display_name).encode() if request.user.is_authenticated else b"",
        MESSAGES: _messages_html(request).encode(),
    }
    out = []
    for index, part in enumerate(parts):
        if index % 2 == 0:
            out.append(part)
        elif part.__class__ is str:
            out.append(values[part])
        elif overlay is not None:
            out.append(overlay(part))
    return b"".join(out)


def _messages_html(request):
    messages = list(get_messages(request))
    if not messages:
        return ""
    return render_to_string("_messages.html", {"messages": messages})


class ReaderOverlay:
    """A member's status control and review link for each reading.

    The controls differ only by paper id, status, review state, the page they return
    to and the CSRF token, so each (status, review, page) variant is rendered from the
    template once per process, with sentinels for the paper id and the token, and a
    request only joins strings: no template rendering per reading or per request."""

    _PAPER = "987654321987"
    _variants: dict[tuple[str, str, str], list[str]] = {}

    def __init__(self, request, facts: ScheduleLookup, token: str):
        self.request = request
        self.statuses = facts.statuses
        self.reviews = facts.reviews
        self.token = token
        self.filled = {}

    @classmethod
    def _variant(cls, status, review_state, next_url):
        key = (status, review_state, next_url)
        pieces = cls._variants.get(key)
        if pieces is None:
            html = render_to_string(
                "courses/student/_controls.html#reader",
                {
                    "paper_id": int(cls._PAPER),
                    "status": status,
                    "review_state": review_state,
                    "next_url": next_url,
                    "csrf_token": CSRF,
                },
            )
            pieces = _squeeze(html).split(cls._PAPER)
            if len(cls._variants) < 1000:  # bounded: 9 combinations per schedule page
                cls._variants[key] = pieces
        return pieces

    def __call__(self, paper_id):
        key = (
            self.statuses.get(paper_id, ReadingProgress.Status.TO_READ),
            self.reviews.get(paper_id, "none"),
        )
        pieces = self.filled.get(key)
        if pieces is None:
            template = self._variant(*key, self.request.path)
            pieces = self.filled[key] = [
                piece.replace(CSRF, self.token).encode() for piece in template
            ]
        return str(paper_id).encode().join(pieces)
