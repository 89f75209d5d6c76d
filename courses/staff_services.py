"""Instructor and TA work: set up a course, its people, its schedule and readings, and
read back who read and reviewed what.

Writes are keyword-only functions; every write of more than one row runs in one
transaction, so a refused or failed step leaves the course as it was. Validation that
needs the user's words is in courses/forms.py; what is raised here is
`StaffActionError`, whose message is shown to the user as is.

Reads (the lecture table, a student's progress, a paper's reviews, the CSV rows) are
built from a fixed number of queries whatever the size of the class.
"""

import csv
import datetime
import io
import logging
import statistics
from dataclasses import dataclass, field
from email.utils import getaddresses

from django.core.exceptions import ValidationError
from django.core.mail import send_mass_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Max, Prefetch, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from courses.checklist import QUESTIONS, RATINGS
from courses.markdown import render_markdown
from courses.models import (
    Course,
    Invitation,
    Lecture,
    Membership,
    Reading,
    ReadingProgress,
    Review,
    new_feed_token,
    new_join_code,
)
from courses.signals import touch_courses

logger = logging.getLogger(__name__)

Role = Membership.Role
STAFF_ROLES = (Role.TA, Role.INSTRUCTOR)
MAX_GENERATED_LECTURES = 300
MAX_LECTURE_NUMBER = 32767  # PositiveSmallIntegerField


class StaffActionError(Exception):
    """A refused action; str(error) is a message for the user."""


# --- Courses ---------------------------------------------------------------------------


def unique_course_slug(*, code: str, term: str) -> str:
    base = slugify(f"{code} {term}")[:90] or "course"
    slug, suffix = base, 2
    while Course.objects.filter(slug=slug).exists():
        slug = f"{base}-{suffix}"
        suffix += 1
    return slug


def course_create(*, created_by, **fields) -> Course:
    """Create a course (a unique slug from its code and term) with `created_by` as
    its instructor."""
    with transaction.atomic():
        course = Course(**fields)
        course.slug = unique_course_slug(code=course.code, term=course.term)
        course.full_clean()
        course.save()
        Membership.objects.create(user=created_by, course=course, role=Role.INSTRUCTOR)
    return course


def course_regenerate_join_code(*, course: Course) -> str:
    """A new join code; the old one stops working at once."""
    course.join_code = new_join_code()
    course.save(update_fields=["join_code", "updated_at"])
    return course.join_code


def course_regenerate_feed_token(*, course: Course) -> str:
    """A new secret for the calendar and feed URLs; subscriptions to the old ones stop."""
    course.feed_token = new_feed_token()
    course.save(update_fields=["feed_token", "updated_at"])
    return course.feed_token


# --- People ----------------------------------------------------------------------------


def parse_email_list(text: str) -> tuple[list[str], list[str]]:
    """(valid addresses lower-cased and de-duplicated in order, invalid items) from
    pasted text: one per line or separated by commas, semicolons or spaces; the
    'Ada Lovelace <ada@example.org>' form of a mail client is accepted."""
    valid, invalid, seen = [], [], set()
    for line in text.replace(";", "\n").splitlines():
        line = line.strip()
        if not line:
            continue
        if "<" in line:
            items = [address for _, address in getaddresses([line]) if address]
        else:
            items = line.replace(",", " ").split()
        for item in items:
            address = item.strip().strip(",").lower()
            try:
                validate_email(address)
            except ValidationError:
                invalid.append(item)
                continue
            if address not in seen:
                seen.add(address)
                valid.append(address)
    return valid, invalid


@dataclass
class EnrolmentReport:
    added: list[str] = field(default_factory=list)  # existing accounts, now members
    changed: list[str] = field(default_factory=list)  # members whose role changed
    unchanged: list[str] = field(default_factory=list)  # already members
    invited: list[str] = field(default_factory=list)  # pending invitations (new or updated)

    def summary(self, role_label: str) -> str:
        parts = []
        if self.added:
            parts.append(f"{len(self.added)} added as {role_label}")
        if self.changed:
            parts.append(f"{len(self.changed)} now {role_label}")
        if self.invited:
            parts.append(
                f"{len(self.invited)} invited (they join when they sign up with that address)"
            )
        if self.unchanged:
            parts.append(f"{len(self.unchanged)} already in the course")
        return "; ".join(parts).capitalize() + "." if parts else "Nobody to add."


