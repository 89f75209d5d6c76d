from django.test import TestCase

from accounts.backends import AccountBackend
from accounts.models import User
from tests.factories import make_user


class AccountBackendTests(TestCase):
    def test_get_user_returns_the_full_user(self):
        user = make_user("ines@example.org", first_name="Ines", is_staff=True)
        loaded = AccountBackend().get_user(str(user.pk))
        self.assertEqual(
            (loaded.pk, loaded.email, loaded.first_name, loaded.is_staff, loaded.password),
            (user.pk, "ines@example.org", "Ines", True, user.password),
        )
        self.assertEqual(loaded.date_joined, User.objects.get(pk=user.pk).date_joined)
        self.assertIsNotNone(loaded.date_joined.tzinfo)

    def test_inactive_unknown_and_malformed_ids_give_none(self):
        inactive = make_user(is_active=False)
        backend = AccountBackend()
        self.assertIsNone(backend.get_user(inactive.pk))
        self.assertIsNone(backend.get_user(999999))
        self.assertIsNone(backend.get_user("not-a-number"))

    def test_logged_in_request_uses_it(self):
        user = make_user("jo@example.org", password="a-Strong-pass-123", first_name="Jo")
        self.client.post(
            "/accounts/login/", {"username": "jo@example.org", "password": "a-Strong-pass-123"}
        )
        self.assertEqual(
            self.client.session["_auth_user_backend"], "accounts.backends.AccountBackend"
        )
        self.assertContains(self.client.get("/dashboard/"), "<summary>Jo</summary>")
        user.set_password("another-Pass-456")
        user.save()
        # A password change elsewhere ends the session, as with Django's own backend.
        self.assertEqual(self.client.get("/dashboard/").status_code, 302)
