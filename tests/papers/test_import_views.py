"""The staff import pages: identifiers box and BibTeX upload -> preview -> confirm ->
report, background jobs with their progress, CSV, and who may reach any of it."""

import csv
import io

import responses
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from responses import matchers

from papers import services
from papers.models import ImportJob, Paper
from papers.records import PaperRecord
from tests.factories import enrol, make_course, make_paper, make_user
from tests.lib import fixture_bytes

API = "https://export.arxiv.org/api/query"
# A recorded arXiv answer with ten papers; the id_list requests below name two of them.
TESTING_FEED = fixture_bytes("arxiv/q_testing_s0_m10_bc5a6c384fe9.xml")
DEEP = "Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques"
FUZZ = "Active Fuzzing for Testing and Securing Cyber-Physical Systems"


def answer_arxiv(id_list: str) -> None:
    responses.get(
        API,
        body=TESTING_FEED,
        content_type="application/atom+xml",
        match=[
            matchers.query_param_matcher(
                {"id_list": id_list, "max_results": str(len(id_list.split(",")))}
            )
        ],
    )


def make_job(*, created_by=None, records=(), status="done"):
    job = services.create_bibtex_job(
        records=list(records), errors=[], filename="secret-refs.bib", created_by=created_by
    )
    if status != "preparing":
        services.preview_import(job=job)
    if status == "done":
        services.confirm_import(job=job)
    job.refresh_from_db()
    return job


def record(n: int) -> PaperRecord:
    return PaperRecord(
        title=f"Secret Record Number {n}", authors=[f"Author Number{n}"], year=2020, source="bibtex"
    )


