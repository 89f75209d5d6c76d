from django.test import TestCase
from django.urls import reverse

from courses.models import Membership
from tests.factories import enrol, make_course, make_lecture, make_reading, make_user


class JoinTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.course = make_course("15-849", slug="ml-sys", join_code="k7m2qp9xwe")
        cls.private = make_course("10-999", slug="private", is_public=False, join_code="secretcode")
        cls.student = make_user()

    def setUp(self):
        self.client.force_login(self.student)

    def roles(self):
        return list(
            Membership.objects.filter(user=self.student).values_list("course__slug", "role")
        )

    def test_join_with_code_on_course_page(self):
        response = self.client.post(
            reverse("courses:join_course", args=["ml-sys"]), {"code": " k7m2qp9xwe "}, follow=True
        )
        self.assertRedirects(response, self.course.get_absolute_url())
        self.assertEqual(self.roles(), [("ml-sys", "student")])
        self.assertContains(response, "You joined 15-849 Machine Learning Systems (Spring 2022).")
        self.assertContains(response, "You are a student in this course.")

    def test_a_code_typed_with_capitals_joins(self):
        # (a phone keyboard capitalises the first letter)
        response = self.client.post(reverse("courses:join"), {"code": "K7m2qp9xwe"})
        self.assertRedirects(response, self.course.get_absolute_url())
        self.assertEqual(self.roles(), [("ml-sys", "student")])

    def test_join_with_wrong_code_is_refused_with_a_clear_message(self):
        response = self.client.post(
            reverse("courses:join_course", args=["ml-sys"]), {"code": "secretcode"}, follow=True
        )
        self.assertEqual(self.roles(), [])
        self.assertContains(response, "This join code is not valid.")

    def test_join_form_with_code_of_members_only_course(self):
        response = self.client.post(reverse("courses:join"), {"code": "secretcode"})
        self.assertRedirects(response, self.private.get_absolute_url())
        self.assertEqual(self.roles(), [("private", "student")])

    def test_join_form_with_unknown_code_keeps_the_form(self):
        response = self.client.post(reverse("courses:join"), {"code": "nope"})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(
            response.context["form"].errors["code"],
            [
                "This join code is not valid. It may have been mistyped or replaced by a new "
                "one: ask your instructor for the current code."
            ],
        )

    def test_join_link_asks_for_confirmation_then_joins(self):
        url = reverse("courses:join_link", args=["k7m2qp9xwe"])
        response = self.client.get(url)
        self.assertContains(response, "Join 15-849: Machine Learning Systems")
        self.assertEqual(self.roles(), [])  # GET never joins
        self.client.post(url)
        self.assertEqual(self.roles(), [("ml-sys", "student")])

    def test_revoked_code_no_longer_works(self):
        self.course.join_code = "newcode123"
        self.course.save()
        response = self.client.get(reverse("courses:join_link", args=["k7m2qp9xwe"]), follow=True)
        self.assertRedirects(response, reverse("courses:join"))
        self.assertContains(response, "This join link is not valid any more.")
        self.client.post(reverse("courses:join_link", args=["k7m2qp9xwe"]))
        self.assertEqual(self.roles(), [])

    def test_joining_twice_changes_nothing(self):
        url = reverse("courses:join")
        self.client.post(url, {"code": "k7m2qp9xwe"})
        before = list(Membership.objects.values_list("pk", "user", "course", "role", "joined_at"))
        response = self.client.post(url, {"code": "k7m2qp9xwe"}, follow=True)
        self.assertContains(response, "You are already a member of 15-849 (Spring 2022).")
        after = list(Membership.objects.values_list("pk", "user", "course", "role", "joined_at"))
        self.assertEqual(before, after)

    def test_instructor_joining_with_code_keeps_their_role(self):
        instructor = make_user()
        enrol(instructor, self.course, Membership.Role.INSTRUCTOR)
        self.client.force_login(instructor)
        self.client.post(reverse("courses:join"), {"code": "k7m2qp9xwe"})
        self.assertEqual(Membership.objects.get(user=instructor).role, "instructor")

    def test_anonymous_visitor_is_sent_to_log_in(self):
        self.client.logout()
        url = reverse("courses:join_link", args=["k7m2qp9xwe"])
        response = self.client.get(url)
        self.assertRedirects(response, f"{reverse('login')}?next={url}")


class PublicCourseShowsProgressOnlyToMembersTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.course = make_course("15-849", slug="ml-sys")
        cls.reading = make_reading(make_lecture(cls.course, 1))
        cls.member = make_user()
        enrol(cls.member, cls.course)

    def test_member_sees_status_controls(self):
        self.client.force_login(self.member)
        html = self.client.get(self.course.get_absolute_url()).content.decode()
        self.assertIn(f'id="status-{self.reading.paper_id}"', html)
        self.assertIn(reverse("courses:review", args=[self.reading.paper_id]), html)

    def test_visitor_and_non_member_see_the_schedule_without_controls(self):
        for user in (None, make_user()):
            if user:
                self.client.force_login(user)
            response = self.client.get(self.course.get_absolute_url())
            self.assertContains(response, self.reading.paper.title)
            self.assertNotContains(response, "status-control")
            self.assertNotContains(
                response, reverse("courses:review", args=[self.reading.paper_id])
            )
