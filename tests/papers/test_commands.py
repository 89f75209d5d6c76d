"""import_arxiv, import_doi, import_bibtex and export_bibtex on the command line."""

import io
import tempfile
from pathlib import Path

import bibtexparser
import responses
from django.core.management import CommandError, call_command
from django.test import TestCase, override_settings
from responses import matchers

from papers.models import ImportJob, Paper, Topic
from tests.factories import make_course, make_lecture, make_paper, make_reading
from tests.lib import add_recorded, cassette, fixture_bytes

API = "https://export.arxiv.org/api/query"
WORKS = "https://api.crossref.org/works"
DATACITE = "https://api.datacite.org/dois"
TESTING_FEED = fixture_bytes("arxiv/q_testing_s0_m10_bc5a6c384fe9.xml")
EMPTY_FEED = fixture_bytes("arxiv/id_0000.0000_s0_m100_8b51d9633a68.xml")
ONE_ID = cassette("crossref/test_works_with_one_id.yaml")
CROSSREF_404 = cassette("crossref/test_works_mixed_ids_warn.yaml")[1]
DEEP = "Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques"
FUZZ = "Active Fuzzing for Testing and Securing Cyber-Physical Systems"
PLOS = (
    "Methylphenidate Exposure Induces Dopamine Neuron Loss and Activation of Microglia in "
    "the Basal Ganglia of Mice"
)


def answer_arxiv(id_list: str, body: bytes = TESTING_FEED) -> None:
    responses.get(
        API,
        body=body,
        content_type="application/atom+xml",
        match=[
            matchers.query_param_matcher(
                {"id_list": id_list, "max_results": str(len(id_list.split(",")))}
            )
        ],
    )


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue().splitlines()


