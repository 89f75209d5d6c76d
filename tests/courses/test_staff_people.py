"""People: enrol students by e-mail, invitations that bind at sign-up, TAs and
co-instructors, removing someone."""

from django.core import mail
from django.test import TestCase
from django.urls import reverse

from courses.models import Invitation, Membership, ReadingProgress, Review
from courses.staff_services import parse_email_list
from tests.courses.test_staff_support import Role, build_term
from tests.factories import make_course, make_user


class EmailListTests(TestCase):
    def test_addresses_are_split_lower_cased_and_deduplicated(self):
        text = "Ada@Example.org, bob@example.org\n\n  ada@example.org;Carl <carl@example.org>"
        self.assertEqual(
            parse_email_list(text),
            (["ada@example.org", "bob@example.org", "carl@example.org"], []),
        )

    def test_invalid_items_are_reported(self):
        self.assertEqual(
            parse_email_list("ok@example.org not-an-address @x"),
            (["ok@example.org"], ["not-an-address", "@x"]),
        )


class EnrolTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_term(cls)
        cls.known = make_user("known@example.org", first_name="Known")

    def setUp(self):
        self.client.force_login(self.ta)
        self.url = reverse("courses:manage_enrol", args=[self.course.slug])
        self.people = reverse("courses:manage_people", args=[self.course.slug])

    def roles(self):
        return sorted(self.course.memberships.values_list("user__email", "role"))

    def test_existing_accounts_join_at_once_and_unknown_addresses_are_invited(self):
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                self.url,
                {"emails": "KNOWN@example.org\nnew.person@example.org, sam@example.org"},
                follow=True,
            )
        self.assertRedirects(response, self.people)
        self.assertEqual(
            self.roles(),
            [
                ("cleo@example.org", "student"),
                ("ines@example.org", "instructor"),
                ("known@example.org", "student"),
                ("sam@example.org", "student"),
                ("tara@example.org", "ta"),
            ],
        )
        self.assertEqual(
            list(self.course.invitations.values_list("email", "role", "invited_by", "accepted_at")),
            [("new.person@example.org", "student", self.ta.pk, None)],
        )
        self.assertEqual(
            [str(m) for m in response.context["messages"]],
            [
                "1 added as student; 1 invited (they join when they sign up with that "
                "address); 1 already in the course."
            ],
        )
        self.assertEqual([m.to for m in mail.outbox], [["new.person@example.org"]])
        self.assertIn("http://testserver/accounts/signup/", mail.outbox[0].body)
        self.assertContains(response, "Pending invitations (1)")

    def test_one_bad_address_adds_nobody(self):
        response = self.client.post(self.url, {"emails": "known@example.org, nope@, x@y.org"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response.context["enrol_form"].errors,
            {
                "emails": [
                    "Not an e-mail address: “nope@”. Nobody was added; correct the list and "
                    "send it again."
                ]
            },
        )
        self.assertEqual(self.course.memberships.count(), 4)
        self.assertEqual(Invitation.objects.count(), 0)

    def test_enrolling_an_existing_ta_as_student_keeps_their_role(self):
        self.client.post(self.url, {"emails": "tara@example.org"})
        self.assertEqual(self.course.memberships.get(user=self.ta).role, "ta")

    def test_invitation_binds_when_that_address_signs_up(self):
        self.client.post(self.url, {"emails": "new.person@example.org"})
        other = make_course("10-701", slug="other-invite")
        Invitation.objects.create(course=other, email="new.person@example.org", role=Role.TA)
        self.client.logout()
        response = self.client.post(
            reverse("signup"),
            {
                "email": "New.Person@example.org",
                "first_name": "New",
                "last_name": "Person",
                "password1": "a-Strong-pass-123",
                "password2": "a-Strong-pass-123",
            },
        )
        self.assertEqual(response.status_code, 302)
        self.assertEqual(
            sorted(
                Membership.objects.filter(user__email="new.person@example.org").values_list(
                    "course__slug", "role"
                )
            ),
            [("ml-sys", "student"), ("other-invite", "ta")],
        )
        self.assertEqual(Invitation.objects.filter(accepted_at=None).count(), 0)

    def test_cancelled_invitation_does_not_bind(self):
        self.client.post(self.url, {"emails": "new.person@example.org"})
        invitation = self.course.invitations.get()
        self.client.post(
            reverse("courses:manage_invitation_cancel", args=[self.course.slug, invitation.pk])
        )
        self.assertEqual(self.course.invitations.count(), 0)


class StaffTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_term(cls)

    def setUp(self):
        self.client.force_login(self.instructor)
        self.url = reverse("courses:manage_add_staff", args=[self.course.slug])

    def role_of(self, email):
        return self.course.memberships.get(user__email=email).role

    def test_instructor_adds_a_ta_a_co_instructor_and_invites_one(self):
        self.client.post(self.url, {"emails": "otto@example.org", "role": "ta"})
        self.client.post(self.url, {"emails": "sam@example.org", "role": "instructor"})
        self.client.post(self.url, {"emails": "future.ta@example.org", "role": "ta"})
        self.assertEqual(self.role_of("otto@example.org"), "ta")
        self.assertEqual(self.role_of("sam@example.org"), "instructor")  # was a student
        self.assertEqual(
            list(self.course.invitations.values_list("email", "role")),
            [("future.ta@example.org", "ta")],
        )

    def test_the_only_instructor_cannot_be_demoted_or_removed(self):
        response = self.client.post(
            self.url, {"emails": "ines@example.org", "role": "ta"}, follow=True
        )
        self.assertEqual(
            [str(m) for m in response.context["messages"]],
            [
                "ines@example.org is the course's only instructor: add another instructor "
                "before changing their role."
            ],
        )
        membership = self.instructor.memberships.get()
        response = self.client.post(
            reverse("courses:manage_member_remove", args=[self.course.slug, membership.pk]),
            follow=True,
        )
        self.assertEqual(
            [str(m) for m in response.context["messages"]],
            ["A course needs an instructor: add another one first."],
        )
        self.assertEqual(self.role_of("ines@example.org"), "instructor")

    def test_invalid_role_is_a_form_error(self):
        response = self.client.post(self.url, {"emails": "otto@example.org", "role": "student"})
        self.assertEqual(
            response.context["staff_form"].errors,
            {"role": ["Select a valid choice. student is not one of the available choices."]},
        )


class RemoveStudentTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_term(cls)

    def test_removed_student_keeps_their_data_but_leaves_every_course_page(self):
        self.client.force_login(self.ta)
        membership = self.student.memberships.get()
        url = reverse("courses:manage_member_remove", args=[self.course.slug, membership.pk])
        confirm = self.client.get(url)
        self.assertContains(confirm, "Their reading progress and reviews stay in the database")
        response = self.client.post(url, follow=True)
        self.assertEqual(
            [str(m) for m in response.context["messages"]], ["Removed Sam Student from the course."]
        )

        self.assertEqual(Review.objects.filter(author=self.student).count(), 1)
        self.assertEqual(ReadingProgress.objects.filter(user=self.student).count(), 1)
        table = self.client.get(
            reverse("courses:manage_lecture_progress", args=[self.course.slug, self.lecture.pk])
        )
        self.assertEqual(
            [m.user.email for m, _ in table.context["table"].rows], ["cleo@example.org"]
        )
        self.assertNotContains(table, "Sam Student")
        paper = self.client.get(
            reverse("courses:manage_paper", args=[self.course.slug, self.paper.pk])
        )
        self.assertEqual(paper.context["summary"].reviews, [])
        self.assertEqual(
            self.client.get(
                reverse("courses:manage_student", args=[self.course.slug, self.student.pk])
            ).status_code,
            404,
        )