def _instructor_count(course) -> int:
    return course.memberships.filter(role=Role.INSTRUCTOR).count()


def enrol_by_email(
    *, course: Course, emails: list[str], role: str, invited_by, signup_url: str = ""
) -> EnrolmentReport:
    """Add people by e-mail address: an address with an account becomes a member at
    once; any other gets a pending Invitation (and an e-mail with `signup_url`) that
    accept_invitations() turns into a membership when that address signs up.

    Adding as a student leaves existing members as they are; adding as TA or
    instructor changes an existing member's role (but never removes the last
    instructor: StaffActionError)."""
    report = EnrolmentReport()
    with transaction.atomic():
        users = {
            user.email.lower(): user
            for user in User.objects.annotate(address=Lower("email")).filter(address__in=emails)
        }
        memberships = {
            m.user_id: m for m in Membership.objects.select_for_update().filter(course=course)
        }
        invitations = {i.email: i for i in course.invitations.filter(email__in=emails)}
        for email in emails:
            user = users.get(email)
            if user is None:
                invitation = invitations.get(email)
                if invitation is None:
                    Invitation.objects.create(
                        course=course, email=email, role=role, invited_by=invited_by
                    )
                elif role != Role.STUDENT and invitation.role != role:
                    invitation.role = role
                    invitation.save(update_fields=["role"])
                report.invited.append(email)
                continue
            membership = memberships.get(user.pk)
            if membership is None:
                memberships[user.pk] = Membership.objects.create(
                    user=user, course=course, role=role
                )
                report.added.append(email)
            elif role == Role.STUDENT or membership.role == role:
                report.unchanged.append(email)
            else:
                if membership.role == Role.INSTRUCTOR and _instructor_count(course) == 1:
                    raise StaffActionError(
                        f"{email} is the course's only instructor: add another instructor "
                        "before changing their role."
                    )
                membership.role = role
                membership.save(update_fields=["role"])
                report.changed.append(email)
        new_invitations = [email for email in report.invited if email not in invitations]
        if new_invitations and signup_url:
            transaction.on_commit(
                lambda: _send_invitations(course, new_invitations, role, signup_url)
            )
    return report


def _send_invitations(course, emails, role, signup_url):
    role_label = Role(role).label.lower()
    subject = f"You are invited to {course.code} {course.title} ({course.term})"
    body = (
        f"You have been added to {course.code} {course.title} ({course.term}) as a "
        f"{role_label} on mlsys-reader.\n\nSign up with this e-mail address to see the "
        f"course's readings and write your reviews:\n{signup_url}\n"
    )
    try:
        send_mass_mail([(subject, body, None, [email]) for email in emails])
    except OSError:
        # The invitations are saved either way; they bind on sign-up whether or not
        # the e-mail arrived.
        logger.warning("could not send %d invitation e-mails", len(emails), exc_info=True)


def accept_invitations(*, user) -> list[Membership]:
    """Turn the pending invitations for the user's e-mail address into memberships.
    Called right after sign-up; an existing membership keeps its role."""
    created = []
    with transaction.atomic():
        pending = Invitation.objects.select_for_update().filter(
            email=user.email.lower(), accepted_at__isnull=True
        )
        for invitation in pending:
            membership, was_created = Membership.objects.get_or_create(
                user=user, course_id=invitation.course_id, defaults={"role": invitation.role}
            )
            if was_created:
                created.append(membership)
            invitation.accepted_at = timezone.now()
            invitation.save(update_fields=["accepted_at"])
    return created


