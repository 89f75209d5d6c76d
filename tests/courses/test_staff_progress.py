"""Running the term: the lecture table (reading and review status of every student),
a student's progress, a paper's ratings and reviews side by side."""

import datetime

from django.test import TestCase
from django.urls import reverse

from courses.models import ReadingProgress, Review
from courses.staff_services import ReviewStatus, rating_summary, review_status
from tests.courses.test_staff_support import SECRET_ANSWER, at, build_term
from tests.factories import enrol, make_course, make_lecture, make_paper, make_reading, make_user

D = datetime.date
DEADLINE = at(D(2022, 1, 17), 13, 5)  # lecture 1 starts 15:05, reviews due 2 hours before


def submitted(author, paper, when, **ratings):
    return Review.objects.create(
        author=author, paper=paper, status=Review.Status.SUBMITTED, submitted_at=when, **ratings
    )


class ReviewStatusTests(TestCase):
    def test_late_means_submitted_after_the_deadline(self):
        review = Review(status=Review.Status.SUBMITTED, submitted_at=DEADLINE)
        self.assertEqual(review_status(review, DEADLINE), ReviewStatus.ON_TIME)
        review.submitted_at = DEADLINE + datetime.timedelta(seconds=1)
        self.assertEqual(review_status(review, DEADLINE), ReviewStatus.LATE)
        self.assertEqual(review_status(review, None), ReviewStatus.ON_TIME)
        self.assertEqual(review_status(Review(), DEADLINE), ReviewStatus.DRAFT)
        self.assertEqual(review_status(None, DEADLINE), ReviewStatus.MISSING)

    def test_rating_summary_has_median_and_spread(self):
        summary = rating_summary("Overall", [4, 2, 5, 4])
        self.assertEqual(
            (summary.median, summary.low, summary.high, summary.histogram),
            (4.0, 2, 5, [(1, 0), (2, 1), (3, 0), (4, 2), (5, 1)]),
        )
        empty = rating_summary("Overall", [])
        self.assertEqual((empty.median, empty.low, empty.high), (None, None, None))

    def test_absent_review_is_not_yet_due_before_the_deadline_and_missing_after(self):
        deadline = datetime.datetime(2022, 2, 16, 20, 5, tzinfo=datetime.UTC)
        before = deadline - datetime.timedelta(minutes=1)
        after = deadline + datetime.timedelta(minutes=1)
        self.assertEqual(review_status(None, deadline, now=before), ReviewStatus.NOT_YET)
        self.assertEqual(review_status(None, deadline, now=after), ReviewStatus.MISSING)
        self.assertEqual(review_status(None, None, now=after), ReviewStatus.NOT_YET)


class LectureTableTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_term(cls)
        cls.optional = make_reading(cls.lecture, make_paper("An Optional Extra"), required=False)
        cls.late = make_user("lou@example.org", first_name="Lou", last_name="Late")
        cls.drafter = make_user("dora@example.org", first_name="Dora", last_name="Drafter")
        enrol(cls.late, cls.course)
        enrol(cls.drafter, cls.course)
        submitted(cls.late, cls.paper, DEADLINE + datetime.timedelta(minutes=1))
        Review.objects.create(author=cls.drafter, paper=cls.paper)
        ReadingProgress.objects.create(
            user=cls.drafter, paper=cls.paper, status=ReadingProgress.Status.READING
        )
        # The classmate reviewed the optional paper long ago for another course: on time.
        submitted(cls.classmate, cls.optional.paper, at(D(2021, 6, 1), 9))

    def test_table_shows_reading_and_review_status_of_every_student(self):
        self.client.force_login(self.ta)
        response = self.client.get(
            reverse("courses:manage_lecture_progress", args=[self.course.slug, self.lecture.pk])
        )
        table = response.context["table"]
        self.assertEqual(
            [
                (m.user.email, [(c.progress, c.review_status) for c in cells])
                for m, cells in table.rows
            ],
            [
                ("cleo@example.org", [("to_read", "missing"), ("to_read", "on_time")]),
                ("dora@example.org", [("reading", "draft"), ("to_read", "missing")]),
                ("lou@example.org", [("to_read", "late"), ("to_read", "missing")]),
                ("sam@example.org", [("read", "on_time"), ("to_read", "missing")]),
            ],
        )
        self.assertEqual(
            table.totals, {"on_time": 2, "late": 1, "draft": 1, "not_yet": 0, "missing": 4}
        )
        self.assertEqual(
            [(c.progress, c.reviews) for c in table.columns],
            [
                (
                    {"to_read": 2, "reading": 1, "read": 1},
                    {"on_time": 1, "late": 1, "draft": 1, "not_yet": 0, "missing": 1},
                ),
                (
                    {"to_read": 4, "reading": 0, "read": 0},
                    {"on_time": 1, "late": 0, "draft": 0, "not_yet": 0, "missing": 3},
                ),
            ],
        )
        self.assertContains(
            response,
            '<span class="review review--late">1 late</span>',
            html=True,
        )
        self.assertContains(response, "4 students. Reviews:")

    def test_student_page_shows_their_progress_across_the_term(self):
        second = make_lecture(self.course, 2, date=D(2022, 1, 19), title="Compilers")
        make_reading(second, make_paper("Halide"))
        self.client.force_login(self.instructor)
        response = self.client.get(
            reverse("courses:manage_student", args=[self.course.slug, self.student.pk])
        )
        progress = response.context["progress"]
        self.assertEqual(
            [
                (
                    lecture.number,
                    [(c.reading.paper.title, c.progress, c.review_status) for c in cells],
                )
                for lecture, cells in progress.lectures
            ],
            [
                (
                    1,
                    [
                        ("A Secret Reading on Autodiff", "read", "on_time"),
                        ("An Optional Extra", "to_read", "missing"),
                    ],
                ),
                (2, [("Halide", "to_read", "missing")]),
            ],
        )
        self.assertEqual((progress.required_read, progress.required_count), (1, 2))
        self.assertContains(response, "Required readings read: 1 of 2.")


