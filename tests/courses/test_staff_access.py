"""Who reaches the instructor and TA pages: the course's instructors and TAs, and site
staff. A student of the course gets 403, an instructor of another course 404 (the
course is members-only: its existence is not disclosed) or 403 (a public course),
an anonymous visitor the login page; none of them sees the data on those pages."""

from django.test import TestCase
from django.urls import reverse

from tests.courses.test_staff_support import SECRET_ANSWER, build_term
from tests.factories import enrol


class StaffAccessTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_term(cls)

    def pages(self):
        """Every staff page that answers GET, with the course's data in it."""
        slug, lecture, reading = self.course.slug, self.lecture.pk, self.reading.pk
        return [
            ("manage", [slug]),
            ("manage_settings", [slug]),
            ("manage_clone", [slug]),
            ("manage_people", [slug]),
            ("manage_member_remove", [slug, self.student.memberships.get().pk]),
            ("manage_lectures", [slug]),
            ("manage_lecture_new", [slug]),
            ("manage_lectures_generate", [slug]),
            ("manage_lectures_import", [slug]),
            ("manage_lecture", [slug, lecture]),
            ("manage_lecture_edit", [slug, lecture]),
            ("manage_lecture_delete", [slug, lecture]),
            ("manage_lecture_progress", [slug, lecture]),
            ("manage_lecture_reviews", [slug, lecture]),
            ("manage_reading", [slug, reading]),
            ("manage_student", [slug, self.student.pk]),
            ("manage_paper", [slug, self.paper.pk]),
            ("manage_export_progress", [slug]),
            ("manage_export_bibtex", [slug]),
        ]

    def post_actions(self):
        """Every staff action that changes something (POST), with valid input."""
        slug, lecture, reading = self.course.slug, self.lecture.pk, self.reading.pk
        return [
            ("manage_join_code", [slug], {}),
            ("manage_feed_token", [slug], {}),
            ("manage_enrol", [slug], {"emails": "new@example.org"}),
            ("manage_lecture_move", [slug, lecture], {"direction": "down"}),
            ("manage_reading_move", [slug, reading], {"direction": "down"}),
            ("manage_reading_remove", [slug, reading], {}),
            ("manage_readings_reorder", [slug, lecture], {"order": str(reading)}),
            ("manage_reading_add", [slug, lecture], {"paper": self.paper.pk, "required": "1"}),
            ("manage_lecture_delete", [slug, lecture], {}),
            ("manage_add_staff", [slug], {"emails": "x@example.org", "role": "ta"}),
            ("manage_delete", [slug], {"code": "15-849"}),
        ]

    def assert_all_refused(self, status):
        for name, args in self.pages():
            with self.subTest(page=name):
                response = self.client.get(reverse(f"courses:{name}", args=args))
                self.assertEqual(response.status_code, status)
                self.assertNotContains(response, "Classmate", status_code=status)
                self.assertNotContains(response, self.course.join_code, status_code=status)
                self.assertNotContains(response, "A Secret Reading", status_code=status)
                self.assertNotContains(response, SECRET_ANSWER, status_code=status)
        for name, args, data in self.post_actions():
            with self.subTest(action=name):
                response = self.client.post(reverse(f"courses:{name}", args=args), data)
                self.assertEqual(response.status_code, status)
        self.assert_nothing_changed()

    def assert_nothing_changed(self):
        self.course.refresh_from_db()  # raises if deleted
        self.assertEqual(self.course.join_code, type(self).course.join_code)
        self.assertEqual(self.course.feed_token, type(self).course.feed_token)
        self.assertEqual(
            list(self.lecture.readings.values_list("pk", flat=True)), [self.reading.pk]
        )
        self.assertEqual(self.course.memberships.count(), 4)
        self.assertEqual(self.course.invitations.count(), 0)

    def test_student_of_the_course_is_forbidden(self):
        self.client.force_login(self.student)
        self.assert_all_refused(403)

    def test_instructor_of_another_course_gets_not_found(self):
        self.client.force_login(self.other_instructor)
        self.assert_all_refused(404)

    def test_instructor_of_another_course_is_forbidden_on_a_public_course(self):
        self.course.is_public = True
        self.course.save()
        self.client.force_login(self.other_instructor)
        self.assert_all_refused(403)

    def test_anonymous_visitor_is_sent_to_log_in_whether_or_not_the_course_exists(self):
        for slug in (self.course.slug, "no-such-course"):
            url = reverse("courses:manage_people", args=[slug])
            response = self.client.get(url)
            self.assertRedirects(response, f"{reverse('login')}?next={url}")
        for name, args in self.pages():
            with self.subTest(page=name):
                response = self.client.get(reverse(f"courses:{name}", args=args))
                self.assertEqual(response.status_code, 302)
                self.assertTrue(response["Location"].startswith(reverse("login")))
        for name, args, data in self.post_actions():
            with self.subTest(action=name):
                response = self.client.post(reverse(f"courses:{name}", args=args), data)
                self.assertEqual(response.status_code, 302)
                self.assertTrue(response["Location"].startswith(reverse("login")))
        self.assert_nothing_changed()

    def test_objects_of_another_course_are_not_found_through_this_one(self):
        other_lecture = self.other_course.lectures.create(number=1, title="Other")
        self.client.force_login(self.instructor)
        for url in (
            reverse("courses:manage_lecture", args=[self.course.slug, other_lecture.pk]),
            reverse("courses:manage_lecture_progress", args=[self.course.slug, other_lecture.pk]),
            reverse("courses:manage_student", args=[self.course.slug, self.other_instructor.pk]),
            reverse("courses:manage_student", args=[self.course.slug, self.ta.pk]),
        ):
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 404)
        # And a lecture of this course through the other course's pages.
        self.client.force_login(self.other_instructor)
        url = reverse("courses:manage_lecture", args=[self.other_course.slug, self.lecture.pk])
        self.assertEqual(self.client.get(url).status_code, 404)

    def test_instructor_ta_and_site_staff_reach_every_page(self):
        for user in (self.instructor, self.ta, self.admin):
            self.client.force_login(user)
            for name, args in self.pages():
                with self.subTest(user=user.email, page=name):
                    response = self.client.get(reverse(f"courses:{name}", args=args))
                    self.assertEqual(response.status_code, 200)
                    # Every staff page or download is this course's.
                    if response.has_header("Content-Disposition"):
                        self.assertIn(self.course.slug, response["Content-Disposition"])
                    else:
                        self.assertEqual(response.context["course"], self.course)
                        self.assertContains(response, self.course.code)

    def test_ta_may_not_change_the_staff_or_delete_the_course(self):
        self.client.force_login(self.ta)
        slug = self.course.slug
        instructor_membership = self.instructor.memberships.get()
        refused = [
            ("get", reverse("courses:manage_delete", args=[slug]), {}),
            ("post", reverse("courses:manage_delete", args=[slug]), {"code": "15-849"}),
            (
                "post",
                reverse("courses:manage_add_staff", args=[slug]),
                {"emails": "x@example.org", "role": "ta"},
            ),
            (
                "post",
                reverse("courses:manage_member_remove", args=[slug, instructor_membership.pk]),
                {},
            ),
            (
                "get",
                reverse("courses:manage_member_remove", args=[slug, instructor_membership.pk]),
                {},
            ),
        ]
        for method, url, data in refused:
            with self.subTest(url=url, method=method):
                self.assertEqual(getattr(self.client, method)(url, data).status_code, 403)
        self.assert_nothing_changed()
        people = self.client.get(reverse("courses:manage_people", args=[slug]))
        self.assertNotContains(people, "Add TAs or co-instructors")
        self.assertContains(people, "Only instructors change the course staff.")

    def test_ta_may_remove_a_student(self):
        self.client.force_login(self.ta)
        membership = self.student.memberships.get()
        url = reverse("courses:manage_member_remove", args=[self.course.slug, membership.pk])
        self.assertRedirects(
            self.client.post(url), reverse("courses:manage_people", args=[self.course.slug])
        )
        self.assertEqual(self.course.memberships.filter(user=self.student).count(), 0)

    def test_site_staff_without_membership_may_change_the_staff(self):
        self.client.force_login(self.admin)
        response = self.client.post(
            reverse("courses:manage_add_staff", args=[self.course.slug]),
            {"emails": "otto@example.org", "role": "ta"},
        )
        self.assertRedirects(response, reverse("courses:manage_people", args=[self.course.slug]))
        self.assertEqual(self.other_instructor.memberships.get(course=self.course).role, "ta")

    def test_teaching_page_lists_only_the_courses_one_teaches(self):
        enrol(self.student, self.other_course)
        self.client.force_login(self.student)
        response = self.client.get(reverse("courses:teach"))
        self.assertEqual(list(response.context["courses"]), [])
        self.client.force_login(self.ta)
        response = self.client.get(reverse("courses:teach"))
        self.assertEqual(
            [(c.code, c.lecture_count, c.student_count) for c in response.context["courses"]],
            [("15-849", 1, 2)],
        )
