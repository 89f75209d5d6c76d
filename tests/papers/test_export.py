"""BibTeX downloads of a topic, a course, a lecture and a search result, and the round
trip: the demo catalog exported and imported into an empty database is the same."""

import io

import bibtexparser
from django.core.management import call_command
from django.test import TestCase
from django.urls import reverse

from courses.models import Membership, Reading, ReadingProgress, Review
from papers import services
from papers.bibtex import papers_to_bibtex
from papers.models import Author, Paper, Topic
from tests.factories import enrol, make_course, make_lecture, make_paper, make_reading, make_user


def entry_keys(response):
    library = bibtexparser.parse_string(response.content.decode())
    assert library.failed_blocks == []
    return [entry.key for entry in library.entries]


class ExportTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.topic = Topic.objects.get(slug="ml-compilers-and-runtimes")
        cls.tvm = make_paper(
            "TVM: An Automated End-to-End Optimizing Compiler for Deep Learning",
            authors=["Tianqi Chen"],
            year=2018,
            citation_key="chen2018tvm",
        )
        cls.tvm.topics.add(cls.topic)
        cls.zero = make_paper(
            "ZeRO: Memory Optimizations Toward Training Trillion Parameter Models",
            authors=["Samyam Rajbhandari"],
            year=2020,
            citation_key="rajbhandari2020zero",
        )
        cls.secret = make_paper("Secret Seminar Paper", year=2023, citation_key="secret2023")
        public = make_course("15-849", slug="public-course")
        cls.lecture = make_lecture(public, 3)
        make_reading(cls.lecture, cls.tvm)
        make_reading(make_lecture(public, 4), cls.zero, required=False)
        cls.private = make_course("99-999", slug="members-only", is_public=False)
        make_reading(make_lecture(cls.private, 1), cls.secret)
        make_reading(make_lecture(cls.private, 2), cls.tvm)
        cls.member = make_user("member@example.org")
        enrol(cls.member, cls.private, Membership.Role.STUDENT)
        cls.stranger = make_user("stranger@example.org")

    def test_a_key_with_a_quote_does_not_break_the_download_header(self):
        paper = make_paper("Quoted", citation_key='a"b;c')
        response = self.client.get(reverse("papers:bibtex", args=[paper.pk]))
        self.assertEqual(response["Content-Disposition"], 'attachment; filename="a\\"b;c.bib"')

    def test_topic_download(self):
        response = self.client.get(reverse("papers:export_topic", args=[self.topic.slug]))
        self.assertEqual(response["Content-Type"], "application/x-bibtex; charset=utf-8")
        self.assertEqual(
            response["Content-Disposition"],
            'attachment; filename="topic-ml-compilers-and-runtimes.bib"',
        )
        self.assertEqual(entry_keys(response), ["chen2018tvm"])
        page = self.client.get(self.topic.get_absolute_url())
        self.assertContains(
            page,
            f'<a href="{reverse("papers:export_topic", args=[self.topic.slug])}" download>'
            "Download these as BibTeX</a>",
            html=True,
        )

    def test_course_download_has_every_paper_its_lectures_assign(self):
        response = self.client.get(reverse("papers:export_course", args=["public-course"]))
        self.assertEqual(
            response["Content-Disposition"], 'attachment; filename="public-course.bib"'
        )
        self.assertEqual(entry_keys(response), ["rajbhandari2020zero", "chen2018tvm"])

    def test_lecture_download(self):
        response = self.client.get(reverse("papers:export_lecture", args=["public-course", 3]))
        self.assertEqual(
            response["Content-Disposition"],
            'attachment; filename="public-course-lecture-3.bib"',
        )
        self.assertEqual(entry_keys(response), ["chen2018tvm"])
        missing = self.client.get(reverse("papers:export_lecture", args=["public-course", 99]))
        self.assertEqual(missing.status_code, 404)

    def test_members_only_course_is_exported_to_members_and_staff_only(self):
        urls = [
            reverse("papers:export_course", args=["members-only"]),
            reverse("papers:export_lecture", args=["members-only", 1]),
        ]
        for user in (None, self.stranger):
            self.client.logout()
            if user:
                self.client.force_login(user)
            for url in urls:
                with self.subTest(user=user, url=url):
                    response = self.client.get(url)
                    self.assertEqual(response.status_code, 404)
                    self.assertNotContains(response, "secret2023", status_code=404)
        for user in (self.member, make_user(is_staff=True)):
            self.client.force_login(user)
            response = self.client.get(urls[0])
            self.assertEqual(entry_keys(response), ["secret2023", "chen2018tvm"])

    def test_search_result_download(self):
        response = self.client.get(reverse("papers:export_search"), {"q": "memory trillion"})
        self.assertEqual(
            response["Content-Disposition"], 'attachment; filename="papers-search.bib"'
        )
        self.assertEqual(entry_keys(response), ["rajbhandari2020zero"])
        everything = self.client.get(reverse("papers:export_search"))
        self.assertEqual(everything["Content-Disposition"], 'attachment; filename="papers.bib"')
        self.assertEqual(len(entry_keys(everything)), 3)


