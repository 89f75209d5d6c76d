"""An instructor sets up a term in the browser and a student joins it (issue 5).

The arXiv API is a local HTTP server on 127.0.0.1 that answers every query with a
recorded arXiv response; ARXIV_API_URL points at it (the HTTP client trusts the
configured base URL), so nothing leaves the machine.
"""

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from django.test import override_settings
from playwright.sync_api import expect

from tests.e2e.base import BrowserTestCase
from tests.factories import make_paper, make_user

ARXIV_RESPONSE = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "arxiv"
    / "id_1605.08386_s0_m100_199195aa31ad.xml"
).read_bytes()
ARXIV_TITLE = "Heat-bath random walks with Markov bases"
CATALOG_TITLE = "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness"
PASSWORD = "a-Strong-pass-123"


class _ArxivHandler(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        type(self).requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(ARXIV_RESPONSE)))
        self.end_headers()
        self.wfile.write(ARXIV_RESPONSE)

    def log_message(self, *args):
        pass


class InstructorTests(BrowserTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.arxiv = ThreadingHTTPServer(("127.0.0.1", 0), _ArxivHandler)
        threading.Thread(target=cls.arxiv.serve_forever, daemon=True).start()
        cls.addClassCleanup(cls.arxiv.server_close)
        cls.addClassCleanup(cls.arxiv.shutdown)

    def setUp(self):
        super().setUp()
        _ArxivHandler.requests = []
        arxiv_url = f"http://127.0.0.1:{self.arxiv.server_port}/api/query"
        overrides = override_settings(ARXIV_API_URL=arxiv_url, ARXIV_MIN_INTERVAL=0)
        overrides.enable()
        self.addCleanup(overrides.disable)
        self.instructor = make_user("ines@example.org", first_name="Ines", last_name="Jia")
        self.student = make_user("sam@example.org", first_name="Sam", last_name="Student")
        make_paper(CATALOG_TITLE, authors=["Tri Dao", "Daniel Y. Fu"], year=2022)

    def reading_titles(self):
        return self.page.locator(".staff-readings .reading-title").all_inner_texts()

    def test_instructor_sets_up_a_term_and_a_student_joins(self):
        page = self.page
        self.login("ines@example.org", PASSWORD)

        # Create the course.
        page.goto("/teach/")
        page.get_by_role("link", name="Create a course").click()
        page.locator("#id_code").fill("15-849")
        page.locator("#id_title").fill("Machine Learning Systems")
        page.locator("#id_term").fill("Spring 2026")
        page.locator("#id_starts_on").fill("2026-01-12")
        page.locator("#id_ends_on").fill("2026-05-01")
        page.locator("#id_timezone").select_option("America/New_York")
        page.locator("#id_review_hours_before").fill("2")
        page.get_by_role("button", name="Create the course").click()
        expect(page).to_have_url(re.compile(r"/courses/15-849-spring-2026/manage/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "15-849: Machine Learning Systems"
        )

        # Ten Mon/Wed slots from the first day, skipping Martin Luther King Jr. Day.
        page.get_by_role("link", name="Generate lecture slots").first.click()
        page.locator("#id_ends_on").fill("2026-02-16")
        page.get_by_label("Mon", exact=True).check()
        page.get_by_label("Wed", exact=True).check()
        page.locator("#id_start_time").fill("15:05")
        page.locator("#id_holidays").fill("2026-01-19")
        page.get_by_role("button", name="Generate the slots").click()
        expect(page.get_by_role("status").first).to_have_text("Added 10 lecture slots.")
        rows = page.locator("table.staff-table tbody tr")
        expect(rows).to_have_count(10)
        expect(rows.first).to_contain_text("Mon Jan 12, 2026 15:05")
        expect(rows.nth(2)).to_contain_text("Wed Jan 21, 2026")

        # Lecture 1: one reading from the catalog (type-ahead), one by arXiv id.
        rows.first.get_by_role("link", name="To be announced").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Lecture 1: To be announced")
        page.get_by_label("Search the catalog").press_sequentially("flashatt", delay=30)
        add = page.get_by_role("button", name=f"Add “{CATALOG_TITLE}” as required")
        expect(add).to_be_visible()  # the fragment came by htmx: no page load
        add.click()
        expect(page.get_by_role("status").first).to_have_text(f"Added “{CATALOG_TITLE}”.")

        page.get_by_label("arXiv id, DOI or BibTeX entry").fill("arXiv:1605.08386")
        page.get_by_role("button", name="Import and add").click()
        expect(page.get_by_role("status").first).to_have_text(f"Imported and added: {ARXIV_TITLE}.")
        self.assertEqual(len(_ArxivHandler.requests), 1)
        self.assertEqual(self.reading_titles(), [CATALOG_TITLE, ARXIV_TITLE])

        # Reorder with the keyboard-reachable buttons.
        page.get_by_role("button", name=f"Move “{ARXIV_TITLE}” up").click()
        expect(page.locator(".staff-readings .reading-title").first).to_have_text(ARXIV_TITLE)
        self.assertEqual(self.reading_titles(), [ARXIV_TITLE, CATALOG_TITLE])
        self.screenshot("instructor-lecture-readings")

        # Share the join code.
        page.get_by_role("navigation", name="Course management").get_by_role(
            "link", name="Overview"
        ).click()
        code = page.locator("#join-code").inner_text()
        self.screenshot("instructor-course-overview")
        self.assertRegex(code, r"^[a-z2-9]{10}$")
        self.assertEqual(self.console_errors, [])
        self.assert_same_origin_only()

        # The student joins with the code and sees both readings, in that order.
        self.context.clear_cookies()
        self.login("sam@example.org", PASSWORD)
        page.goto("/join/")
        page.get_by_label("Join code").fill(code)
        page.get_by_role("button", name="Join", exact=True).click()
        expect(page).to_have_url(re.compile(r"/courses/15-849-spring-2026/$"))
        lecture = page.locator("#lecture-1")
        expect(lecture).to_contain_text("Mon, Jan 12, 2026 15:05")
        expect(lecture.locator(".reading-title")).to_have_text([ARXIV_TITLE, CATALOG_TITLE])
        self.screenshot("student-schedule-after-join")

        # Back as the instructor: the lecture table lists the student.
        self.context.clear_cookies()
        self.login("ines@example.org", PASSWORD)
        page.goto("/courses/15-849-spring-2026/manage/")
        page.get_by_role("link", name="Progress of lecture 1", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Who read and reviewed: lecture 1"
        )
        table = page.locator("table.progress-table")
        expect(table.locator("tbody th")).to_have_text(["Sam Student"])
        expect(table.locator("tbody td").first).to_contain_text("To read")
        expect(table.locator("tbody td").first).to_contain_text("Review: missing")
        self.screenshot("instructor-lecture-table")
        self.assertEqual(self.console_errors, [])
        self.assert_same_origin_only()

    def test_readings_reorder_by_drag_and_drop(self):
        from courses.models import Course, Lecture, Membership, Reading
        from papers.models import Paper

        course = Course.objects.create(code="15-849", title="MLSys", term="Fall", slug="mlsys")
        Membership.objects.create(user=self.instructor, course=course, role="instructor")
        lecture = Lecture.objects.create(course=course, number=1, title="Attention")
        first = make_paper("First paper")
        Reading.objects.create(lecture=lecture, paper=first, order=0)
        Reading.objects.create(
            lecture=lecture, paper=Paper.objects.get(title=CATALOG_TITLE), order=1
        )

        self.login("ines@example.org", PASSWORD)
        self.page.goto(f"/courses/mlsys/manage/lectures/{lecture.pk}/")
        items = self.page.locator(".staff-reading")
        expect(items.first.locator(".drag-handle")).to_be_visible()  # the script ran
        # The script saves the new order, then reloads the page.
        with self.page.expect_navigation():
            items.nth(1).drag_to(items.first, target_position={"x": 20, "y": 5})
        expect(self.page.locator(".staff-readings .reading-title")).to_have_text(
            [CATALOG_TITLE, "First paper"]
        )
        self.assertEqual(
            list(lecture.readings.order_by("order").values_list("paper__title", flat=True)),
            [CATALOG_TITLE, "First paper"],
        )
        self.assertEqual(self.console_errors, [])
