from django.test import Client, TestCase
from django.urls import reverse

from tests.factories import make_user

PASSWORD = "a-Strong-pass-123"


class SignedCookieSessionTests(TestCase):
    """Sessions live in signed cookies; logging out must still end them for good."""

    @classmethod
    def setUpTestData(cls):
        cls.user = make_user("kim@example.org", password=PASSWORD, first_name="Kim")

    def log_in(self):
        client = Client()
        response = client.post(
            reverse("login"), {"username": "kim@example.org", "password": PASSWORD}
        )
        self.assertRedirects(response, reverse("courses:dashboard"))
        return client

    def is_logged_in(self, client):
        """The dashboard is shown (True), or the visitor is sent to log in (False);
        anything else (an error page) fails the test."""
        response = client.get(reverse("courses:dashboard"))
        if response.status_code == 200:
            self.assertContains(response, "Your dashboard")
            return True
        dashboard = reverse("courses:dashboard")
        self.assertRedirects(response, f"{reverse('login')}?next={dashboard}")
        return False

    def test_session_is_a_signed_cookie_not_a_database_row(self):
        from django.contrib.sessions.models import Session

        client = self.log_in()
        self.assertTrue(self.is_logged_in(client))
        self.assertEqual(Session.objects.count(), 0)
        self.assertTrue(client.cookies["sessionid"]["httponly"])

    def test_a_copied_cookie_stops_working_after_logout(self):
        client = self.log_in()
        stolen = client.cookies["sessionid"].value
        client.post(reverse("logout"))
        thief = Client()
        thief.cookies["sessionid"] = stolen
        self.assertFalse(self.is_logged_in(thief))

    def test_logout_ends_the_sessions_on_other_devices_too(self):
        laptop, phone = self.log_in(), self.log_in()
        self.assertTrue(self.is_logged_in(phone))
        laptop.post(reverse("logout"))
        self.assertFalse(self.is_logged_in(phone))
        self.assertTrue(self.is_logged_in(self.log_in()))  # a new login works

    def test_password_change_keeps_this_session_and_ends_the_others(self):
        here, elsewhere = self.log_in(), self.log_in()
        here.post(
            reverse("password_change"),
            {
                "old_password": PASSWORD,
                "new_password1": "new-Pass-456x",
                "new_password2": "new-Pass-456x",
            },
        )
        self.assertTrue(self.is_logged_in(here))
        self.assertFalse(self.is_logged_in(elsewhere))

    def test_tampered_cookie_is_ignored(self):
        client = self.log_in()
        value = client.cookies["sessionid"].value
        client.cookies["sessionid"] = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
        self.assertFalse(self.is_logged_in(client))