def membership_remove(*, membership: Membership) -> None:
    """Remove someone from the course. Their reading progress and reviews belong to
    them, not to the course: they stay in the database, and every course page (which
    lists members only) stops showing them."""
    with transaction.atomic():
        if membership.role == Role.INSTRUCTOR and _instructor_count(membership.course) == 1:
            raise StaffActionError("A course needs an instructor: add another one first.")
        membership.delete()


# --- Schedule: dates -------------------------------------------------------------------

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def slot_dates(
    *,
    start: datetime.date,
    end: datetime.date,
    weekdays: set[int],
    holidays: set[datetime.date] = frozenset(),
) -> list[datetime.date]:
    """Every date from start to end (inclusive) on one of the weekdays (Monday is 0),
    except the holidays."""
    days = []
    day = start
    while day <= end:
        if day.weekday() in weekdays and day not in holidays:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def parse_holidays(text: str) -> set[datetime.date]:
    """Dates from 'YYYY-MM-DD' items and 'YYYY-MM-DD..YYYY-MM-DD' ranges (or 'A to B'),
    separated by commas or new lines. Raises ValidationError naming a bad item."""
    days = set()
    for item in text.replace(",", "\n").splitlines():
        item = item.strip()
        if not item:
            continue
        bounds = [part.strip() for part in item.replace(" to ", "..").split("..")]
        try:
            first, last = (
                [datetime.date.fromisoformat(b) for b in bounds] * (2 if len(bounds) == 1 else 1)
            )[:2]
        except ValueError:
            raise ValidationError(
                f"“{item}” is not a date (YYYY-MM-DD) or a range (YYYY-MM-DD..YYYY-MM-DD)."
            ) from None
        if len(bounds) > 2 or last < first:
            raise ValidationError(f"“{item}” is not a range from an earlier to a later date.")
        days.update(slot_dates(start=first, end=last, weekdays=set(range(7))))
    return days


def outside_term(course: Course, day: datetime.date | None) -> bool:
    if day is None:
        return False
    return bool(
        (course.starts_on and day < course.starts_on) or (course.ends_on and day > course.ends_on)
    )


def term_label(course: Course) -> str:
    start = course.starts_on.isoformat() if course.starts_on else "…"
    end = course.ends_on.isoformat() if course.ends_on else "…"
    return f"{start} to {end}"


@dataclass
class ScheduleRow:
    date: datetime.date
    title: str


def parse_schedule_csv(text: str, *, course: Course) -> list[ScheduleRow]:
    """Rows of a pasted `date,title` CSV (an optional header row `date,title` is
    skipped, as are blank lines). Raises ValidationError naming every bad row; a
    caller imports nothing then."""
    rows, errors = [], []
    reader = csv.reader(io.StringIO(text.strip()))
    title_limit = Lecture._meta.get_field("title").max_length
    for number, fields in enumerate(reader, start=1):
        fields = [f.strip() for f in fields]
        if not any(fields):
            continue
        if number == 1 and [f.lower() for f in fields] == ["date", "title"]:
            continue
        shown = ",".join(fields)
        if len(fields) != 2:
            errors.append(f"Row {number} ({shown}): expected two columns, date and title.")
            continue
        raw_date, title = fields
        try:
            day = datetime.date.fromisoformat(raw_date)
        except ValueError:
            errors.append(f"Row {number}: “{raw_date}” is not a date (use YYYY-MM-DD).")
            continue
        if not title:
            errors.append(f"Row {number}: the title is empty.")
        elif len(title) > title_limit:
            errors.append(f"Row {number}: the title is longer than {title_limit} characters.")
        elif outside_term(course, day):
            errors.append(f"Row {number}: {day} is outside the term ({term_label(course)}).")
        else:
            rows.append(ScheduleRow(day, title))
    if errors:
        raise ValidationError(errors)
    if not rows:
        raise ValidationError("No rows to import.")
    return rows


# --- Schedule: lectures ----------------------------------------------------------------


