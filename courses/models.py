import datetime
import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Prefetch, Q
from django.urls import reverse
from django.utils.functional import cached_property

from papers.models import Authorship, Paper


def new_join_code():
    # 10 characters from an alphabet without look-alikes (0/O, 1/l/I).
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


def new_feed_token():
    # The secret part of a members-only course's calendar and feed URLs (issue 5).
    return secrets.token_urlsafe(24)


def default_timezone():
    return settings.TIME_ZONE


def validate_timezone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. America/New_York).")


class CourseQuerySet(models.QuerySet):
    def with_viewer_role(self, user):
        """Annotate `viewer_role`: the user's Membership.Role in each course, or None."""
        if not user.is_authenticated:
            return self.annotate(viewer_role=models.Value(None, output_field=models.CharField()))
        role = (
            Membership.objects.filter(course=models.OuterRef("pk"), user=user)
            .order_by()
            .values("role")
        )
        return self.annotate(viewer_role=models.Subquery(role[:1]))

    def visible_to(self, user):
        """Courses whose schedule the user may see: public ones and their own."""
        if user.is_authenticated and user.is_staff:
            return self
        if user.is_authenticated:
            return self.filter(Q(is_public=True) | Q(memberships__user=user)).distinct()
        return self.filter(is_public=True)


class Course(models.Model):
    class ReviewVisibility(models.TextChoices):
        NEVER = "never", "Never"
        AFTER_OWN = "after_own", "After the student submitted their own review"
        AFTER_DEADLINE = "after_deadline", "After the review deadline"

    code = models.CharField(max_length=40, help_text="e.g. 15-849")
    title = models.CharField(max_length=200)
    term = models.CharField(max_length=60, help_text="e.g. Spring 2022")
    slug = models.SlugField(max_length=100, unique=True)
    institution = models.CharField(max_length=200, blank=True)
    instructor_names = models.CharField(
        max_length=300, blank=True, help_text="As published, e.g. 'Zhihao Jia'."
    )
    description = models.TextField(blank=True)
    url = models.URLField("course website", max_length=500, blank=True)
    meeting = models.CharField(max_length=200, blank=True, help_text="e.g. Mon/Wed 15:05-16:25")
    starts_on = models.DateField("first day of the term", null=True, blank=True)
    ends_on = models.DateField("last day of the term", null=True, blank=True)
    timezone = models.CharField(
        max_length=64, default=default_timezone, validators=[validate_timezone]
    )
    is_public = models.BooleanField(
        "public", default=True, help_text="Anyone may see the schedule; otherwise members only."
    )
    join_code = models.CharField(max_length=32, unique=True, default=new_join_code)
    feed_token = models.CharField(
        max_length=64,
        default=new_feed_token,
        help_text="Secret part of the calendar and feed URLs; regenerate to revoke them.",
    )
    review_visibility = models.CharField(
        "peers' reviews visible",
        max_length=20,
        choices=ReviewVisibility.choices,
        default=ReviewVisibility.AFTER_DEADLINE,
    )
    allow_late_reviews = models.BooleanField(default=True)
    review_hours_before = models.PositiveSmallIntegerField(
        "review deadline (hours before the lecture)",
        default=0,
        help_text="Default review deadline; a lecture may override it.",
    )
    provenance = models.TextField(
        blank=True, help_text="Where the course facts come from (shown on the course page)."
    )
    position = models.PositiveSmallIntegerField(default=100, help_text="Order on the home page.")
    schedule_revision = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Goes up whenever anything shown on the schedule changes (courses/signals.py).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["position", "code", "term"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True)
                | Q(ends_on__isnull=True)
                | Q(starts_on__lte=F("ends_on")),
                name="course_term_dates_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.title} ({self.term})"

    def get_absolute_url(self):
        return reverse("courses:schedule", kwargs={"slug": self.slug})

    @property
    def tzinfo(self):
        return zoneinfo.ZoneInfo(self.timezone)

    def viewer_can_see_schedule(self, user):
        """Needs with_viewer_role(user)."""
        return self.is_public or self.viewer_role is not None or user.is_staff


class Membership(models.Model):
    class Role(models.TextChoices):
        STUDENT = "student", "Student"
        TA = "ta", "Teaching assistant"
        INSTRUCTOR = "instructor", "Instructor"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STUDENT)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["course", "role", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "course"], name="membership_unique"),
        ]

    def __str__(self):
        return f"{self.user} in {self.course.code} as {self.get_role_display()}"