@override_settings(
    ARXIV_API_URL=API,
    ARXIV_MIN_INTERVAL=0,
    CROSSREF_API_URL="https://api.crossref.org",
    DOI_RESOLVER_URL="https://doi.org",
    DATACITE_API_URL="https://api.datacite.org",
    HTTP_BACKOFF_FACTOR=0,
    HTTP_RETRY_AFTER_MAX=0,
)
class ImportCommandTests(TestCase):
    @responses.activate
    def test_import_arxiv_prints_the_report(self):
        answer_arxiv("2202.12139,2005.14124v2")  # a version asked for is fetched
        lines = run("import_arxiv", "https://arxiv.org/abs/2202.12139", "arXiv:2005.14124v2")
        deep, fuzz = Paper.objects.order_by("pk")
        self.assertEqual(
            lines,
            [
                f"   1. https://arxiv.org/abs/2202.12139 (line 1) -> created #{deep.pk} “{DEEP}”",
                f"   2. arXiv:2005.14124v2 (line 2) -> created #{fuzz.pk} “{FUZZ}”",
                "2 created, 0 updated, 0 unchanged, 0 duplicates, 0 possible duplicates, 0 failed",
            ],
        )
        self.assertEqual(ImportJob.objects.get().kind, "arxiv")

    @responses.activate
    def test_dry_run_writes_nothing_and_leaves_the_job_to_confirm(self):
        answer_arxiv("2202.12139")
        lines = run("import_arxiv", "--dry-run", "2202.12139")
        self.assertEqual(
            lines,
            [
                f"   1. 2202.12139 (line 1) -> new “{DEEP}”",
                "Preview: 1 new, 0 updates, 0 already in the catalog, 0 repeated, "
                "0 possible duplicates, 0 failed",
            ],
        )
        self.assertEqual(Paper.objects.count(), 0)
        self.assertEqual(ImportJob.objects.get().status, "preview")

    @responses.activate
    def test_a_failed_item_makes_the_command_fail_after_the_report(self):
        answer_arxiv("2202.12139,0000.0000")
        answer_arxiv("0000.0000", EMPTY_FEED)  # arXiv sometimes answers empty: asked again
        out = io.StringIO()
        with self.assertRaisesMessage(CommandError, "1 of 2 items failed") as caught:
            call_command("import_arxiv", "2202.12139", "0000.0000", stdout=out)
        self.assertEqual(caught.exception.returncode, 1)
        paper = Paper.objects.get()
        self.assertEqual(
            out.getvalue().splitlines(),
            [
                f"   1. 2202.12139 (line 1) -> created #{paper.pk} “{DEEP}”",
                "   2. 0000.0000 (line 2) -> failed: not found on arXiv",
                "1 created, 0 updated, 0 unchanged, 0 duplicates, 0 possible duplicates, 1 failed",
            ],
        )

    def test_bad_arguments_are_one_line_errors(self):
        cases = [
            (
                ("import_arxiv", "10.1145/3620665.3640366", "hello"),
                "not an arXiv id or URL: 10.1145/3620665.3640366, hello",
            ),
            (("import_doi", "2106.09685"), "not a DOI: 2106.09685"),
            (
                ("import_bibtex", "/nonexistent/refs.bib"),
                "cannot read /nonexistent/refs.bib: No such file or directory",
            ),
            (("export_bibtex", "--course", "nope"), "no course with the slug 'nope'"),
            (("export_bibtex", "--topic", "nope"), "no topic with the slug 'nope'"),
        ]
        for args, message in cases:
            with self.subTest(args=args), self.assertRaises(CommandError) as caught:
                call_command(*args, stdout=io.StringIO())
            self.assertEqual(str(caught.exception), message)
        self.assertEqual(ImportJob.objects.count(), 0)

    @responses.activate
    def test_import_doi(self):
        add_recorded(responses, ONE_ID[0])
        add_recorded(responses, CROSSREF_404, url=f"{WORKS}/10.1371/notarealdoi")
        responses.get(f"{DATACITE}/10.1371/notarealdoi", status=404)
        responses.get("https://doi.org/10.1371/notarealdoi", status=404)
        out = io.StringIO()
        with self.assertRaisesMessage(CommandError, "1 of 2 items failed"):
            call_command(
                "import_doi", "doi:10.1371/journal.pone.0033693", "10.1371/notarealdoi", stdout=out
            )
        paper = Paper.objects.get()
        self.assertEqual(
            out.getvalue().splitlines(),
            [
                f"   1. doi:10.1371/journal.pone.0033693 (line 1) -> created #{paper.pk} “{PLOS}”",
                "   2. 10.1371/notarealdoi (line 2) -> failed: DOI not found",
                "1 created, 0 updated, 0 unchanged, 0 duplicates, 0 possible duplicates, 1 failed",
            ],
        )
        self.assertEqual(
            (paper.doi, paper.venue, paper.source),
            ("10.1371/journal.pone.0033693", "PLoS ONE", "doi"),
        )

    def test_import_bibtex_reports_every_entry_and_unreadable_block(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "refs.bib"
            path.write_text(
                "@article{ok, title={A Fine Paper}, author={Ada Lovelace}, year={1843}}\n"
                "@misc{untitled, author={Nobody}, year={2020}}\n"
                "@article{bad, title={No closing brace\n",
                encoding="utf-8",
            )
            out = io.StringIO()
            with self.assertRaisesMessage(CommandError, "2 of 3 items failed"):
                call_command("import_bibtex", str(path), stdout=out)
            paper = Paper.objects.get()
            self.assertEqual(
                out.getvalue().splitlines(),
                [
                    f"   1. ok -> created #{paper.pk} “A Fine Paper”",
                    "   2. untitled (line 2) -> failed: no title "
                    "(@misc{untitled, author={Nobody}, year={2020}})",
                    "   3. bad (line 3) -> failed: BibTeX syntax error: Unexpectedly reached end "
                    "of file. (@article{bad, title={No closing brace)",
                    "1 created, 0 updated, 0 unchanged, 0 duplicates, 0 possible duplicates, "
                    "2 failed",
                ],
            )
            # Once more: nothing changes.
            with self.assertRaisesMessage(CommandError, "2 of 3 items failed"):
                call_command("import_bibtex", str(path), stdout=io.StringIO())
            self.assertEqual(list(Paper.objects.all()), [paper])

    def test_import_bibtex_dry_run_and_refused_files(self):
        with tempfile.TemporaryDirectory() as tmp:
            good = Path(tmp) / "good.bib"
            good.write_text("@misc{k, title={Only Previewed}}", encoding="utf-8")
            self.assertEqual(
                run("import_bibtex", "--dry-run", str(good))[0], "   1. k -> new “Only Previewed”"
            )
            self.assertEqual(Paper.objects.count(), 0)
            undecodable = Path(tmp) / "tiny.bib"
            undecodable.write_bytes(fixture_bytes("bibtex/encoding/tiny-LE-noBOM.bib"))
            with self.assertRaises(CommandError) as caught:
                call_command("import_bibtex", str(undecodable), stdout=io.StringIO())
            self.assertTrue(str(caught.exception).startswith(f"{undecodable}: tiny.bib "))
            self.assertNotIn("\n", str(caught.exception))


class ExportCommandTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.tvm = make_paper("TVM", authors=["Tianqi Chen"], year=2018, citation_key="chen2018tvm")
        cls.zero = make_paper("ZeRO", year=2020, citation_key="rajbhandari2020zero")
        cls.other = make_paper("Elsewhere", year=2021, citation_key="elsewhere2021")
        cls.topic = Topic.objects.get(slug="ml-compilers-and-runtimes")
        cls.tvm.topics.add(cls.topic)
        cls.zero.topics.add(cls.topic)
        course = make_course(slug="mlsys")
        make_reading(make_lecture(course, 1), cls.tvm)
        make_reading(make_lecture(course, 2), cls.other)

    def keys(self, text):
        return [entry.key for entry in bibtexparser.parse_string(text).entries]

    def test_everything_to_stdout(self):
        out = io.StringIO()
        call_command("export_bibtex", stdout=out)
        self.assertEqual(
            self.keys(out.getvalue()), ["chen2018tvm", "rajbhandari2020zero", "elsewhere2021"]
        )

    def test_course_and_topic_filters_to_a_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "out.bib"
            err = io.StringIO()
            call_command(
                "export_bibtex",
                "--course",
                "mlsys",
                "--topic",
                self.topic.slug,
                "--output",
                str(path),
                stdout=io.StringIO(),
                stderr=err,
            )
            self.assertEqual(self.keys(path.read_text(encoding="utf-8")), ["chen2018tvm"])
            self.assertEqual(err.getvalue(), f"1 papers written to {path}\n")
        out = io.StringIO()
        call_command("export_bibtex", "--course", "mlsys", stdout=out)
        self.assertEqual(self.keys(out.getvalue()), ["chen2018tvm", "elsewhere2021"])