def _next_number(course) -> int:
    return (course.lectures.aggregate(top=Max("number"))["top"] or 0) + 1


def lectures_append(
    *,
    course: Course,
    rows: list[tuple[datetime.date, str]],
    start_time: datetime.time | None = None,
    duration_minutes: int = 80,
) -> list[Lecture]:
    """Append lectures (date, title) numbered after the course's last one."""
    if len(rows) > MAX_GENERATED_LECTURES:
        raise StaffActionError(f"At most {MAX_GENERATED_LECTURES} lectures at a time.")
    with transaction.atomic():
        # Lock the course so that two concurrent imports cannot pick the same numbers.
        Course.objects.select_for_update().filter(pk=course.pk).first()
        number = _next_number(course)
        if number + len(rows) - 1 > MAX_LECTURE_NUMBER:
            raise StaffActionError("Lecture numbers would run past 32767.")
        lectures = [
            Lecture(
                course=course,
                number=number + index,
                date=day,
                start_time=start_time,
                duration_minutes=duration_minutes,
                title=title,
            )
            for index, (day, title) in enumerate(rows)
        ]
        created = Lecture.objects.bulk_create(lectures)
        touch_courses([course.pk])  # bulk_create sends no signals: refresh the schedule
        return created


def lectures_generate(
    *,
    course: Course,
    dates: list[datetime.date],
    start_time: datetime.time | None,
    duration_minutes: int,
    title: str = "To be announced",
) -> list[Lecture]:
    """Empty lecture slots on the given dates, skipping dates that already have one."""
    taken = set(course.lectures.filter(date__in=dates).values_list("date", flat=True))
    rows = [(day, title) for day in dates if day not in taken]
    return lectures_append(
        course=course, rows=rows, start_time=start_time, duration_minutes=duration_minutes
    )


SLOT_FIELDS = ("number", "date", "start_time", "duration_minutes", "review_deadline")


def lecture_move(*, lecture: Lecture, direction: str) -> bool:
    """Move a lecture's topic one place earlier ("up") or later ("down"): it trades
    its slot (number, date, time, duration, deadline override) with its neighbour in
    schedule order, and keeps its title, links and readings. False at either end."""
    with transaction.atomic():
        Course.objects.select_for_update().filter(pk=lecture.course_id).first()
        ordered = list(Lecture.objects.filter(course_id=lecture.course_id).in_schedule_order())
        index = next(i for i, other in enumerate(ordered) if other.pk == lecture.pk)
        neighbour_index = index - 1 if direction == "up" else index + 1
        if not 0 <= neighbour_index < len(ordered):
            return False
        this, other = ordered[index], ordered[neighbour_index]
        this_slot = {name: getattr(this, name) for name in SLOT_FIELDS}
        other_slot = {name: getattr(other, name) for name in SLOT_FIELDS}
        # Park one number out of the way: (course, number) is unique at every step.
        parked = max(lecture.number for lecture in ordered) + 1
        Lecture.objects.filter(pk=this.pk).update(number=parked)
        Lecture.objects.filter(pk=other.pk).update(**this_slot, updated_at=timezone.now())
        Lecture.objects.filter(pk=this.pk).update(**other_slot, updated_at=timezone.now())
        touch_courses([lecture.course_id])  # update() sends no signals
    return True


# --- Readings --------------------------------------------------------------------------


def _next_order(lecture) -> int:
    top = lecture.readings.aggregate(top=Max("order"))["top"]
    return 0 if top is None else top + 1


def reading_add(*, lecture: Lecture, paper, required: bool = True, note: str = "") -> Reading:
    """Attach a paper to a lecture, after its other readings."""
    try:
        with transaction.atomic():
            return Reading.objects.create(
                lecture=lecture,
                paper=paper,
                required=required,
                note=note,
                order=_next_order(lecture),
            )
    except IntegrityError:
        raise StaffActionError(
            f"“{paper.title}” is already a reading of lecture {lecture.number}."
        ) from None


