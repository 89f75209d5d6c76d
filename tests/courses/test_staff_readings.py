"""Readings of a lecture: found in the catalog (type-ahead or plain search), imported
by pasting an identifier, reordered, moved to another lecture, edited and removed."""

from pathlib import Path

import responses
from django.conf import settings
from django.test import TestCase, override_settings
from django.urls import reverse

from courses.models import Reading
from papers.models import Paper
from tests.courses.test_staff_support import build_term
from tests.factories import make_lecture, make_paper, make_reading

ARXIV_FIXTURE = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "arxiv"
    / "id_1605.08386_s0_m100_199195aa31ad.xml"
)


class ReadingTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_term(cls)
        cls.flash = make_paper(
            "FlashAttention: Fast and Memory-Efficient Exact Attention",
            authors=["Tri Dao", "Daniel Y. Fu"],
            year=2022,
            arxiv_id="2205.14135",
        )
        cls.tvm = make_paper(
            "TVM: An Automated End-to-End Optimizing Compiler", authors=["Tianqi Chen"]
        )

    def setUp(self):
        self.client.force_login(self.ta)
        self.page = reverse("courses:manage_lecture", args=[self.course.slug, self.lecture.pk])

    def url(self, name, *args):
        return reverse(f"courses:{name}", args=[self.course.slug, *args])

    def titles(self, lecture=None):
        lecture = lecture or self.lecture
        return [
            (r.paper.title, r.required)
            for r in lecture.readings.select_related("paper").order_by("-required", "order", "pk")
        ]


class CatalogSearchTests(ReadingTestCase):
    def test_plain_search_lists_matches_by_title_author_or_arxiv_id(self):
        for query in ("flashattention", "Tri Dao", "2205.14135"):
            with self.subTest(query=query):
                response = self.client.get(self.page, {"q": query})
                self.assertEqual([p.title for p in response.context["results"]], [self.flash.title])
        self.assertContains(response, "Add as required")

    def test_htmx_search_answers_with_the_results_fragment_only(self):
        response = self.client.get(self.page, {"q": "autodiff"}, headers={"HX-Request": "true"})
        html = response.content.decode()
        self.assertTrue(html.strip().startswith('<div id="catalog-results" aria-live="polite">'))
        self.assertNotIn("<html", html)
        self.assertIn("A Secret Reading on Autodiff", html)
        self.assertIn("Already a reading", html)  # no Add button for it

    def test_empty_search_shows_no_results(self):
        response = self.client.get(self.page)
        self.assertEqual(response.context["results"], [])


class AddFromCatalogTests(ReadingTestCase):
    def test_add_required_and_optional_readings_in_order(self):
        add = self.url("manage_reading_add", self.lecture.pk)
        response = self.client.post(add, {"paper": self.tvm.pk, "required": "0"})
        self.assertRedirects(response, self.page + "#readings")
        self.client.post(add, {"paper": self.flash.pk, "required": "1"})
        self.assertEqual(
            self.titles(),
            [
                ("A Secret Reading on Autodiff", True),
                (self.flash.title, True),
                (self.tvm.title, False),
            ],
        )
        self.assertEqual(
            list(self.lecture.readings.order_by("order").values_list("order", flat=True)),
            [0, 1, 2],
        )

    def test_unknown_paper_id_and_duplicate_reading_are_explained(self):
        add = self.url("manage_reading_add", self.lecture.pk)
        response = self.client.post(add, {"paper": 999999, "required": "1"}, follow=True)
        self.assertEqual(
            [str(m) for m in response.context["messages"]],
            [
                "There is no such paper in the catalog (it may have been merged or removed): "
                "search again."
            ],
        )
        response = self.client.post(add, {"paper": self.paper.pk, "required": "1"}, follow=True)
        self.assertEqual(
            [str(m) for m in response.context["messages"]],
            ["“A Secret Reading on Autodiff” is already a reading of lecture 1."],
        )
        self.assertEqual(self.lecture.readings.count(), 1)


