"""Student-side writes: joining a course, reading status, private notes, reviews.

Each function takes keyword-only arguments, validates what the database cannot, and
raises `StudentActionError` (or a subclass) whose message is shown to the user as is.
"""

import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from courses.checklist import MAX_ANSWER_CHARS, QUESTION_KEYS, RATING_FIELDS
from courses.models import Course, Lecture, Membership, ReadingProgress, Review


class StudentActionError(Exception):
    """A refused action; str(error) is a message for the user."""


class JoinRefused(StudentActionError):
    pass


class ReviewRefused(StudentActionError):
    pass


class StaleReview(ReviewRefused):
    """The review changed since the form was loaded (another tab or device)."""


class IncompleteReview(ReviewRefused):
    def __init__(self, missing: list[str], *, saved: bool = True):
        self.missing = missing
        count = f"{len(missing)} question{'s' if len(missing) != 1 else ''} still unanswered"
        if saved:
            super().__init__(f"{count}; your answers are saved as a draft.")
        else:
            super().__init__(f"{count}; nothing was saved: a submitted review stays complete.")


def join_course(*, user, code: str, course: Course | None = None) -> tuple[Membership, bool]:
    """Enrol `user` as a student of the course whose join code is `code`.

    With `course`, the code must be that course's. Returns (membership, created);
    joining twice changes nothing (an existing TA or instructor keeps their role).
    Raises JoinRefused for an unknown or revoked code.
    """
    # (codes are lower case: a phone's keyboard capitalising the first letter is forgiven)
    code = (code or "").strip().lower()
    found = Course.objects.filter(join_code=code).first() if code else None
    if found is None or (course is not None and found.pk != course.pk):
        raise JoinRefused(
            "This join code is not valid. It may have been mistyped or replaced by a "
            "new one: ask your instructor for the current code."
        )
    try:
        with transaction.atomic():
            membership, created = Membership.objects.get_or_create(
                user=user, course=found, defaults={"role": Membership.Role.STUDENT}
            )
    except IntegrityError:  # a concurrent double submit created it first
        membership, created = Membership.objects.get(user=user, course=found), False
    return membership, created


def set_reading_status(*, user, paper, status: str) -> ReadingProgress:
    """Record the user's status for a paper (shared by every course assigning it)."""
    if status not in ReadingProgress.Status.values:
        raise StudentActionError(f"Unknown reading status {status!r}.")
    now = timezone.now()
    with transaction.atomic():
        progress, _ = ReadingProgress.objects.select_for_update().get_or_create(
            user=user, paper=paper
        )
        progress.status = status
        if status != ReadingProgress.Status.TO_READ and progress.started_at is None:
            progress.started_at = now
        progress.finished_at = now if status == ReadingProgress.Status.READ else None
        progress.save()
    return progress


def save_note(*, user, paper, note: str) -> ReadingProgress:
    """Save the user's private note on a paper."""
    if len(note) > MAX_ANSWER_CHARS:
        raise StudentActionError(
            f"The note is {len(note):,} characters long; the limit is {MAX_ANSWER_CHARS:,}."
        )
    with transaction.atomic():
        progress, _ = ReadingProgress.objects.select_for_update().get_or_create(
            user=user, paper=paper
        )
        progress.note = note
        progress.save(update_fields=["note", "updated_at"])
    return progress


def assigning_lectures(*, user, paper_ids) -> dict[int, Lecture]:
    """For each paper, the lecture whose deadline governs the user's review of it:
    among the lectures of the user's courses that assign it, the one with the
    earliest deadline still to come, else the latest past one, else any (undated).
    One query for any number of papers."""
    lectures = (
        Lecture.objects.filter(readings__paper__in=paper_ids, course__memberships__user=user)
        .select_related("course")
        .annotate(assigned_paper_id=F("readings__paper_id"))
    )
    by_paper: dict[int, list[Lecture]] = {}
    for lecture in lectures:
        by_paper.setdefault(lecture.assigned_paper_id, []).append(lecture)
    now = timezone.now()
    return {paper_id: _governing(candidates, now) for paper_id, candidates in by_paper.items()}