@dataclass
class ImportedReading:
    reading: Reading | None
    outcome: str  # the import service's outcome
    message: str


def reading_import_and_add(
    *, lecture: Lecture, text: str, added_by, required: bool = True, note: str = ""
) -> ImportedReading:
    """Import one arXiv id, DOI or BibTeX entry through the import service (which may
    fetch it) and attach the paper. A failed import raises StaffActionError with the
    service's reason; a paper that already is a reading raises it too."""
    from papers.services import import_single  # the catalog's import service (issue 3)

    result = import_single(text=text, added_by=added_by)
    if result.outcome == "failed" or result.paper is None:
        raise StaffActionError(result.reason or f"Could not import “{text.strip()[:80]}”.")
    reading = reading_add(lecture=lecture, paper=result.paper, required=required, note=note)
    message = {
        "created": "Imported and added",
        "updated": "Updated the catalog entry and added",
        "possible_duplicate": "Imported (it may duplicate a catalog entry) and added",
    }.get(result.outcome, "Found in the catalog and added")
    if result.outcome == "possible_duplicate" and result.reason:
        message += f" ({result.reason})"
    return ImportedReading(reading, result.outcome, f"{message}: {result.paper.title}.")


def _display_order(lecture) -> list[Reading]:
    return list(lecture.readings.order_by("-required", "order", "pk"))


def readings_reorder(*, lecture: Lecture, reading_ids: list[int]) -> None:
    """Set the order of a lecture's readings to the order of `reading_ids`, which must
    name each of them once. Required readings are still shown before optional ones."""
    with transaction.atomic():
        readings = {r.pk: r for r in lecture.readings.select_for_update()}
        if sorted(reading_ids) != sorted(readings):
            raise StaffActionError(
                "The readings of this lecture changed meanwhile; reload the page and try again."
            )
        for position, pk in enumerate(reading_ids):
            readings[pk].order = position
        Reading.objects.bulk_update(readings.values(), ["order"])
        touch_courses([lecture.course_id])  # bulk_update sends no signals


def reading_move(*, reading: Reading, direction: str) -> bool:
    """Swap a reading with its neighbour among the lecture's readings of the same kind
    (required or optional). False when there is none in that direction."""
    with transaction.atomic():
        Lecture.objects.select_for_update().filter(pk=reading.lecture_id).first()
        ordered = _display_order(reading.lecture)
        index = next(i for i, r in enumerate(ordered) if r.pk == reading.pk)
        other = index - 1 if direction == "up" else index + 1
        if not 0 <= other < len(ordered) or ordered[other].required != reading.required:
            return False
        ordered[index], ordered[other] = ordered[other], ordered[index]
        readings_reorder(lecture=reading.lecture, reading_ids=[r.pk for r in ordered])
    return True


def reading_transfer(*, reading: Reading, lecture: Lecture) -> Reading:
    """Move a reading to another lecture of the same course, after its readings."""
    if lecture.course_id != reading.lecture.course_id:
        raise StaffActionError("A reading can only move to a lecture of the same course.")
    try:
        with transaction.atomic():
            reading.lecture = lecture
            reading.order = _next_order(lecture)
            reading.save(update_fields=["lecture", "order", "updated_at"])
    except IntegrityError:
        raise StaffActionError(
            f"“{reading.paper.title}” is already a reading of lecture {lecture.number}."
        ) from None
    return reading


# --- Clone -----------------------------------------------------------------------------


COPIED_COURSE_FIELDS = (
    "institution",
    "instructor_names",
    "description",
    "url",
    "meeting",
    "timezone",
    "is_public",
    "review_visibility",
    "allow_late_reviews",
    "review_hours_before",
)
COPIED_LECTURE_FIELDS = (
    "number",
    "duration_minutes",
    "title",
    "description",
    "lecturer",
    "slides_url",
    "video_url",
    "note",
)