@override_settings(ARXIV_API_URL=API, ARXIV_MIN_INTERVAL=0, HTTP_BACKOFF_FACTOR=0)
class ImportFlowTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.admin = make_user("admin@example.org", is_staff=True)

    def setUp(self):
        self.client.force_login(self.admin)

    @responses.activate
    def test_admin_pastes_arxiv_ids_previews_confirms_and_gets_the_report(self):
        answer_arxiv("2202.12139,2005.14124")
        # Fetching is never done in the request: the preview is a task (run here by
        # the tests' immediate backend once the request's transaction commits).
        with self.captureOnCommitCallbacks(execute=True) as tasks:
            response = self.client.post(
                reverse("papers:import_new"),
                {"kind": "identifiers", "identifiers": "2202.12139\narXiv:2005.14124 nonsense"},
            )
        self.assertEqual(len(tasks), 1)
        job = ImportJob.objects.get()
        self.assertRedirects(response, job.get_absolute_url())
        self.assertEqual((job.kind, job.status, job.total), ("identifiers", "preview", 3))
        self.assertEqual(Paper.objects.count(), 0)

        response = self.client.get(job.get_absolute_url())
        self.assertEqual(
            [(row["input"], row["label"], row["title"]) for row in response.context["rows"]],
            [
                ("2202.12139", "new", DEEP),
                ("arXiv:2005.14124", "new", FUZZ),
                ("nonsense", "failed", ""),
            ],
        )
        self.assertContains(
            response,
            "Preview: 2 new, 0 updates, 0 already in the catalog, 0 repeated, "
            "0 possible duplicates, 1 failed",
        )
        self.assertContains(response, '<button type="submit">Import 3 items</button>', html=True)

        response = self.client.post(reverse("papers:import_confirm", args=[job.pk]))
        self.assertRedirects(response, job.get_absolute_url())
        deep, fuzz = Paper.objects.order_by("pk")
        self.assertEqual((deep.title, fuzz.title), (DEEP, FUZZ))
        self.assertEqual(
            (deep.doi, deep.arxiv_id, deep.added_by),
            ("10.1109/icstw55395.2022.00035", "2202.12139", self.admin),
        )
        response = self.client.get(job.get_absolute_url())
        self.assertEqual(
            [(row["label"], row["reason"]) for row in response.context["rows"]],
            [
                (f"created #{deep.pk}", ""),
                (f"created #{fuzz.pk}", ""),
                ("failed", "not an arXiv id or URL, nor a DOI"),
            ],
        )
        self.assertContains(response, f'<a href="{deep.get_absolute_url()}">{DEEP}</a>', html=True)
        self.assertNotContains(response, "hx-trigger")

        response = self.client.get(reverse("papers:import_csv", args=[job.pk]))
        self.assertEqual(response["Content-Type"], "text/csv; charset=utf-8")
        self.assertEqual(
            response["Content-Disposition"], f'attachment; filename="import-{job.pk}.csv"'
        )
        self.assertEqual(
            list(csv.reader(io.StringIO(response.content.decode()))),
            [
                ["item", "input", "line", "outcome", "paper_id", "title", "reason"],
                ["1", "2202.12139", "1", f"created #{deep.pk}", str(deep.pk), DEEP, ""],
                ["2", "arXiv:2005.14124", "2", f"created #{fuzz.pk}", str(fuzz.pk), FUZZ, ""],
                ["3", "nonsense", "2", "failed", "", "", "not an arXiv id or URL, nor a DOI"],
            ],
        )

    def test_a_job_waiting_for_the_worker_says_where_it_runs(self):
        waiting = ImportJob.objects.create(kind="identifiers", status="preparing", total=1)
        self.assertContains(
            self.client.get(waiting.get_absolute_url()),
            "Imports run in the background task worker (<code>manage.py db_worker</code>)",
        )

    @responses.activate
    def test_confirming_twice_imports_once(self):
        answer_arxiv("2202.12139")
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(
                reverse("papers:import_new"), {"kind": "identifiers", "identifiers": "2202.12139"}
            )
        job = ImportJob.objects.get()
        self.client.post(reverse("papers:import_confirm", args=[job.pk]))
        response = self.client.post(reverse("papers:import_confirm", args=[job.pk]), follow=True)
        self.assertEqual(
            [str(m) for m in response.context["messages"]], ["This import was already confirmed."]
        )
        self.assertEqual(Paper.objects.count(), 1)

    def test_identifiers_box_errors(self):
        url = reverse("papers:import_new")
        cases = {
            "": ["This field is required."],
            "hello world": ["None of these is an arXiv id, arXiv URL or DOI: hello, world"],
        }
        for text, errors in cases.items():
            with self.subTest(text=text):
                response = self.client.post(url, {"kind": "identifiers", "identifiers": text})
                self.assertEqual(response.status_code, 200)
                self.assertEqual(
                    response.context["forms"]["identifiers"].errors, {"identifiers": errors}
                )
        self.assertEqual(ImportJob.objects.count(), 0)

    @override_settings(IMPORT_MAX_IDENTIFIERS=2)
    def test_too_many_identifiers_are_refused(self):
        response = self.client.post(
            reverse("papers:import_new"),
            {"kind": "identifiers", "identifiers": "2106.09685 2106.09686 2106.09687"},
        )
        self.assertEqual(
            response.context["forms"]["identifiers"].errors,
            {"identifiers": ["3 identifiers: import at most 2 at a time."]},
        )

    def test_bibtex_upload_previews_entries_and_reports_unreadable_blocks(self):
        bib = (
            b"@inproceedings{chen2018tvm,\n"
            b"  title = {{TVM}: An Automated End-to-End Optimizing Compiler for Deep Learning},\n"
            b"  author = {Chen, Tianqi and Moreau, Thierry},\n"
            b"  booktitle = {OSDI},\n  year = {2018},\n}\n\n"
            b"@article{broken,\n  title = {Missing a closing brace\n\n"
        )
        response = self.client.post(
            reverse("papers:import_new"),
            {"kind": "bibtex", "file": SimpleUploadedFile("refs.bib", bib), "text": ""},
        )
        job = ImportJob.objects.get()
        self.assertRedirects(response, job.get_absolute_url())
        self.assertEqual((job.kind, job.filename, job.total), ("bibtex", "refs.bib", 2))
        rows = services.report_rows(job=job)
        self.assertEqual(
            [(row["input"], row["line"], row["label"], row["title"]) for row in rows],
            [
                (
                    "chen2018tvm",
                    None,
                    "new",
                    "TVM: An Automated End-to-End Optimizing Compiler for Deep Learning",
                ),
                ("broken", 8, "failed", ""),
            ],
        )
        self.assertEqual(
            rows[1]["reason"],
            "BibTeX syntax error: Unexpectedly reached end of file. "
            "(@article{broken, title = {Missing a closing brace)",
        )

    def test_pasted_bibtex_previews_too(self):
        response = self.client.post(
            reverse("papers:import_new"),
            {"kind": "bibtex", "text": "@misc{k, title={Pasted Paper}, year={2020}}"},
        )
        job = ImportJob.objects.get()
        self.assertRedirects(response, job.get_absolute_url())
        self.assertEqual(
            (job.input_text, job.preview[0]["title"]),
            ("@misc{k, title={Pasted Paper}, year={2020}}", "Pasted Paper"),
        )

    def bibtex_form_errors(self, data):
        response = self.client.post(reverse("papers:import_new"), {"kind": "bibtex", **data})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(ImportJob.objects.count(), 0)
        return response.context["forms"]["bibtex"].errors

    @override_settings(BIBTEX_MAX_BYTES=100)
    def test_upload_over_the_size_limit_is_a_form_error(self):
        errors = self.bibtex_form_errors(
            {"file": SimpleUploadedFile("big.bib", b"@misc{k, title={x}}" + b" " * 200)}
        )
        self.assertEqual(
            errors, {"file": ["This BibTeX is 219\xa0bytes; the limit is 100\xa0bytes."]}
        )

    def test_undecodable_upload_is_a_form_error_naming_the_problem(self):
        data = fixture_bytes("bibtex/encoding/tiny-LE-noBOM.bib")
        errors = self.bibtex_form_errors({"file": SimpleUploadedFile("tiny.bib", data)})
        self.assertEqual(
            errors,
            {"file": ["tiny.bib looks like UTF-16 without a byte-order mark; save it as UTF-8"]},
        )

    @override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
    def test_paste_too_big_for_a_request_is_a_form_error_not_a_crash(self):
        # With CSRF checks on, as in production: the check reads the body too.
        client = self.client_class(enforce_csrf_checks=True)
        client.force_login(self.admin)
        response = client.post(
            reverse("papers:import_new"),
            {"kind": "bibtex", "text": "@misc{k, title={x}}" + "%" * 2000},
        )
        self.assertEqual(response.status_code, 413)
        self.assertEqual(ImportJob.objects.count(), 0)
        self.assertEqual(
            response.context["forms"]["bibtex"].errors,
            {
                "__all__": [
                    "The pasted BibTeX is larger than 1000\xa0bytes: upload it as a file instead."
                ]
            },
        )

    def test_a_post_without_the_csrf_token_is_still_refused(self):
        client = self.client_class(enforce_csrf_checks=True)
        client.force_login(self.admin)
        response = client.post(
            reverse("papers:import_new"), {"kind": "bibtex", "text": "@misc{k, title={x}}"}
        )
        self.assertEqual(response.status_code, 403)
        self.assertEqual(ImportJob.objects.count(), 0)

    def test_file_and_paste_together_or_neither_are_refused(self):
        both = {"file": SimpleUploadedFile("a.bib", b"@misc{k, title={x}}"), "text": "@misc{"}
        self.assertEqual(
            self.bibtex_form_errors(both), {"__all__": ["Upload a file or paste BibTeX, not both."]}
        )
        self.assertEqual(
            self.bibtex_form_errors({"text": " "}),
            {"__all__": ["Upload a BibTeX file or paste BibTeX entries."]},
        )
        self.assertEqual(
            self.bibtex_form_errors({"text": "% only a comment"}),
            {"text": ["No BibTeX entries found."]},
        )

    @override_settings(IMPORT_INLINE_MAX_ITEMS=1)
    def test_large_import_runs_as_a_task_with_a_polling_progress_bar(self):
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            self.client.post(
                reverse("papers:import_new"),
                {"kind": "bibtex", "text": "@misc{a, title={One}}\n@misc{b, title={Two}}"},
            )
        job = ImportJob.objects.get()
        self.assertEqual((job.status, len(callbacks)), ("preparing", 1))
        response = self.client.get(job.get_absolute_url())
        self.assertContains(
            response,
            '<progress value="0" max="2" aria-label="Import progress">0%</progress>',
            html=True,
        )
        self.assertContains(response, 'hx-trigger="every 2s"')
        self.assertContains(
            response, '<noscript><meta http-equiv="refresh" content="5"></noscript>'
        )
        partial = self.client.get(job.get_absolute_url(), headers={"HX-Request": "true"})
        self.assertEqual(
            partial.content.decode().strip().split(">")[0],
            '<section id="import-progress" class="import-progress" aria-live="polite" hx-get="'
            + job.get_absolute_url()
            + '" hx-trigger="every 2s" hx-swap="outerHTML"',
        )
        self.assertContains(partial, 'hx-trigger="every 2s"')
        self.assertFalse(partial.has_header("HX-Refresh"))

        callbacks[0]()  # the worker prepares the preview
        partial = self.client.get(job.get_absolute_url(), headers={"HX-Request": "true"})
        self.assertEqual(partial["HX-Refresh"], "true")
        self.assertNotContains(partial, "hx-trigger")

        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("papers:import_confirm", args=[job.pk]))
        job.refresh_from_db()
        self.assertEqual((job.status, job.created_count), ("done", 2))

    def test_csv_cells_that_look_like_formulas_are_neutralised(self):
        job = make_job(
            created_by=self.admin, records=[PaperRecord(title="=HYPERLINK(1)", source="bibtex")]
        )
        rows = list(
            csv.reader(
                io.StringIO(
                    self.client.get(reverse("papers:import_csv", args=[job.pk])).content.decode()
                )
            )
        )
        self.assertEqual(rows[1][1:6:4], ["'=HYPERLINK(1)", "'=HYPERLINK(1)"])


class ImportQueryCountTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.admin = make_user(is_staff=True)

    def setUp(self):
        self.client.force_login(self.admin)

    def test_job_list_queries_do_not_grow_with_jobs(self):
        make_job(created_by=self.admin, records=[record(1)])
        # user, jobs with their creators (the session is a signed cookie)
        with self.assertNumQueries(2):
            response = self.client.get(reverse("papers:imports"))
        self.assertEqual(len(response.context["jobs"]), 1)
        make_job(created_by=make_user(), records=[record(2)])
        make_job(records=[record(3)])
        with self.assertNumQueries(2):
            response = self.client.get(reverse("papers:imports"))
        self.assertEqual(len(response.context["jobs"]), 3)

    def test_report_page_queries_do_not_grow_with_items(self):
        one = make_job(created_by=self.admin, records=[record(1)])
        three = make_job(created_by=self.admin, records=[record(2), record(3), record(4)])
        # user, the job with its creator (the report is stored on the job)
        with self.assertNumQueries(2):
            response = self.client.get(one.get_absolute_url())
        self.assertEqual(len(response.context["rows"]), 1)
        with self.assertNumQueries(2):
            response = self.client.get(three.get_absolute_url())
        self.assertEqual(len(response.context["rows"]), 3)

    def job_columns_read(self, url: str, **headers) -> set[str]:
        """The job's large JSON columns that the request selects."""
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(url, headers=headers)
        self.assertEqual(response.status_code, 200)
        sql = " ".join(query["sql"] for query in queries.captured_queries)
        return {
            name
            for name in ("items", "preview", "report", "input_text")
            if f'"papers_importjob"."{name}"' in sql
        }

    def test_pages_load_only_the_job_documents_they_show(self):
        done = make_job(created_by=self.admin, records=[record(1), record(2)])
        preview = make_job(created_by=self.admin, records=[record(3)], status="preview")
        running = make_job(created_by=self.admin, records=[record(4)], status="preparing")
        poll = {"HX-Request": "true"}
        for job in (done, preview, running):
            with self.subTest(status=job.status):
                self.assertEqual(self.job_columns_read(job.get_absolute_url(), **poll), set())
        self.assertEqual(self.job_columns_read(done.get_absolute_url()), {"report"})
        self.assertEqual(
            self.job_columns_read(reverse("papers:import_csv", args=[done.pk])), {"report"}
        )
        # Before the run the page shows the preview (the empty report comes with the job).
        self.assertEqual(self.job_columns_read(preview.get_absolute_url()), {"report", "preview"})
        # (The page of a running job is loaded once, then polled: its report, saved
        # every few seconds, is not worth a second query to leave out.)
        self.assertEqual(self.job_columns_read(running.get_absolute_url()), {"report"})
        self.assertEqual(
            self.client.get(preview.get_absolute_url()).context["summary"],
            "Preview: 1 new, 0 updates, 0 already in the catalog, 0 repeated, "
            "0 possible duplicates, 0 failed",
        )

    def test_confirming_a_small_job_reads_its_items_and_runs_it(self):
        job = make_job(created_by=self.admin, records=[record(1), record(2)], status="preview")
        response = self.client.post(reverse("papers:import_confirm", args=[job.pk]))
        self.assertRedirects(response, job.get_absolute_url())
        job.refresh_from_db()
        self.assertEqual((job.status, job.created_count), ("done", 2))


