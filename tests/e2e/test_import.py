"""An admin imports two arXiv papers: paste the ids, check the preview, confirm, read the
report. arXiv is answered by `responses` with a recorded feed: the live server runs in a
thread of this process, so the mock applies to its outbound requests too."""

import re

import responses
from django.test import override_settings
from playwright.sync_api import expect
from responses import matchers

from papers.models import Paper
from tests.e2e.base import BrowserTestCase
from tests.factories import make_user
from tests.lib import fixture_bytes

API = "https://export.arxiv.org/api/query"
DEEP = "Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques"
FUZZ = "Active Fuzzing for Testing and Securing Cyber-Physical Systems"


@override_settings(ARXIV_API_URL=API, ARXIV_MIN_INTERVAL=0, HTTP_BACKOFF_FACTOR=0)
class ImportTests(BrowserTestCase):
    @responses.activate
    def test_admin_pastes_two_arxiv_ids_previews_confirms_and_reads_the_report(self):
        responses.get(
            API,
            body=fixture_bytes("arxiv/q_testing_s0_m10_bc5a6c384fe9.xml"),
            content_type="application/atom+xml",
            match=[
                matchers.query_param_matcher(
                    {"id_list": "2202.12139,2005.14124", "max_results": "2"}
                )
            ],
        )
        make_user("admin@example.org", password="an-admin-pass-123", is_staff=True)
        self.login("admin@example.org", "an-admin-pass-123")
        page = self.page

        page.goto(self.live_server_url + "/papers/")
        page.get_by_role("link", name="Import papers").click()
        page.get_by_role("link", name="New import").click()
        page.get_by_label("arXiv ids, arXiv URLs and DOIs").fill(
            "2202.12139\nhttps://arxiv.org/abs/2005.14124"
        )
        form = page.locator("form").filter(has=page.get_by_label("arXiv ids, arXiv URLs and DOIs"))
        form.get_by_role("button", name="Preview the import").click()

        expect(page.get_by_role("heading", name="Preview")).to_be_visible()
        rows = page.locator("table.import-report tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("new")
        expect(rows.nth(0)).to_contain_text(DEEP)
        expect(rows.nth(1)).to_contain_text(FUZZ)
        self.screenshot("import-preview")
        self.assertEqual(Paper.objects.count(), 0)

        page.get_by_role("button", name="Import 2 items").click()
        expect(page.get_by_role("heading", name="Report")).to_be_visible()
        deep, fuzz = Paper.objects.order_by("pk")
        expect(rows.nth(0)).to_contain_text(f"created #{deep.pk}")
        expect(rows.nth(1)).to_contain_text(f"created #{fuzz.pk}")
        expect(page.get_by_text(re.compile(r"^2 created, 0 updated"))).to_be_visible()
        expect(page.get_by_role("link", name="Download the report as CSV")).to_be_visible()
        path = self.screenshot("import-report")
        self.assertEqual(path.read_bytes()[:8], b"\x89PNG\r\n\x1a\n")

        page.get_by_role("link", name=DEEP).click()
        expect(page.get_by_role("heading", name=DEEP)).to_be_visible()
        self.assert_same_origin_only()
        self.assertEqual(self.console_errors, [])