def _governing(lectures, now):
    dated = [lecture for lecture in lectures if lecture.effective_review_deadline]
    upcoming = [lecture for lecture in dated if lecture.effective_review_deadline >= now]
    if upcoming:
        return min(upcoming, key=lambda lecture: lecture.effective_review_deadline)
    if dated:
        return max(dated, key=lambda lecture: lecture.effective_review_deadline)
    return lectures[0]


def assigning_lecture(*, user, paper) -> Lecture | None:
    return assigning_lectures(user=user, paper_ids=[paper.pk]).get(paper.pk)


def missing_answers(answers: dict, ratings: dict) -> list[str]:
    """Checklist keys and rating fields that are still empty."""
    missing = [key for key in QUESTION_KEYS if not (answers.get(key) or "").strip()]
    missing += [field for field in RATING_FIELDS if ratings.get(field) is None]
    return missing


def save_review(
    *,
    author,
    paper,
    answers: dict,
    ratings: dict,
    expected_version: int | None,
    submit: bool,
    lecture: Lecture | None = None,
    now: datetime.datetime | None = None,
) -> Review:
    """Create or update the author's review of a paper, as a draft or submitted.

    `expected_version` is the version the form was loaded with (None for a new
    review): a different current version raises StaleReview and saves nothing.
    Submitting needs every question and rating answered (IncompleteReview; a draft
    still saves its answers, a submitted review being edited keeps what it was), and, after the deadline, a course that allows late
    reviews (ReviewRefused, draft kept). A submitted review can be edited until the
    deadline; after it only when late reviews are allowed.
    """
    now = now or timezone.now()
    answers = {key: (answers.get(key) or "") for key in QUESTION_KEYS}
    too_long = [key for key, text in answers.items() if len(text) > MAX_ANSWER_CHARS]
    if too_long:
        raise ReviewRefused(
            f"An answer is longer than {MAX_ANSWER_CHARS:,} characters; please shorten it."
        )
    deadline = lecture.effective_review_deadline if lecture else None
    past_deadline = deadline is not None and now > deadline
    late_allowed = lecture is None or lecture.course.allow_late_reviews

    with transaction.atomic():
        review = Review.objects.select_for_update().filter(author=author, paper=paper).first()
        current_version = review.version if review else None
        if review is not None and expected_version != current_version:
            raise StaleReview(
                "This review was changed in another tab or window since you opened it. "
                "Nothing was saved: the saved version is shown under “As saved”; save "
                "again to replace it with what is in the form."
            )
        if review is None and expected_version is not None:
            raise StaleReview("This review was deleted since you opened it; reload the page.")
        if review is None:
            review = Review(author=author, paper=paper)
        if review.status == Review.Status.SUBMITTED and past_deadline and not late_allowed:
            raise ReviewRefused(
                "The deadline has passed and this course does not accept late changes; "
                "your submitted review stays as it was."
            )
        already_submitted = review.status == Review.Status.SUBMITTED
        if already_submitted and missing_answers(answers, ratings):
            # Editing a submitted review must not quietly make it incomplete.
            raise IncompleteReview(missing_answers(answers, ratings), saved=False)
        review.answers = answers
        for field in RATING_FIELDS:
            setattr(review, field, ratings.get(field))
        review.version = (current_version or 0) + 1
        missing = missing_answers(answers, ratings) if submit else []
        refuse = None
        if submit and missing:
            refuse = IncompleteReview(missing)
        elif (
            submit
            and past_deadline
            and not late_allowed
            and review.status != Review.Status.SUBMITTED
        ):
            refuse = ReviewRefused(
                "The review deadline has passed and this course does not accept late "
                "reviews. Your answers are saved as a draft."
            )
        elif submit and review.status != Review.Status.SUBMITTED:
            review.status = Review.Status.SUBMITTED
            review.submitted_at = now
        try:
            with transaction.atomic():
                review.save()
        except IntegrityError:
            # Another request created the review between our read and write
            # (double submit): report it as stale instead of creating a second one.
            raise StaleReview(
                "This review was just saved from another tab or window; reload the page."
            ) from None
    if refuse is not None:
        refuse.review = review
        raise refuse
    return review