def catalog_facts(papers=None):
    """What the round trip must keep, for every paper."""
    return sorted(
        (
            paper.title,
            tuple(author.name for author in paper.ordered_authors),
            paper.year,
            paper.venue,
            paper.arxiv_id,
            paper.doi,
        )
        for paper in (papers or Paper.objects).with_authors()
    )


def round_trip():
    """Export every paper, empty the catalog, import the export; return the job."""
    bib = papers_to_bibtex(Paper.objects.with_authors().order_by("pk"))
    for model in (Reading, ReadingProgress, Review):
        model.objects.all().delete()
    Paper.objects.all().delete()
    Author.objects.all().delete()
    result = services.read_bibtex_upload(data=bib.encode("utf-8"), filename="demo.bib")
    job = services.create_bibtex_job(
        records=result.records, errors=result.errors, filename="demo.bib"
    )
    services.import_now(job=job)
    job.refresh_from_db()
    return job


class RoundTripTests(TestCase):
    def test_demo_catalog_exported_and_imported_into_an_empty_database_is_the_same(self):
        call_command("load_demo", stdout=io.StringIO())
        before = catalog_facts()
        self.assertGreater(len(before), 200)
        total = Paper.objects.count()

        job = round_trip()

        self.assertEqual((job.status, job.created_count, job.failed_count), ("done", total, 0))
        after = catalog_facts()
        self.assertEqual([paper for paper in before if paper not in after], [])
        self.assertEqual([paper for paper in after if paper not in before], [])
        self.assertEqual(after, before)

        # The same file once more changes nothing.
        rows = {model: list(model.objects.order_by("pk").values()) for model in (Paper, Author)}
        again = services.create_bibtex_job(
            records=[services.record_from_json(item["record"]) for item in job.items], errors=[]
        )
        services.import_now(job=again)
        again.refresh_from_db()
        self.assertEqual((again.unchanged_count, again.failed_count), (total, 0))
        self.assertEqual(
            {model: list(model.objects.order_by("pk").values()) for model in (Paper, Author)}, rows
        )

    def test_quotes_dashes_and_organisations_survive_the_round_trip(self):
        make_paper('"Why Should I Trust You?": Explaining the Predictions', year=2016)
        make_paper("Pre-training -- and --- Fine-tuning", year=2019, authors=["Ada Lovelace"])
        paper = make_paper("A Corporate Report", year=2020, authors=[])
        org = Author.objects.create(
            name="American Psychological Association",
            key="american psychological association",
            is_organisation=True,
        )
        paper.authorships.create(author=org, position=0)
        before = catalog_facts()
        round_trip()
        self.assertEqual(catalog_facts(), before)