@override_settings(ARXIV_MIN_INTERVAL=0)
class ImportByIdentifierTests(ReadingTestCase):
    @responses.activate
    def test_pasted_arxiv_id_is_imported_and_attached(self):
        responses.get(settings.ARXIV_API_URL, body=ARXIV_FIXTURE.read_bytes())
        response = self.client.post(
            self.url("manage_reading_import", self.lecture.pk),
            {"text": "arXiv:1605.08386", "required": "on", "note": "Sections 1-3."},
            follow=True,
        )
        self.assertRedirects(response, self.page + "#readings")
        self.assertEqual(
            [str(m) for m in response.context["messages"]],
            ["Imported and added: Heat-bath random walks with Markov bases."],
        )
        paper = Paper.objects.get(arxiv_id="1605.08386")
        reading = self.lecture.readings.get(paper=paper)
        self.assertEqual(
            (reading.required, reading.note, reading.order), (True, "Sections 1-3.", 1)
        )
        self.assertEqual(
            [a.name for a in paper.ordered_authors], ["Caprice Stanley", "Tobias Windisch"]
        )
        self.assertEqual(len(responses.calls), 1)

    @responses.activate
    def test_paper_already_in_the_catalog_is_attached_without_a_duplicate(self):
        responses.get(settings.ARXIV_API_URL, body=ARXIV_FIXTURE.read_bytes())
        existing = make_paper("Heat-bath random walks with Markov bases", arxiv_id="1605.08386")
        self.client.post(self.url("manage_reading_import", self.lecture.pk), {"text": "1605.08386"})
        self.assertEqual(Paper.objects.filter(arxiv_id="1605.08386").count(), 1)
        self.assertEqual(self.lecture.readings.get(paper=existing).required, False)

    def test_unreadable_identifier_is_a_form_error_and_nothing_is_added(self):
        response = self.client.post(
            self.url("manage_reading_import", self.lecture.pk), {"text": "not an identifier"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response.context["import_form"].errors,
            {"text": ["enter one arXiv id or URL, one DOI, or one BibTeX entry"]},
        )
        self.assertEqual(self.lecture.readings.count(), 1)


class ReorderTests(ReadingTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.second = make_reading(cls.lecture, cls.flash, order=1)
        cls.optional = make_reading(cls.lecture, cls.tvm, required=False, order=2)

    def move(self, reading, direction):
        return self.client.post(
            self.url("manage_reading_move", reading.pk), {"direction": direction}
        )

    def test_buttons_move_a_reading_within_its_kind(self):
        response = self.move(self.second, "up")
        self.assertRedirects(response, self.page + f"#reading-{self.second.pk}")
        self.assertEqual(
            self.titles(),
            [
                (self.flash.title, True),
                ("A Secret Reading on Autodiff", True),
                (self.tvm.title, False),
            ],
        )
        # Below the last required reading come the optional ones: no move.
        self.move(self.reading, "down")
        self.move(self.optional, "up")
        self.assertEqual(
            self.titles(),
            [
                (self.flash.title, True),
                ("A Secret Reading on Autodiff", True),
                (self.tvm.title, False),
            ],
        )

    def test_page_disables_the_buttons_that_cannot_move(self):
        readings = self.client.get(self.page).context["readings"]
        self.assertEqual(
            [(r.pk, r.can_move_up, r.can_move_down) for r in readings],
            [
                (self.reading.pk, False, True),
                (self.second.pk, True, False),
                (self.optional.pk, False, False),
            ],
        )

    def test_drag_and_drop_sends_the_whole_order(self):
        order = f"{self.second.pk},{self.reading.pk},{self.optional.pk}"
        response = self.client.post(
            self.url("manage_readings_reorder", self.lecture.pk),
            {"order": order},
            headers={"X-Requested-With": "fetch"},
        )
        self.assertEqual(response.status_code, 204)
        self.assertEqual(
            self.titles(),
            [
                (self.flash.title, True),
                ("A Secret Reading on Autodiff", True),
                (self.tvm.title, False),
            ],
        )

    def test_an_order_that_does_not_name_every_reading_is_refused(self):
        other = make_reading(make_lecture(self.course, 2))
        response = self.client.post(
            self.url("manage_readings_reorder", self.lecture.pk),
            {"order": f"{self.second.pk},{self.reading.pk},{other.pk}"},
            headers={"X-Requested-With": "fetch"},
        )
        self.assertEqual(response.status_code, 409)
        self.assertEqual(
            response.content.decode(),
            "The readings of this lecture changed meanwhile; reload the page and try again.",
        )
        # The script reloads the page, which says why the order snapped back.
        page = self.client.get(self.url("manage_lecture", self.lecture.pk))
        self.assertEqual(
            [str(m) for m in page.context["messages"]],
            [
                "The order was not saved: The readings of this lecture changed meanwhile; "
                "reload the page and try again."
            ],
        )
        self.assertEqual(
            list(self.lecture.readings.order_by("order").values_list("pk", flat=True)),
            [self.reading.pk, self.second.pk, self.optional.pk],
        )


class EditMoveRemoveTests(ReadingTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.next_lecture = make_lecture(cls.course, 2, title="Compilers")

    def test_edit_marks_optional_and_adds_a_note(self):
        response = self.client.post(
            self.url("manage_reading", self.reading.pk),
            {"required": "", "section": "Background", "note": "Read section 2 only."},
        )
        self.assertRedirects(response, self.page + "#readings")
        self.reading.refresh_from_db()
        self.assertEqual(
            (self.reading.required, self.reading.section, self.reading.note),
            (False, "Background", "Read section 2 only."),
        )

    def test_move_to_another_lecture_of_the_course(self):
        response = self.client.post(
            self.url("manage_reading_transfer", self.reading.pk), {"lecture": self.next_lecture.pk}
        )
        self.assertRedirects(response, self.page + "#readings")
        self.assertEqual(self.titles(), [])
        self.assertEqual(self.titles(self.next_lecture), [("A Secret Reading on Autodiff", True)])

    def test_move_to_a_lecture_of_another_course_is_refused(self):
        foreign = make_lecture(self.other_course, 1)
        response = self.client.post(
            self.url("manage_reading_transfer", self.reading.pk),
            {"lecture": foreign.pk},
            follow=True,
        )
        self.assertEqual(
            [str(m) for m in response.context["messages"]], ["Choose a lecture of this course."]
        )
        self.assertEqual(Reading.objects.get(pk=self.reading.pk).lecture, self.lecture)

    def test_move_onto_a_lecture_that_has_the_paper_is_refused(self):
        make_reading(self.next_lecture, self.paper)
        response = self.client.post(
            self.url("manage_reading_transfer", self.reading.pk),
            {"lecture": self.next_lecture.pk},
            follow=True,
        )
        self.assertEqual(
            [str(m) for m in response.context["messages"]],
            ["“A Secret Reading on Autodiff” is already a reading of lecture 2."],
        )
        self.reading.refresh_from_db()
        self.assertEqual(self.reading.lecture, self.lecture)
        self.assertEqual(self.next_lecture.readings.count(), 1)

    def test_remove_keeps_the_students_review(self):
        response = self.client.post(self.url("manage_reading_remove", self.reading.pk))
        self.assertRedirects(response, self.page + "#readings")
        self.assertEqual(self.titles(), [])
        self.assertEqual(self.paper.reviews.count(), 1)