class Invitation(models.Model):
    """A pending enrolment for an e-mail address without an account yet."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(
        max_length=20, choices=Membership.Role.choices, default=Membership.Role.STUDENT
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["course", "email"]
        constraints = [
            models.UniqueConstraint(fields=["course", "email"], name="invitation_unique"),
            models.CheckConstraint(
                condition=Q(email=models.functions.Lower("email")),
                name="invitation_email_lowercase",
            ),
        ]

    def __str__(self):
        return f"{self.email} invited to {self.course.code}"


class LectureQuerySet(models.QuerySet):
    def in_schedule_order(self):
        """Date order (undated lectures last), then start time, then number."""
        return self.order_by(F("date").asc(nulls_last=True), "start_time", "number")

    def for_course(self, course):
        """The schedule: lectures in date order (undated ones last, by number), each
        with its readings (required first, then by order) and their papers' authors.
        Three queries whatever the number of lectures and readings."""
        return (
            self.filter(course=course)
            .select_related("course")
            .in_schedule_order()
            .prefetch_related(Prefetch("readings", queryset=Reading.objects.in_schedule_order()))
        )


class Lecture(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lectures")
    number = models.PositiveSmallIntegerField()
    date = models.DateField(null=True, blank=True)
    start_time = models.TimeField(null=True, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(default=80)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    lecturer = models.CharField(max_length=200, blank=True)
    slides_url = models.URLField(max_length=1000, blank=True)
    video_url = models.URLField(max_length=1000, blank=True)
    note = models.CharField(
        max_length=300,
        blank=True,
        help_text="Logistics shown with the lecture, e.g. 'Lab 1 release'.",
    )
    review_deadline = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Overrides the course's default (the lecture's start minus its offset).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = LectureQuerySet.as_manager()

    class Meta:
        ordering = ["course", "date", "number"]
        constraints = [
            models.UniqueConstraint(fields=["course", "number"], name="lecture_number_unique"),
        ]

    def __str__(self):
        return f"{self.course.code} lecture {self.number}: {self.title}"

    def get_absolute_url(self):
        return (
            reverse("courses:schedule", kwargs={"slug": self.course.slug})
            + f"#lecture-{self.number}"
        )

    @cached_property
    def starts_at(self):
        """The lecture's start as an aware datetime in the course's time zone, or None
        when the date is not known. A lecture without a time starts at midnight."""
        if self.date is None:
            return None
        return datetime.datetime.combine(
            self.date, self.start_time or datetime.time(0, 0), tzinfo=self.course.tzinfo
        )

    @cached_property
    def effective_review_deadline(self):
        if self.review_deadline is not None:
            return self.review_deadline
        if self.starts_at is None:
            return None
        return self.starts_at - datetime.timedelta(hours=self.course.review_hours_before)


class ReadingQuerySet(models.QuerySet):
    def in_schedule_order(self):
        """Required readings first, then by the instructor's order, with each paper and
        its authors in order (one extra query for the authors of all of them)."""
        return (
            self.select_related("paper")
            .prefetch_related(
                Prefetch(
                    "paper__authorships",
                    queryset=Authorship.objects.select_related("author").order_by("position"),
                )
            )
            .order_by("-required", "order", "pk")
        )


class Reading(models.Model):
    lecture = models.ForeignKey(Lecture, on_delete=models.CASCADE, related_name="readings")
    paper = models.ForeignKey(Paper, on_delete=models.PROTECT, related_name="readings")
    required = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)
    section = models.CharField(
        max_length=200, blank=True, help_text="Optional group heading, e.g. 'Pipeline training'."
    )
    note = models.TextField(blank=True, help_text="Shown to students with the reading.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReadingQuerySet.as_manager()

    class Meta:
        ordering = ["lecture", "-required", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["lecture", "paper"], name="reading_unique"),
        ]

    def __str__(self):
        kind = "required" if self.required else "optional"
        return f"{self.paper.title} ({kind}, lecture {self.lecture.number})"


class ReadingProgress(models.Model):
    """A user's reading status of a paper, shared by every course that assigns it."""

    class Status(models.TextChoices):
        TO_READ = "to_read", "To read"
        READING = "reading", "Reading"
        READ = "read", "Read"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reading_progress"
    )
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="progress")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.TO_READ)
    note = models.TextField(blank=True, help_text="Private: only its author sees it.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "reading progress"
        ordering = ["user", "paper"]
        constraints = [
            models.UniqueConstraint(fields=["user", "paper"], name="progress_unique"),
        ]

    def __str__(self):
        return f"{self.user}: {self.paper.title} ({self.get_status_display()})"


class Review(models.Model):
    """A structured review answering the how-to-read-a-paper checklist.

    `answers` maps the checklist's section keys (courses/checklist.py) to Markdown.
    `version` increases on every save so that a stale form can be detected.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews"
    )
    paper = models.ForeignKey(Paper, on_delete=models.PROTECT, related_name="reviews")
    answers = models.JSONField(default=dict, blank=True)
    evaluation_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    impact_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    overall_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["author", "paper"], name="review_unique"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False),
                name="review_submitted_has_time",
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{field}__isnull": True})
                    | Q(**{f"{field}__gte": 1, f"{field}__lte": 5}),
                    name=f"review_{field}_1_to_5",
                )
                for field in ("evaluation_rating", "impact_rating", "overall_rating", "confidence")
            ],
        ]

    def __str__(self):
        return f"Review of {self.paper.title} by {self.author} ({self.get_status_display()})"
