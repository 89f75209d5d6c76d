from django.test import TestCase


class HealthzTests(TestCase):
    def test_healthz_answers_ok_without_touching_the_database(self):
        with self.assertNumQueries(0):
            response = self.client.get("/healthz/")
        self.assertEqual((response.status_code, response.content), (200, b"ok"))
        self.assertEqual(response["Content-Type"], "text/plain")
        self.assertIn("no-cache", response["Cache-Control"])