def _moved_deadline(lecture: Lecture, new: Lecture):
    """Keep an overridden deadline at the same distance from the lecture's start."""
    if lecture.review_deadline is None or lecture.starts_at is None or new.starts_at is None:
        return None
    return new.starts_at - (lecture.starts_at - lecture.review_deadline)


def course_clone(
    *,
    source: Course,
    created_by,
    code: str,
    title: str,
    term: str,
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
    offset_days: int | None = None,
    slots: list[tuple[datetime.date, datetime.time | None]] | None = None,
) -> Course:
    """A copy of `source` for a new term, with `created_by` and the source's other
    instructors as instructors. Lectures either move by `offset_days` or take the
    `slots` in schedule order (there must be one per lecture); readings come along.
    Students, their progress and their reviews do not (and TAs change per term)."""
    lectures = list(source.lectures.all().in_schedule_order())
    if slots is not None and len(slots) < len(lectures):
        raise StaffActionError(
            f"{len(slots)} slots for {len(lectures)} lectures: widen the dates or add weekdays."
        )
    with transaction.atomic():
        course = course_create(
            created_by=created_by,
            code=code,
            title=title,
            term=term,
            starts_on=starts_on,
            ends_on=ends_on,
            **{name: getattr(source, name) for name in COPIED_COURSE_FIELDS},
        )
        others = source.memberships.filter(role=Role.INSTRUCTOR).exclude(user=created_by)
        Membership.objects.bulk_create(
            Membership(user_id=m.user_id, course=course, role=Role.INSTRUCTOR) for m in others
        )
        new_lectures = []
        for index, lecture in enumerate(lectures):
            new = Lecture(course=course, **{n: getattr(lecture, n) for n in COPIED_LECTURE_FIELDS})
            if slots is not None:
                new.date, new.start_time = slots[index]
                new.start_time = new.start_time or lecture.start_time
            elif lecture.date is not None:
                new.date = lecture.date + datetime.timedelta(days=offset_days or 0)
                new.start_time = lecture.start_time
            new.review_deadline = _moved_deadline(lecture, new)
            new_lectures.append(new)
        Lecture.objects.bulk_create(new_lectures)
        by_old = {old.pk: new for old, new in zip(lectures, new_lectures, strict=True)}
        Reading.objects.bulk_create(
            Reading(
                lecture=by_old[r.lecture_id],
                paper_id=r.paper_id,
                required=r.required,
                order=r.order,
                section=r.section,
                note=r.note,
            )
            for r in Reading.objects.filter(lecture__course=source)
        )
        touch_courses([course.pk])  # bulk_create sends no signals
    return course


# --- Reads: review status and the tables -----------------------------------------------


class ReviewStatus:
    ON_TIME = "on_time"
    LATE = "late"
    DRAFT = "draft"
    NOT_YET = "not_yet"
    MISSING = "missing"
    LABELS = {
        ON_TIME: "On time",
        LATE: "Late",
        DRAFT: "Draft",
        NOT_YET: "Not yet due",
        MISSING: "Missing",
    }
    ORDER = (ON_TIME, LATE, DRAFT, NOT_YET, MISSING)


def review_status(
    review: Review | None, deadline: datetime.datetime | None, now: datetime.datetime | None = None
) -> str:
    """On time / late / draft / not yet due / missing. A submitted review is late when
    it was submitted after the deadline of the lecture that assigned the paper; an
    absent review is only missing once that deadline has passed."""
    if review is None:
        now = now or timezone.now()
        if deadline is None or deadline > now:
            return ReviewStatus.NOT_YET
        return ReviewStatus.MISSING
    if review.status != Review.Status.SUBMITTED:
        return ReviewStatus.DRAFT
    if deadline is not None and review.submitted_at > deadline:
        return ReviewStatus.LATE
    return ReviewStatus.ON_TIME


@dataclass
class Cell:
    """One student and one reading."""

    reading: Reading
    progress: str  # ReadingProgress.Status value ("to_read" when never touched)
    review: Review | None
    review_status: str

    @property
    def progress_label(self):
        return ReadingProgress.Status(self.progress).label

    @property
    def review_label(self):
        return ReviewStatus.LABELS[self.review_status]


