"""Shared data for the staff-page tests (issue 5); this module holds no tests.

One members-only course, 15-849 Spring 2022 (New York time, reviews due two hours
before each lecture), with every persona the safety rules name: its instructor, its TA,
a student who has read and reviewed and a classmate who has not, an instructor of another course, a site admin
(and the anonymous visitor, who needs no row).
"""

import datetime
import zoneinfo

from courses.models import Membership, ReadingProgress, Review
from tests.factories import enrol, make_course, make_lecture, make_paper, make_reading, make_user

NY = zoneinfo.ZoneInfo("America/New_York")
Role = Membership.Role
# What a review says in full; a page that leaks reviews shows it.
SECRET_ANSWER = "The secret high-level idea only staff may read"


def at(day, hour, minute=0):
    """An aware datetime in New York."""
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=NY)


def build_term(cls):
    """Set the personas and the course on the test class (call from setUpTestData)."""
    cls.course = make_course(
        "15-849",
        slug="ml-sys",
        is_public=False,
        starts_on=datetime.date(2022, 1, 10),
        ends_on=datetime.date(2022, 5, 6),
        timezone="America/New_York",
        review_hours_before=2,
    )
    cls.other_course = make_course("15-884", slug="other", term="Spring 2021")
    cls.instructor = make_user("ines@example.org", first_name="Ines", last_name="Instructor")
    cls.ta = make_user("tara@example.org", first_name="Tara", last_name="Assistant")
    cls.student = make_user("sam@example.org", first_name="Sam", last_name="Student")
    cls.classmate = make_user("cleo@example.org", first_name="Cleo", last_name="Classmate")
    cls.other_instructor = make_user("otto@example.org", first_name="Otto", last_name="Other")
    cls.admin = make_user("root@example.org", is_staff=True)
    enrol(cls.instructor, cls.course, Role.INSTRUCTOR)
    enrol(cls.ta, cls.course, Role.TA)
    enrol(cls.student, cls.course, Role.STUDENT)
    enrol(cls.classmate, cls.course, Role.STUDENT)
    enrol(cls.other_instructor, cls.other_course, Role.INSTRUCTOR)

    cls.lecture = make_lecture(
        cls.course,
        1,
        date=datetime.date(2022, 1, 17),
        start_time=datetime.time(15, 5),
        title="Automatic differentiation",
    )
    cls.paper = make_paper(
        "A Secret Reading on Autodiff",
        authors=["Ada Lovelace"],
        year=2018,
        arxiv_id="1502.05767",
    )
    cls.reading = make_reading(cls.lecture, cls.paper)
    ReadingProgress.objects.create(
        user=cls.student, paper=cls.paper, status=ReadingProgress.Status.READ
    )
    cls.review = Review.objects.create(
        author=cls.student,
        paper=cls.paper,
        answers={"high_level_idea": SECRET_ANSWER},
        overall_rating=4,
        status=Review.Status.SUBMITTED,
        submitted_at=at(cls.lecture.date, 10),
    )
