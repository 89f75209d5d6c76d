"""An anonymous visitor finds a course's schedule from the home page."""

import io
import json
import re
from pathlib import Path

from django.core.management import call_command
from playwright.sync_api import expect

from tests.e2e.base import BrowserTestCase

DEMO_DIR = Path(__file__).resolve().parents[2] / "courses" / "data" / "demo"


def demo_reading_titles(code):
    """Titles of the course's required readings, in schedule order, from the demo data
    that load_demo reads."""
    courses = json.loads((DEMO_DIR / "courses.json").read_text(encoding="utf-8"))
    course = next(course for course in courses["courses"] if course["code"] == code)
    papers_file = next(
        path
        for path in (DEMO_DIR / courses.get("paper_file", ""), DEMO_DIR / "papers.json")
        if path.is_file()
    )
    papers = json.loads(papers_file.read_text(encoding="utf-8"))["papers"]
    titles = {paper["key"]: paper["title"] for paper in papers}
    return [
        titles[reading["paper"]]
        for lecture in course["lectures"]
        for reading in lecture.get("readings", [])
        if reading.get("required")
    ]


class VisitorTests(BrowserTestCase):
    def test_visitor_opens_the_15_849_schedule_from_the_home_page(self):
        call_command("load_demo", stdout=io.StringIO())
        expected_title = demo_reading_titles("15-849")[0]
        page = self.page

        page.goto(self.live_server_url + "/")
        page.get_by_role("link", name=re.compile("15-849")).first.click()

        expect(page).to_have_url(re.compile(r"/courses/[-\w]+/$"))
        expect(page.get_by_role("heading", name=re.compile("15-849")).first).to_be_visible()
        expect(page.get_by_text(expected_title).first).to_be_visible()
        path = self.screenshot("visitor-schedule")
        self.assertTrue(path.is_file())
        self.assertEqual(path.read_bytes()[:8], b"\x89PNG\r\n\x1a\n")
        self.assertGreater(path.stat().st_size, 1000)
        self.assert_same_origin_only()
        self.assertEqual(self.console_errors, [])
