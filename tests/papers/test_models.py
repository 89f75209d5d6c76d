import unittest

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import SimpleTestCase, TestCase

from papers.models import Author, Authorship, Paper
from papers.normalize import author_key, normalize_doi, parse_arxiv_id, title_key
from tests.factories import make_paper


class PaperConstraintTests(TestCase):
    def assert_rejected(self, **fields):
        with self.assertRaises(IntegrityError), transaction.atomic():
            Paper.objects.create(title="Duplicate", title_key="duplicate", **fields)

    def test_arxiv_id_is_unique(self):
        make_paper(arxiv_id="2205.14135")
        self.assert_rejected(arxiv_id="2205.14135")

    def test_doi_is_unique(self):
        make_paper(doi="10.1145/3620665.3640366")
        self.assert_rejected(doi="10.1145/3620665.3640366")

    def test_doi_must_be_lower_case(self):
        self.assert_rejected(doi="10.1145/ABC")

    def test_empty_identifiers_are_refused_use_null(self):
        self.assert_rejected(doi="")
        self.assert_rejected(arxiv_id="")

    def test_many_papers_without_identifiers_are_fine(self):
        make_paper()
        make_paper()
        self.assertEqual(Paper.objects.filter(arxiv_id__isnull=True, doi__isnull=True).count(), 2)

    def test_citation_key_unique_when_set(self):
        make_paper(citation_key="chen2018tvm")
        self.assert_rejected(citation_key="chen2018tvm")
        make_paper(citation_key="")
        make_paper(citation_key="")

    def test_year_must_be_plausible(self):
        self.assert_rejected(year=20222)

    def test_authorship_positions_and_authors_are_unique_per_paper(self):
        paper = make_paper(authors=["Tri Dao"])
        author = Author.objects.get(key="tri dao")
        other = Author.objects.create(name="Atri Rudra", key="atri rudra")
        with self.assertRaises(IntegrityError), transaction.atomic():
            Authorship.objects.create(paper=paper, author=other, position=0)
        with self.assertRaises(IntegrityError), transaction.atomic():
            Authorship.objects.create(paper=paper, author=author, position=1)

    def test_authors_keep_their_order(self):
        paper = make_paper(authors=["Zed Last", "Amy First", "Mia Middle"])
        fetched = Paper.objects.with_authors().get(pk=paper.pk)
        self.assertEqual(
            [a.name for a in fetched.ordered_authors], ["Zed Last", "Amy First", "Mia Middle"]
        )


class NormalizeTests(SimpleTestCase):
    def test_arxiv_forms(self):
        cases = {
            "2106.09685": ("2106.09685", None),
            "2106.09685v2": ("2106.09685", 2),
            "arXiv:2106.09685": ("2106.09685", None),
            "ARXIV:2106.09685v3": ("2106.09685", 3),
            "cs/0112017": ("cs/0112017", None),
            "math.GT/0309136": ("math/0309136", None),
            "hep-th/9901001v1": ("hep-th/9901001", 1),
            "https://arxiv.org/abs/2205.14135": ("2205.14135", None),
            "https://arxiv.org/pdf/2205.14135v2.pdf": ("2205.14135", 2),
            "http://arxiv.org/pdf/1408.5093.pdf": ("1408.5093", None),
            "https://arxiv.org/abs/cs/0112017v1": ("cs/0112017", 1),
        }
        for text, expected in cases.items():
            with self.subTest(text=text):
                self.assertEqual(parse_arxiv_id(text), expected)

    def test_not_arxiv(self):
        for text in ["", "1234", "10.1145/1", "https://evil.example/abs/2205.14135", "2205.1"]:
            with self.subTest(text=text):
                self.assertIsNone(parse_arxiv_id(text))

    def test_doi_forms(self):
        for text in [
            "10.1145/3620665.3640366",
            "doi:10.1145/3620665.3640366",
            "https://doi.org/10.1145/3620665.3640366",
            "https://dx.doi.org/10.1145/3620665.3640366",
            "  10.1145/3620665.3640366 ",
        ]:
            with self.subTest(text=text):
                self.assertEqual(normalize_doi(text), "10.1145/3620665.3640366")
        self.assertEqual(normalize_doi("10.48550/arXiv.2205.14135"), "10.48550/arxiv.2205.14135")
        self.assertIsNone(normalize_doi("https://example.org/10.1/x"))
        self.assertIsNone(normalize_doi("not a doi"))

    def test_title_key_ignores_case_braces_accents_and_punctuation(self):
        self.assertEqual(
            title_key("{TVM}: An Automated End-to-End Optimizing Compiler"),
            title_key("TVM - an automated end to end optimizing compiler."),
        )
        self.assertEqual(title_key("Naïve Café"), "naive cafe")

    def test_author_key(self):
        self.assertEqual(author_key("Martín Abadi"), author_key("Martin  Abadi"))


@unittest.skipUnless(connection.vendor == "postgresql", "PostgreSQL's TOAST compression")
class StorageTests(TestCase):
    def test_long_texts_and_job_documents_are_compressed_with_lz4_where_the_server_has_it(self):
        with connection.cursor() as cursor:
            try:
                with transaction.atomic():
                    cursor.execute("CREATE TEMPORARY TABLE lz4_probe (t text COMPRESSION lz4)")
            except DatabaseError:
                self.skipTest("this PostgreSQL is built without lz4")
            cursor.execute(
                "SELECT attrelid::regclass::text, attname, attcompression FROM pg_attribute "
                "WHERE attrelid IN ('papers_importjob'::regclass, 'papers_paper'::regclass) "
                "AND attcompression <> '' ORDER BY 1, 2"
            )
            self.assertEqual(
                cursor.fetchall(),
                [
                    ("papers_importjob", "items", "l"),
                    ("papers_importjob", "preview", "l"),
                    ("papers_importjob", "report", "l"),
                    ("papers_paper", "abstract", "l"),
                    ("papers_paper", "source_bibtex", "l"),
                ],
            )