class LectureTableQueryCountTests(TestCase):
    """The lecture table costs the same number of queries for 1 and 3 students."""

    @classmethod
    def setUpTestData(cls):
        cls.instructor = make_user()
        cls.courses = {}
        for count in (1, 3):
            course = make_course(f"C-{count}", slug=f"c-{count}")
            enrol(cls.instructor, course, "instructor")
            lecture = make_lecture(course, 1, date=D(2022, 2, 1))
            papers = [make_reading(lecture).paper, make_reading(lecture, order=1).paper]
            for _ in range(count):
                student = make_user()
                enrol(student, course)
                ReadingProgress.objects.create(user=student, paper=papers[0], status="read")
                submitted(student, papers[0], at(D(2022, 1, 30), 9), overall_rating=3)
                Review.objects.create(author=student, paper=papers[1])
            cls.courses[count] = (course, lecture)

    def test_constant_queries_at_one_and_three_students(self):
        self.client.force_login(self.instructor)
        for count, (course, lecture) in self.courses.items():
            with self.subTest(students=count):
                url = reverse("courses:manage_lecture_progress", args=[course.slug, lecture.pk])
                # user, course (+ viewer's role), lecture, readings (+ papers),
                # students (+ users), reading progress, reviews
                with self.assertNumQueries(7):
                    response = self.client.get(url)
                self.assertEqual(len(response.context["table"].rows), count)
                self.assertEqual(response.context["table"].totals["on_time"], count)


class PaperPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_term(cls)
        cls.review.evaluation_rating = 3
        cls.review.impact_rating = 5
        cls.review.confidence = 2
        cls.review.save()
        submitted(
            cls.classmate,
            cls.paper,
            DEADLINE + datetime.timedelta(hours=1),
            overall_rating=2,
            evaluation_rating=5,
            impact_rating=4,
            confidence=4,
        )
        cls.outsider = make_user()
        submitted(cls.outsider, cls.paper, at(D(2022, 1, 1), 9), overall_rating=1)
        cls.drafter = make_user()
        enrol(cls.drafter, cls.course)
        Review.objects.create(author=cls.drafter, paper=cls.paper, overall_rating=1)

    def test_ratings_of_the_class_and_their_reviews_side_by_side(self):
        self.client.force_login(self.ta)
        response = self.client.get(
            reverse("courses:manage_paper", args=[self.course.slug, self.paper.pk])
        )
        summary = response.context["summary"]
        self.assertEqual(
            [(r.author.email, status) for r, status in summary.reviews],
            [("cleo@example.org", "late"), ("sam@example.org", "on_time")],
        )
        self.assertEqual(
            [(r.label, r.median, r.low, r.high) for r in summary.ratings],
            [
                ("How convincing are the experiments?", 4.0, 3, 5),
                ("Expected impact", 4.5, 4, 5),
                ("Overall", 3.0, 2, 4),
                ("Confidence in your reading", 3.0, 2, 4),
            ],
        )
        self.assertEqual(summary.drafts, 1)
        first_question, answers = summary.answers[0]
        self.assertEqual(first_question.key, "high_level_idea")
        self.assertEqual(
            [(r.author.email, html) for r, html in answers],
            [("cleo@example.org", ""), ("sam@example.org", f"<p>{SECRET_ANSWER}</p>")],
        )
        self.assertContains(response, SECRET_ANSWER)
        self.assertContains(response, "2 submitted reviews from 3 students, 1 draft not shown.")

    def test_a_paper_that_is_not_a_reading_of_the_course_is_not_found(self):
        self.client.force_login(self.ta)
        other = make_paper("Not assigned here")
        response = self.client.get(
            reverse("courses:manage_paper", args=[self.course.slug, other.pk])
        )
        self.assertEqual(response.status_code, 404)


class EmptyStateTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.instructor = make_user()
        cls.course = make_course("E-1", slug="empty")
        enrol(cls.instructor, cls.course, "instructor")
        cls.lecture = make_lecture(cls.course, 1)

    def test_lecture_without_readings_or_students_says_what_to_do_next(self):
        self.client.force_login(self.instructor)
        response = self.client.get(
            reverse("courses:manage_lecture_progress", args=[self.course.slug, self.lecture.pk])
        )
        self.assertContains(response, "This lecture has no readings yet.")
        make_reading(self.lecture)
        response = self.client.get(
            reverse("courses:manage_lecture_progress", args=[self.course.slug, self.lecture.pk])
        )
        self.assertContains(response, "No students yet.")
        self.assertEqual(response.context["table"].totals, dict.fromkeys(ReviewStatus.ORDER, 0))