def students_of(course):
    return (
        Membership.objects.filter(course=course, role=Role.STUDENT)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__email")
    )


def _states(user_ids, paper_ids):
    """Progress statuses and reviews keyed by (user id, paper id), in two queries.
    Both arguments may be subqueries."""
    progress = {
        (user_id, paper_id): status
        for user_id, paper_id, status in ReadingProgress.objects.filter(
            user_id__in=user_ids, paper_id__in=paper_ids
        ).values_list("user_id", "paper_id", "status")
    }
    reviews = {
        (review.author_id, review.paper_id): review
        for review in Review.objects.filter(author_id__in=user_ids, paper_id__in=paper_ids)
    }
    return progress, reviews


def _cell(reading, deadline, user_id, progress, reviews) -> Cell:
    review = reviews.get((user_id, reading.paper_id))
    return Cell(
        reading=reading,
        progress=progress.get((user_id, reading.paper_id), ReadingProgress.Status.TO_READ),
        review=review,
        review_status=review_status(review, deadline),
    )


@dataclass
class ReadingCounts:
    reading: Reading
    progress: dict[str, int]
    reviews: dict[str, int]


@dataclass
class LectureTable:
    lecture: Lecture
    readings: list[Reading]
    rows: list[tuple[Membership, list[Cell]]]
    columns: list[ReadingCounts]
    totals: dict[str, int]  # review status -> count over every cell


def lecture_table(*, lecture: Lecture) -> LectureTable:
    """Every student of the course against every reading of the lecture: reading
    status and review status, with counts per reading and in total. Four queries:
    readings (with papers), students (with users), progress, reviews."""
    readings = list(lecture.readings.select_related("paper").order_by("-required", "order", "pk"))
    students = list(students_of(lecture.course))
    student_ids = students_of(lecture.course).values("user_id")
    progress, reviews = _states(student_ids, [r.paper_id for r in readings])
    deadline = lecture.effective_review_deadline
    rows = [
        (m, [_cell(r, deadline, m.user_id, progress, reviews) for r in readings]) for m in students
    ]
    columns = []
    for index, reading in enumerate(readings):
        cells = [cells[index] for _, cells in rows]
        columns.append(
            ReadingCounts(
                reading=reading,
                progress={s: sum(c.progress == s for c in cells) for s in ReadingProgress.Status},
                reviews={s: sum(c.review_status == s for c in cells) for s in ReviewStatus.ORDER},
            )
        )
    totals = {
        status: sum(column.reviews[status] for column in columns) for status in ReviewStatus.ORDER
    }
    return LectureTable(lecture, readings, rows, columns, totals)


def course_lectures_with_readings(course):
    """The course's lectures in schedule order, each with `course` set and its readings
    (with papers) prefetched: two queries."""
    lectures = list(
        course.lectures.all()
        .in_schedule_order()
        .prefetch_related(
            Prefetch(
                "readings",
                queryset=Reading.objects.select_related("paper").order_by(
                    "-required", "order", "pk"
                ),
            )
        )
    )
    for lecture in lectures:
        lecture.course = course
    return lectures


@dataclass
class StudentProgress:
    membership: Membership
    lectures: list[tuple[Lecture, list[Cell]]]

    @property
    def cells(self):
        return [cell for _, cells in self.lectures for cell in cells]

    @property
    def required_read(self):
        return sum(1 for c in self.cells if c.reading.required and c.progress == "read")

    @property
    def required_count(self):
        return sum(1 for c in self.cells if c.reading.required)

    @property
    def review_counts(self):
        return {s: sum(c.review_status == s for c in self.cells) for s in ReviewStatus.ORDER}


