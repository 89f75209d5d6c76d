from django.test import TestCase


class HealthzTests(TestCase):
    def test_healthz_answers_ok_without_touching_the_database(self):
        with self.assertNumQueries(0):
            response = self.client.get("/healthz/")
        self.assertEqual((response.status_code, response.content), (200, b"ok"))
        self.assertEqual(response["Content-Type"], "text/plain")
        self.assertIn("no-cache", response["Cache-Control"])


class FaviconTests(TestCase):
    def test_favicon_ico_redirects_to_the_svg_icon(self):
        response = self.client.get("/favicon.ico")
        self.assertEqual(
            (response.status_code, response["Location"]), (301, "/static/img/favicon.svg")
        )