class ImportAccessTests(TestCase):
    """A student (member of a course) and an anonymous visitor reach none of the import,
    merge or duplicate pages, while jobs and papers exist that they could leak."""

    @classmethod
    def setUpTestData(cls):
        cls.admin = make_user(is_staff=True)
        cls.student = make_user("student@example.org")
        enrol(cls.student, make_course())
        cls.job = make_job(created_by=cls.admin, records=[record(1), record(2)])
        cls.preview = make_job(created_by=cls.admin, records=[record(3)], status="preview")
        cls.a = make_paper("Secret Paper A", authors=["Ada Lovelace"], year=2020)
        cls.b = make_paper("Secret Paper A.", authors=["Ada Lovelace"], year=2020)
        cls.urls = {
            "get": [
                reverse("papers:imports"),
                reverse("papers:import_new"),
                cls.job.get_absolute_url(),
                reverse("papers:import_csv", args=[cls.job.pk]),
                reverse("papers:merge", args=[cls.a.pk, cls.b.pk]),
            ],
            "post": [
                reverse("papers:import_new"),
                reverse("papers:import_confirm", args=[cls.preview.pk]),
                reverse("papers:merge", args=[cls.a.pk, cls.b.pk]),
                reverse("papers:dismiss", args=[cls.a.pk, cls.b.pk]),
            ],
        }

    def assert_nothing_changed(self):
        self.preview.refresh_from_db()
        self.assertEqual(self.preview.status, "preview")
        self.assertEqual(ImportJob.objects.count(), 2)
        self.assertEqual(Paper.objects.filter(pk__in=[self.a.pk, self.b.pk]).count(), 2)

    def test_student_gets_403_everywhere(self):
        self.client.force_login(self.student)
        for method, urls in self.urls.items():
            for url in urls:
                with self.subTest(method=method, url=url):
                    response = getattr(self.client, method)(
                        url, {"kind": "identifiers", "identifiers": "2106.09685", "keep": "a"}
                    )
                    self.assertEqual(response.status_code, 403)
                    self.assertNotContains(response, "Secret", status_code=403)
                    self.assertNotContains(response, "secret-refs.bib", status_code=403)
        self.assert_nothing_changed()

    def test_anonymous_visitor_is_sent_to_log_in(self):
        for method, urls in self.urls.items():
            for url in urls:
                with self.subTest(method=method, url=url):
                    response = getattr(self.client, method)(url)
                    self.assertRedirects(
                        response, f"{reverse('login')}?next={url}", fetch_redirect_response=False
                    )
        self.assert_nothing_changed()

    def test_staff_sees_the_jobs(self):
        self.client.force_login(self.admin)
        response = self.client.get(reverse("papers:imports"))
        self.assertEqual(list(response.context["jobs"]), [self.preview, self.job])
        self.assertContains(response, f"#{self.job.pk} BibTeX")


class CatalogLinkTests(TestCase):
    def test_search_result_links_to_its_bibtex_and_staff_to_imports(self):
        make_paper("Pipeline Parallelism", year=2019)
        response = self.client.get(reverse("papers:list"), {"q": "pipeline parallel"})
        self.assertContains(
            response,
            f'<a href="{reverse("papers:export_search")}?q=pipeline%20parallel" download>'
            "Download these as BibTeX</a>",
            html=True,
        )
        self.assertNotContains(response, "Import papers")
        self.client.force_login(make_user(is_staff=True))
        response = self.client.get(reverse("papers:list"))
        self.assertContains(
            response, f'<a href="{reverse("papers:imports")}">Import papers</a>', html=True
        )
