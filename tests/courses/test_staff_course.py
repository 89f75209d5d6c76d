"""Course settings: create, edit, join code, delete, clone into a new term."""

import datetime

from django.test import TestCase
from django.urls import reverse

from courses.models import Course, Membership, Reading, ReadingProgress, Review
from tests.courses.test_staff_support import Role, at, build_term
from tests.factories import enrol, make_lecture, make_reading, make_user

COURSE_DATA = {
    "code": "15-849",
    "title": "Machine Learning Systems",
    "term": "Spring 2026",
    "institution": "Carnegie Mellon University",
    "instructor_names": "Zhihao Jia",
    "description": "How ML systems are built.",
    "url": "https://www.cs.cmu.edu/~zhihaoj2/15-849/",
    "meeting": "Mon/Wed 15:05-16:25",
    "starts_on": "2026-01-12",
    "ends_on": "2026-05-01",
    "timezone": "America/New_York",
    "is_public": "",
    "review_visibility": "after_own",
    "allow_late_reviews": "",
    "review_hours_before": "2",
}


class CourseCreateTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.user = make_user("ines@example.org")

    def setUp(self):
        self.client.force_login(self.user)

    def test_any_signed_in_user_creates_a_course_and_becomes_its_instructor(self):
        response = self.client.post(reverse("courses:course_new"), COURSE_DATA)
        course = Course.objects.get()
        self.assertRedirects(response, reverse("courses:manage", args=["15-849-spring-2026"]))
        self.assertEqual(
            (
                course.slug,
                course.title,
                course.is_public,
                course.review_visibility,
                course.allow_late_reviews,
                course.review_hours_before,
                course.starts_on,
                course.ends_on,
                course.timezone,
            ),
            (
                "15-849-spring-2026",
                "Machine Learning Systems",
                False,
                "after_own",
                False,
                2,
                datetime.date(2026, 1, 12),
                datetime.date(2026, 5, 1),
                "America/New_York",
            ),
        )
        self.assertEqual(
            list(course.memberships.values_list("user__email", "role")),
            [("ines@example.org", "instructor")],
        )
        self.assertEqual(len(course.join_code), 10)

    def test_a_second_course_with_the_same_code_and_term_gets_its_own_slug(self):
        self.client.post(reverse("courses:course_new"), COURSE_DATA)
        self.client.post(reverse("courses:course_new"), COURSE_DATA)
        self.assertEqual(
            list(Course.objects.order_by("pk").values_list("slug", flat=True)),
            ["15-849-spring-2026", "15-849-spring-2026-2"],
        )

    def test_term_that_ends_before_it_starts_is_refused(self):
        data = {**COURSE_DATA, "ends_on": "2026-01-01"}
        response = self.client.post(reverse("courses:course_new"), data)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response.context["form"].errors, {"ends_on": ["The term cannot end before it starts."]}
        )
        self.assertEqual(Course.objects.count(), 0)

    def test_unknown_time_zone_is_refused(self):
        response = self.client.post(
            reverse("courses:course_new"), {**COURSE_DATA, "timezone": "Mars/Olympus"}
        )
        self.assertEqual(
            response.context["form"].errors,
            {
                "timezone": [
                    "Select a valid choice. Mars/Olympus is not one of the available choices."
                ]
            },
        )

    def test_anonymous_visitor_is_asked_to_log_in(self):
        self.client.logout()
        url = reverse("courses:course_new")
        self.assertRedirects(self.client.get(url), f"{reverse('login')}?next={url}")


class CourseSettingsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_term(cls)

    def setUp(self):
        self.client.force_login(self.ta)

    def settings_data(self, **changes):
        data = {
            **COURSE_DATA,
            "term": "Spring 2022",
            "starts_on": "2022-01-10",
            "ends_on": "2022-05-06",
        }
        return {**data, **changes}

    def test_ta_edits_the_settings(self):
        url = reverse("courses:manage_settings", args=[self.course.slug])
        response = self.client.post(url, self.settings_data(is_public="on", title="ML Systems"))
        self.assertRedirects(response, reverse("courses:manage", args=[self.course.slug]))
        self.course.refresh_from_db()
        self.assertEqual((self.course.title, self.course.is_public), ("ML Systems", True))
        self.assertEqual(self.course.slug, "ml-sys")  # URLs and subscriptions keep working

    def test_term_dates_that_would_leave_lectures_outside_are_refused(self):
        url = reverse("courses:manage_settings", args=[self.course.slug])
        response = self.client.post(url, self.settings_data(starts_on="2022-01-18"))
        self.assertEqual(
            response.context["form"].non_field_errors(),
            ["Lectures 1 would be outside these term dates: move them first."],
        )
        self.course.refresh_from_db()
        self.assertEqual(self.course.starts_on, datetime.date(2022, 1, 10))

    def test_regenerating_the_join_code_revokes_the_old_one(self):
        old = self.course.join_code
        response = self.client.post(reverse("courses:manage_join_code", args=[self.course.slug]))
        self.course.refresh_from_db()
        self.assertNotEqual(self.course.join_code, old)
        self.assertRedirects(response, reverse("courses:manage", args=[self.course.slug]) + "#join")
        self.assertFalse(Course.objects.filter(join_code=old).exists())
        page = self.client.get(reverse("courses:manage", args=[self.course.slug]))
        self.assertContains(
            page,
            f'<code id="join-code" class="join-code">{self.course.join_code}</code>',
            html=True,
        )
        self.assertContains(page, f"/join/{self.course.join_code}/")

    def test_join_code_is_refused_by_get(self):
        old = self.course.join_code
        response = self.client.get(reverse("courses:manage_join_code", args=[self.course.slug]))
        self.assertEqual(response.status_code, 405)
        self.course.refresh_from_db()
        self.assertEqual(self.course.join_code, old)  # a link followed revokes nothing

    def test_instructor_deletes_the_course_after_typing_its_code_and_reviews_stay(self):
        self.client.force_login(self.instructor)
        url = reverse("courses:manage_delete", args=[self.course.slug])
        response = self.client.post(url, {"code": "15-8"})
        self.assertEqual(
            response.context["form"].errors, {"code": ["Type 15-849 exactly to delete the course."]}
        )
        self.assertTrue(Course.objects.filter(pk=self.course.pk).exists())

        response = self.client.post(url, {"code": "15-849"})
        self.assertRedirects(response, reverse("courses:teach"))
        self.assertFalse(Course.objects.filter(pk=self.course.pk).exists())
        self.assertEqual(Review.objects.filter(author=self.student).count(), 1)
        self.assertEqual(ReadingProgress.objects.filter(user=self.student).count(), 1)


class CloneTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_term(cls)
        cls.co_instructor = make_user("cora@example.org")
        enrol(cls.co_instructor, cls.course, Role.INSTRUCTOR)
        cls.lecture.slides_url = "https://example.org/slides1.pdf"
        cls.lecture.review_deadline = at(datetime.date(2022, 1, 16), 23, 59)
        cls.lecture.save()
        cls.second = make_lecture(
            cls.course,
            2,
            date=datetime.date(2022, 1, 19),
            start_time=datetime.time(15, 5),
            title="Compilers",
        )
        cls.optional = make_reading(cls.second, required=False, note="Skim section 3.")
        cls.undated = make_lecture(cls.course, 3, title="Guest lecture")

    def setUp(self):
        self.client.force_login(self.ta)
        self.url = reverse("courses:manage_clone", args=[self.course.slug])

    def clone(self, **data):
        base = {"code": "15-849", "title": "Machine Learning Systems", "term": "Spring 2023"}
        return self.client.post(self.url, {**base, **data})

    def test_clone_shifted_by_an_offset_copies_lectures_and_readings_not_students(self):
        response = self.clone(mode="shift", offset_days="364")
        new = Course.objects.get(term="Spring 2023")
        self.assertRedirects(response, reverse("courses:manage", args=[new.slug]))
        self.assertEqual(
            list(
                new.lectures.order_by("number").values_list(
                    "number", "date", "start_time", "title", "slides_url"
                )
            ),
            [
                (1, datetime.date(2023, 1, 16), datetime.time(15, 5), "Automatic differentiation", "https://example.org/slides1.pdf"),
                (2, datetime.date(2023, 1, 18), datetime.time(15, 5), "Compilers", ""),
                (3, None, None, "Guest lecture", ""),
            ],
        )  # fmt: skip
        first = new.lectures.get(number=1)
        # The override keeps its distance to the lecture: 15 h 06 min before it.
        self.assertEqual(first.review_deadline, at(datetime.date(2023, 1, 15), 23, 59))
        self.assertEqual(
            list(
                Reading.objects.filter(lecture__course=new)
                .order_by("lecture__number")
                .values_list("lecture__number", "paper_id", "required", "note")
            ),
            [(1, self.paper.pk, True, ""), (2, self.optional.paper_id, False, "Skim section 3.")],
        )
        self.assertEqual(
            sorted(new.memberships.values_list("user__email", "role")),
            [("cora@example.org", "instructor"), ("ines@example.org", "instructor"),
             ("tara@example.org", "instructor")],
        )  # fmt: skip
        self.assertEqual(new.memberships.filter(role=Membership.Role.STUDENT).count(), 0)
        self.assertNotEqual(new.join_code, self.course.join_code)
        self.assertNotEqual(new.feed_token, self.course.feed_token)
        self.assertEqual((new.is_public, new.review_hours_before), (False, 2))
        # The old term is untouched, its reviews still its students'.
        self.assertEqual(self.course.lectures.count(), 3)
        self.assertEqual(Review.objects.count(), 1)

    def test_clone_onto_generated_slots_takes_them_in_schedule_order(self):
        response = self.clone(
            mode="slots",
            starts_on="2023-01-16",
            ends_on="2023-05-05",
            weekdays=["1", "3"],
            start_time="11:00",
            holidays="2023-01-17",
        )
        new = Course.objects.get(term="Spring 2023")
        self.assertRedirects(response, reverse("courses:manage", args=[new.slug]))
        self.assertEqual(
            list(new.lectures.order_by("number").values_list("number", "date", "start_time")),
            [
                (1, datetime.date(2023, 1, 19), datetime.time(11, 0)),
                (2, datetime.date(2023, 1, 24), datetime.time(11, 0)),
                (3, datetime.date(2023, 1, 26), datetime.time(11, 0)),
            ],
        )
        self.assertEqual(
            new.lectures.get(number=1).review_deadline, at(datetime.date(2023, 1, 18), 19, 54)
        )

    def test_too_few_slots_for_the_lectures_is_a_form_error(self):
        response = self.clone(
            mode="slots", starts_on="2023-01-16", ends_on="2023-01-20", weekdays=["0"]
        )
        self.assertEqual(
            response.context["form"].non_field_errors(),
            [
                "These slots give 1 dates for 3 lectures: widen the dates, add weekdays or "
                "skip fewer days."
            ],
        )
        self.assertEqual(Course.objects.filter(term="Spring 2023").count(), 0)

    def test_shift_needs_an_offset_and_lands_inside_the_new_term(self):
        response = self.clone(mode="shift", offset_days="")
        self.assertEqual(
            response.context["form"].errors,
            {"offset_days": ["How many days later is the new term?"]},
        )
        response = self.clone(
            mode="shift", offset_days="7", starts_on="2023-01-09", ends_on="2023-05-05"
        )
        self.assertEqual(
            response.context["form"].non_field_errors(),
            ["Shifted by 7 days, 2 lectures fall outside the new term dates."],
        )
        self.assertEqual(Course.objects.filter(term="Spring 2023").count(), 0)