def student_progress(*, course: Course, membership: Membership) -> StudentProgress:
    """One student's reading and review status for every reading of the term."""
    lectures = course_lectures_with_readings(course)
    paper_ids = Reading.objects.filter(lecture__course=course).values("paper_id")
    progress, reviews = _states([membership.user_id], paper_ids)
    return StudentProgress(
        membership=membership,
        lectures=[
            (
                lecture,
                [
                    _cell(
                        r, lecture.effective_review_deadline, membership.user_id, progress, reviews
                    )
                    for r in lecture.readings.all()
                ],
            )
            for lecture in lectures
        ],
    )


def progress_rows(*, course: Course):
    """One row per student and reading of the course, in schedule order: what the
    CSV export writes. Five queries whatever the size of the class."""
    lectures = course_lectures_with_readings(course)
    students = list(students_of(course))
    paper_ids = Reading.objects.filter(lecture__course=course).values("paper_id")
    progress, reviews = _states(students_of(course).values("user_id"), paper_ids)
    for membership in students:
        for lecture in lectures:
            deadline = lecture.effective_review_deadline
            for reading in lecture.readings.all():
                yield (
                    membership,
                    lecture,
                    _cell(reading, deadline, membership.user_id, progress, reviews),
                )


@dataclass
class RatingSummary:
    label: str
    values: list[int]
    median: float | None
    low: int | None
    high: int | None
    histogram: list[tuple[int, int]]  # (value, count) for 1..5


def rating_summary(label: str, values: list[int]) -> RatingSummary:
    return RatingSummary(
        label=label,
        values=values,
        median=statistics.median(values) if values else None,
        low=min(values) if values else None,
        high=max(values) if values else None,
        histogram=[(value, values.count(value)) for value in range(1, 6)],
    )


@dataclass
class PaperReviews:
    lecture: Lecture  # the (first) lecture of the course that assigns the paper
    reviews: list[tuple[Review, str]]  # submitted reviews of current students, with status
    drafts: int
    students: int
    ratings: list[RatingSummary]
    answers: list[tuple[object, list[tuple[Review, str]]]]  # (question, [(review, HTML)])


def paper_reviews(*, course: Course, lecture: Lecture, paper) -> PaperReviews:
    """The class's submitted reviews of a paper: rating medians and spread, and each
    checklist answer of every reviewer, question by question."""
    students = students_of(course)
    all_reviews = list(
        Review.objects.filter(paper=paper, author__in=students.values("user_id"))
        .select_related("author")
        .order_by("author__last_name", "author__first_name", "author__email")
    )
    deadline = lecture.effective_review_deadline
    submitted = [
        (r, review_status(r, deadline)) for r in all_reviews if r.status == Review.Status.SUBMITTED
    ]
    ratings = [
        rating_summary(
            rating.label,
            [getattr(r, rating.field) for r, _ in submitted if getattr(r, rating.field)],
        )
        for rating in RATINGS
    ]
    answers = [
        (
            question,
            [(r, render_markdown((r.answers or {}).get(question.key, ""))) for r, _ in submitted],
        )
        for question in QUESTIONS
    ]
    return PaperReviews(
        lecture=lecture,
        reviews=submitted,
        drafts=len(all_reviews) - len(submitted),
        students=students.count(),
        ratings=ratings,
        answers=answers,
    )


def lecture_submitted_reviews(*, lecture: Lecture):
    """[(reading, [(review, status)])] of the lecture's readings: submitted reviews by
    the course's current students, by name. Three queries."""
    readings = list(lecture.readings.select_related("paper").order_by("-required", "order", "pk"))
    deadline = lecture.effective_review_deadline
    reviews = (
        Review.objects.filter(
            Q(status=Review.Status.SUBMITTED),
            paper__in=[r.paper_id for r in readings],
            author__in=students_of(lecture.course).values("user_id"),
        )
        .select_related("author")
        .order_by("author__last_name", "author__first_name", "author__email")
    )
    by_paper: dict[int, list] = {}
    for review in reviews:
        by_paper.setdefault(review.paper_id, []).append((review, review_status(review, deadline)))
    return [(reading, by_paper.get(reading.paper_id, [])) for reading in readings]
