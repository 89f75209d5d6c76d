"""What a student has read and reviewed, per course and per lecture.

Everything here is computed from a fixed number of queries whatever the size of the
term: the user's memberships, the lectures of those courses with their readings (and
the papers' authors), and the user's own progress and review rows.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils import timezone

from courses.models import Lecture, Membership, Reading, ReadingProgress, Review

DONE = ReadingProgress.Status.READ


@dataclass
class ReadingState:
    reading: Reading
    lecture: Lecture
    status: str  # ReadingProgress.Status value
    review: Review | None
    deadline: datetime.datetime | None
    now: datetime.datetime

    @property
    def paper(self):
        return self.reading.paper

    @property
    def is_read(self):
        return self.status == DONE

    @property
    def review_submitted(self):
        return self.review is not None and self.review.status == Review.Status.SUBMITTED

    @property
    def review_due(self):
        """A required reading's review is due once its lecture's deadline has passed."""
        return self.reading.required and self.deadline is not None and self.deadline <= self.now

    @property
    def overdue(self):
        return self.review_due and not self.review_submitted


@dataclass
class LectureState:
    lecture: Lecture
    readings: list[ReadingState]
    deadline: datetime.datetime | None

    @property
    def required(self):
        return [r for r in self.readings if r.reading.required]

    @property
    def all_read(self):
        return bool(self.required) and all(r.is_read for r in self.required)

    @property
    def all_reviewed(self):
        return bool(self.required) and all(r.review_submitted for r in self.required)

    @property
    def overdue(self):
        return any(r.overdue for r in self.readings)


@dataclass
class CourseProgress:
    membership: Membership
    lectures: list[LectureState] = field(default_factory=list)
    today: datetime.date | None = None

    @property
    def course(self):
        return self.membership.course

    @property
    def required(self):
        return [r for lecture in self.lectures for r in lecture.required]

    @property
    def required_read(self):
        return sum(1 for r in self.required if r.is_read)

    @property
    def reviews_due(self):
        return [r for r in self.required if r.review_due]

    @property
    def reviews_submitted(self):
        return sum(1 for r in self.reviews_due if r.review_submitted)

    @property
    def overdue(self):
        return [r for r in self.required if r.overdue]

    @property
    def next_lecture(self):
        return next(
            (s for s in self.lectures if s.lecture.date and s.lecture.date >= self.today), None
        )

    def percent(self, done, total):
        return round(100 * done / total) if total else 0

    @property
    def read_percent(self):
        return self.percent(self.required_read, len(self.required))

    @property
    def review_percent(self):
        return self.percent(self.reviews_submitted, len(self.reviews_due))


def user_states(user):
    """({paper_id: status}, {paper_id: Review}) for the user, in two small queries."""
    statuses = dict(ReadingProgress.objects.filter(user=user).values_list("paper_id", "status"))
    reviews = {review.paper_id: review for review in Review.objects.filter(author=user)}
    return statuses, reviews


def memberships_of(user) -> list[Membership]:
    """The user's memberships, their courses in the catalog's order."""
    return list(
        Membership.objects.filter(user=user)
        .select_related("course")
        .order_by("course__position", "course__code", "course__term")
    )


def student_overview(user, *, now=None, memberships=None) -> list[CourseProgress]:
    """Progress in every course the user is a student of (of `memberships`, by default
    all of theirs), lectures in schedule order. A course they teach asks nothing of
    them: it is not here."""
    now = now or timezone.now()
    memberships = [
        m
        for m in (memberships_of(user) if memberships is None else memberships)
        if m.role == Membership.Role.STUDENT
    ]
    courses = [m.course for m in memberships]
    lectures = (
        Lecture.objects.filter(course__in=courses)
        .prefetch_related(Prefetch("readings", queryset=Reading.objects.in_schedule_order()))
        .in_schedule_order()
    )
    by_course: dict[int, list[Lecture]] = {}
    for lecture in lectures:
        by_course.setdefault(lecture.course_id, []).append(lecture)
    statuses, reviews = user_states(user)

    overview = []
    for membership in memberships:
        course = membership.course
        progress = CourseProgress(
            membership=membership, today=timezone.localdate(now, course.tzinfo)
        )
        for lecture in by_course.get(course.pk, []):
            lecture.course = course  # avoid one query per lecture for its course
            deadline = lecture.effective_review_deadline
            states = [
                ReadingState(
                    reading=reading,
                    lecture=lecture,
                    status=statuses.get(reading.paper_id, ReadingProgress.Status.TO_READ),
                    review=reviews.get(reading.paper_id),
                    deadline=deadline,
                    now=now,
                )
                for reading in lecture.readings.all()
            ]
            progress.lectures.append(
                LectureState(lecture=lecture, readings=states, deadline=deadline)
            )
        overview.append(progress)
    return overview


def up_next(overview: list[CourseProgress], *, now, limit=10) -> list[ReadingState]:
    """Readings of upcoming lectures across all courses, soonest deadline first; a
    reading drops out once it is read (and, when required, reviewed)."""
    items = [
        state
        for progress in overview
        for lecture in progress.lectures
        if lecture.deadline and lecture.deadline >= now
        for state in lecture.readings
        if not (state.is_read and (state.review_submitted or not state.reading.required))
    ]
    items.sort(key=lambda s: (s.deadline, not s.reading.required, s.reading.order))
    return items[:limit]
