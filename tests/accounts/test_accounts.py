import re

from django.core import mail
from django.test import TestCase
from django.urls import reverse

from accounts.models import User
from tests.factories import make_user


class SignupTests(TestCase):
    def test_signup_creates_account_and_logs_in(self):
        response = self.client.post(
            reverse("signup"),
            {
                "email": "Ada@Example.org",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "password1": "analytical-Engine-1843",
                "password2": "analytical-Engine-1843",
            },
            follow=True,
        )
        user = User.objects.get()
        self.assertEqual(user.email, "ada@example.org")
        self.assertEqual(response.context["user"], user)
        self.assertRedirects(response, reverse("courses:dashboard"))
        self.assertContains(response, "Welcome, Ada Lovelace.")

    def test_signup_applies_password_validators(self):
        response = self.client.post(
            reverse("signup"),
            {
                "email": "bob@example.org",
                "first_name": "Bob",
                "password1": "12345678",
                "password2": "12345678",
            },
        )
        self.assertEqual(User.objects.count(), 0)
        self.assertEqual(
            response.context["form"].errors["password2"],
            ["This password is too common.", "This password is entirely numeric."],
        )

    def test_signup_with_existing_email_in_other_case_is_refused(self):
        make_user("carol@example.org")
        response = self.client.post(
            reverse("signup"),
            {
                "email": "CAROL@example.org",
                "first_name": "Carol",
                "password1": "a-Strong-pass-123",
                "password2": "a-Strong-pass-123",
            },
        )
        self.assertEqual(User.objects.count(), 1)
        self.assertIn("already exists", response.context["form"].errors["email"][0])

    def test_signup_ignores_offsite_next(self):
        response = self.client.post(
            reverse("signup") + "?next=https://evil.example/",
            {
                "email": "dan@example.org",
                "first_name": "Dan",
                "password1": "a-Strong-pass-123",
                "password2": "a-Strong-pass-123",
                "next": "https://evil.example/",
            },
        )
        self.assertRedirects(response, reverse("courses:dashboard"))


class LoginLogoutTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.user = make_user("erin@example.org", password="a-Strong-pass-123", first_name="Erin")

    def test_login_with_email_in_any_case(self):
        response = self.client.post(
            reverse("login"), {"username": "ERIN@example.org", "password": "a-Strong-pass-123"}
        )
        self.assertRedirects(response, reverse("courses:dashboard"))
        self.assertEqual(int(self.client.session["_auth_user_id"]), self.user.pk)

    def test_login_with_wrong_password_says_so(self):
        response = self.client.post(
            reverse("login"), {"username": "erin@example.org", "password": "nope"}
        )
        self.assertNotIn("_auth_user_id", self.client.session)
        self.assertContains(response, "Please enter a correct e-mail address and password.")

    def test_logout_is_a_post(self):
        self.client.force_login(self.user)
        response = self.client.post(reverse("logout"))
        self.assertRedirects(response, reverse("courses:home"))
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_nav_shows_user_and_logout_form(self):
        self.client.force_login(self.user)
        html = self.client.get(reverse("courses:home")).content.decode()
        self.assertIn("<summary>Erin</summary>", html)
        self.assertIn(f'action="{reverse("logout")}"', html)


class PasswordTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.user = make_user("frank@example.org", password="old-Password-123")

    def test_password_change(self):
        self.client.force_login(self.user)
        response = self.client.post(
            reverse("password_change"),
            {
                "old_password": "old-Password-123",
                "new_password1": "new-Password-456",
                "new_password2": "new-Password-456",
            },
        )
        self.assertRedirects(response, reverse("password_change_done"))
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password("new-Password-456"))

    def test_password_reset_by_email_link(self):
        response = self.client.post(reverse("password_reset"), {"email": "frank@example.org"})
        self.assertRedirects(response, reverse("password_reset_done"))
        [message] = mail.outbox
        self.assertEqual(message.subject, "Reset your mlsys-reader password")
        self.assertEqual(message.to, ["frank@example.org"])
        link = re.search(r"http://testserver(/accounts/reset/\S+/)", message.body).group(1)
        response = self.client.get(link, follow=True)
        form_url = response.redirect_chain[-1][0]
        response = self.client.post(
            form_url, {"new_password1": "reset-Password-789", "new_password2": "reset-Password-789"}
        )
        self.assertRedirects(response, reverse("password_reset_complete"))
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password("reset-Password-789"))

    def test_password_reset_for_unknown_address_sends_nothing_but_looks_the_same(self):
        response = self.client.post(reverse("password_reset"), {"email": "nobody@example.org"})
        self.assertRedirects(response, reverse("password_reset_done"))
        self.assertEqual(mail.outbox, [])


class UserModelTests(TestCase):
    def test_email_is_unique_whatever_the_case(self):
        from django.db import IntegrityError

        make_user("gina@example.org")
        with self.assertRaises(IntegrityError):
            User.objects.create(email="GINA@example.org")
