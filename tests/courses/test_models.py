import datetime

from django.db import IntegrityError, transaction
from django.test import TestCase

from courses.models import Membership, Reading, ReadingProgress, Review
from tests.factories import enrol, make_course, make_lecture, make_paper, make_user


class CourseConstraintTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.course = make_course()
        cls.user = make_user()
        cls.paper = make_paper()
        cls.lecture = make_lecture(cls.course, 1)

    def assert_integrity_error(self, create):
        with self.assertRaises(IntegrityError), transaction.atomic():
            create()

    def test_one_membership_per_user_and_course(self):
        enrol(self.user, self.course)
        self.assert_integrity_error(lambda: enrol(self.user, self.course, Membership.Role.TA))

    def test_lecture_numbers_unique_per_course(self):
        self.assert_integrity_error(lambda: make_lecture(self.course, 1))
        make_lecture(make_course(slug="other"), 1)

    def test_one_reading_per_lecture_and_paper(self):
        Reading.objects.create(lecture=self.lecture, paper=self.paper)
        self.assert_integrity_error(
            lambda: Reading.objects.create(lecture=self.lecture, paper=self.paper, required=False)
        )

    def test_one_progress_row_per_user_and_paper(self):
        ReadingProgress.objects.create(user=self.user, paper=self.paper)
        self.assert_integrity_error(
            lambda: ReadingProgress.objects.create(user=self.user, paper=self.paper, status="read")
        )

    def test_one_review_per_author_and_paper(self):
        Review.objects.create(author=self.user, paper=self.paper)
        self.assert_integrity_error(
            lambda: Review.objects.create(author=self.user, paper=self.paper)
        )

    def test_submitted_review_needs_submission_time(self):
        self.assert_integrity_error(
            lambda: Review.objects.create(author=self.user, paper=self.paper, status="submitted")
        )

    def test_ratings_are_between_one_and_five(self):
        for field in ("evaluation_rating", "impact_rating", "overall_rating", "confidence"):
            for bad in (0, 6):
                with self.subTest(field=field, value=bad):
                    self.assert_integrity_error(
                        lambda field=field, bad=bad: Review.objects.create(
                            author=self.user, paper=self.paper, **{field: bad}
                        )
                    )

    def test_join_codes_are_generated_and_unique(self):
        other = make_course(slug="another")
        self.assertEqual(len(self.course.join_code), 10)
        self.assertNotEqual(self.course.join_code, other.join_code)
        self.assert_integrity_error(lambda: make_course(slug="third", join_code=other.join_code))


class LectureTimeTests(TestCase):
    def test_review_deadline_defaults_to_lecture_start_in_course_time_zone(self):
        course = make_course(timezone="America/New_York")
        lecture = make_lecture(
            course, 1, date=datetime.date(2022, 3, 14), start_time=datetime.time(15, 5)
        )
        self.assertEqual(
            lecture.effective_review_deadline,
            datetime.datetime(2022, 3, 14, 19, 5, tzinfo=datetime.UTC),
        )

    def test_course_offset_moves_the_default_deadline(self):
        course = make_course(timezone="America/New_York", review_hours_before=2)
        lecture = make_lecture(
            course, 1, date=datetime.date(2022, 1, 10), start_time=datetime.time(15, 5)
        )
        self.assertEqual(
            lecture.effective_review_deadline,
            datetime.datetime(2022, 1, 10, 18, 5, tzinfo=datetime.UTC),
        )

    def test_lecture_override_wins_and_undated_has_none(self):
        course = make_course()
        override = datetime.datetime(2022, 1, 1, 12, tzinfo=datetime.UTC)
        dated = make_lecture(course, 1, date=datetime.date(2022, 1, 10), review_deadline=override)
        self.assertEqual(dated.effective_review_deadline, override)
        self.assertIsNone(make_lecture(course, 2).effective_review_deadline)
