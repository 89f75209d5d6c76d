"""Merging two papers moves everything that points at the removed one; nothing is lost."""

import datetime

from django.contrib.admin.models import LogEntry
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from courses.models import Reading, ReadingProgress, Review
from papers import services
from papers.models import Paper, PossibleDuplicate, Topic
from tests.factories import make_course, make_lecture, make_paper, make_reading, make_user

NOW = timezone.now()


class MergeServiceTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.admin = make_user("admin@example.org", is_staff=True)
        cls.alice = make_user("alice@example.org")
        cls.bob = make_user("bob@example.org")
        cls.carol = make_user("carol@example.org")
        cls.preprint = make_paper(
            "LoRA: Low-Rank Adaptation of Large Language Models",
            authors=["Edward J. Hu", "Yelong Shen"],
            year=2021,
            venue="arXiv preprint",
            arxiv_id="2106.09685",
            arxiv_version=2,
            abstract="The preprint's abstract.",
            source="arxiv",
        )
        cls.published = make_paper(
            "LoRA: low-rank adaptation",
            authors=["Edward Hu"],
            year=2022,
            venue="ICLR 2022",
            entry_type="inproceedings",
            doi="10.48550/iclr.2022.lora",
            source="doi",
        )
        efficient = Topic.objects.get(slug="efficient-model-training-inference-and-serving")
        hardware = Topic.objects.get(slug="hardware-efficient-ml-methods")
        cls.preprint.topics.add(efficient)
        cls.published.topics.add(hardware)
        cls.preprint.tags.add("lora", "finetuning")
        cls.published.tags.add("lora", "peft")
        course = make_course()
        cls.shared_lecture = make_lecture(course, 1)
        cls.other_lecture = make_lecture(course, 2)
        make_reading(cls.shared_lecture, cls.published, required=False, note="Skim it.")
        make_reading(cls.shared_lecture, cls.preprint, required=True, note="Read section 4.")
        make_reading(cls.other_lecture, cls.preprint, required=True)

    def merge(self, **fields):
        return services.merge_papers(
            keep=self.published, other=self.preprint, fields=fields, by=self.admin
        )

    def test_chosen_fields_win_empty_ones_are_filled_and_the_other_paper_is_gone(self):
        keep = self.merge(title="other", authors="other", year="keep", venue="keep")
        self.assertFalse(Paper.objects.filter(pk=self.preprint.pk).exists())
        keep = Paper.objects.with_authors().get(pk=self.published.pk)
        self.assertEqual(
            (
                keep.title,
                keep.title_key,
                keep.year,
                keep.venue,
                keep.entry_type,
                keep.doi,
                keep.arxiv_id,
                keep.arxiv_version,
                keep.abstract,
            ),
            (
                "LoRA: Low-Rank Adaptation of Large Language Models",
                "lora low rank adaptation of large language models",
                2022,
                "ICLR 2022",
                "inproceedings",
                "10.48550/iclr.2022.lora",
                "2106.09685",
                2,
                "The preprint's abstract.",
            ),
        )
        self.assertEqual([a.name for a in keep.ordered_authors], ["Edward J. Hu", "Yelong Shen"])
        self.assertEqual(
            sorted(keep.topics.values_list("slug", flat=True)),
            ["efficient-model-training-inference-and-serving", "hardware-efficient-ml-methods"],
        )
        self.assertEqual(sorted(keep.tags.names()), ["finetuning", "lora", "peft"])
        self.assertEqual(
            list(LogEntry.objects.order_by("pk").values_list("object_id", "change_message")),
            [
                (str(self.preprint.pk), f"Merged into #{self.published.pk}"),
                (
                    str(self.published.pk),
                    f"Merged #{self.preprint.pk} “LoRA: Low-Rank Adaptation of Large Language "
                    "Models” into this paper",
                ),
            ],
        )

    def test_readings_move_and_one_reading_per_lecture_survives(self):
        self.merge()
        self.assertEqual(
            list(
                Reading.objects.order_by("lecture__number").values_list(
                    "lecture__number", "paper", "required", "note"
                )
            ),
            [
                (1, self.published.pk, True, "Skim it.\n\n---\n\nRead section 4."),
                (2, self.published.pk, True, ""),
            ],
        )

    def test_reading_progress_keeps_the_more_advanced_status_and_both_notes(self):
        started, finished = NOW - datetime.timedelta(days=3), NOW - datetime.timedelta(days=1)
        ReadingProgress.objects.create(
            user=self.alice,
            paper=self.published,
            status="reading",
            note="Good intro.",
            started_at=NOW - datetime.timedelta(days=2),
        )
        ReadingProgress.objects.create(
            user=self.alice,
            paper=self.preprint,
            status="read",
            note="Appendix B matters.",
            started_at=started,
            finished_at=finished,
        )
        ReadingProgress.objects.create(user=self.bob, paper=self.preprint, status="reading")
        self.merge()
        self.assertEqual(
            list(
                ReadingProgress.objects.order_by("user__email").values_list(
                    "user__email", "paper", "status", "note", "started_at", "finished_at"
                )
            ),
            [
                (
                    "alice@example.org",
                    self.published.pk,
                    "read",
                    "Good intro.\n\n---\n\nAppendix B matters.",
                    started,
                    finished,
                ),
                ("bob@example.org", self.published.pk, "reading", "", None, None),
            ],
        )

    def test_two_reviews_by_one_student_become_one_and_no_text_is_lost(self):
        submitted = Review.objects.create(
            author=self.alice,
            paper=self.preprint,
            answers={"problem": "Fine-tuning is costly.", "novelty": "Low-rank updates."},
            overall_rating=4,
            status="submitted",
            submitted_at=NOW - datetime.timedelta(days=5),
        )
        draft = Review.objects.create(
            author=self.alice,
            paper=self.published,
            answers={"problem": "Fine-tuning is costly.", "evaluation": "GPT-3 results convince."},
            impact_rating=5,
        )
        moved = Review.objects.create(
            author=self.bob, paper=self.preprint, answers={"problem": "x"}
        )
        self.merge()
        self.assertFalse(Review.objects.filter(pk=draft.pk).exists())
        survivor = Review.objects.get(pk=submitted.pk)
        day = draft.updated_at.strftime("%Y-%m-%d")
        self.assertEqual(
            (survivor.paper, survivor.status, survivor.overall_rating, survivor.version),
            (self.published, "submitted", 4, 2),
        )
        self.assertEqual(
            survivor.answers,
            {
                "problem": "Fine-tuning is costly.",
                "novelty": "Low-rank updates.",
                "evaluation": (
                    f"**{services.MERGE_MARKER}** (draft, {day}, written for paper "
                    f"#{self.preprint.pk} “LoRA: Low-Rank Adaptation of Large Language Models”; "
                    "ratings: impact 5):\n\nGPT-3 results convince."
                ),
            },
        )
        moved.refresh_from_db()
        self.assertEqual(moved.paper, self.published)

    def test_of_two_submitted_reviews_the_most_recent_survives(self):
        older = Review.objects.create(
            author=self.alice,
            paper=self.published,
            answers={"problem": "Old view."},
            status="submitted",
            submitted_at=NOW - datetime.timedelta(days=9),
        )
        newer = Review.objects.create(
            author=self.alice,
            paper=self.preprint,
            answers={"problem": "New view."},
            status="submitted",
            submitted_at=NOW - datetime.timedelta(days=1),
        )
        self.merge()
        self.assertEqual(list(Review.objects.values_list("pk", flat=True)), [newer.pk])
        self.assertEqual(
            Review.objects.get().answers["problem"],
            f"New view.\n\n---\n\n**{services.MERGE_MARKER}** (submitted, "
            f"{older.submitted_at:%Y-%m-%d}, written for paper #{self.preprint.pk} “LoRA: "
            "Low-Rank Adaptation of Large Language Models”):\n\nOld view.",
        )

    def test_ratings_of_a_review_with_no_new_text_are_kept_in_a_marker(self):
        draft = Review.objects.create(
            author=self.alice, paper=self.preprint, answers={"problem": "Same."}, overall_rating=2
        )
        # Both drafts: the more recently changed one survives.
        Review.objects.create(author=self.alice, paper=self.published, answers={"problem": "Same."})
        self.merge()
        self.assertEqual(
            Review.objects.get().answers,
            {
                "problem": f"Same.\n\n---\n\n**{services.MERGE_MARKER}** (draft, "
                f"{draft.updated_at:%Y-%m-%d}, written for paper #{self.preprint.pk} “LoRA: "
                "Low-Rank Adaptation of Large Language Models”; ratings: overall 2):"
            },
        )

    def test_duplicate_flags_follow_the_surviving_paper(self):
        third = make_paper("Unrelated")
        dismissed = make_paper("Dismissed")
        PossibleDuplicate.objects.create(paper_a=self.preprint, paper_b=self.published)
        PossibleDuplicate.objects.create(paper_a=self.preprint, paper_b=third)
        PossibleDuplicate.objects.create(
            paper_a=self.preprint, paper_b=dismissed, status="not_duplicate"
        )
        self.merge()
        self.assertEqual(
            sorted(PossibleDuplicate.objects.values_list("paper_a", "paper_b", "status")),
            sorted(
                [
                    (self.published.pk, third.pk, "open"),
                    (self.published.pk, dismissed.pk, "not_duplicate"),
                ]
            ),
        )

    def test_bad_merges_are_refused(self):
        with self.assertRaisesMessage(services.MergeError, "a paper cannot be merged with itself"):
            services.merge_papers(keep=self.preprint, other=self.preprint, fields={}, by=self.admin)
        with self.assertRaisesMessage(
            services.MergeError, "unknown merge choices: ['colour', 'mine']"
        ):
            services.merge_papers(
                keep=self.preprint, other=self.published, fields={"colour": "mine"}, by=self.admin
            )
        self.assertEqual(Paper.objects.count(), 2)


class MergePageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.admin = make_user("admin@example.org", is_staff=True, is_superuser=True)
        cls.a = make_paper("Same Paper", authors=["Ada Lovelace"], year=2020, doi="10.1000/a")
        cls.b = make_paper("Same paper!", authors=["Ada Lovelace"], year=2021)
        cls.pair = PossibleDuplicate.objects.create(paper_a=cls.a, paper_b=cls.b)

    def setUp(self):
        self.client.force_login(self.admin)

    def test_the_form_offers_only_the_fields_that_differ(self):
        response = self.client.get(reverse("papers:merge", args=[self.a.pk, self.b.pk]))
        form = response.context["form"]
        self.assertEqual(list(form.fields), ["keep", "field_title", "field_year", "field_doi"])
        self.assertEqual(
            form.fields["field_doi"].choices,
            [("a", f"#{self.a.pk}: 10.1000/a"), ("b", f"#{self.b.pk}: (empty)")],
        )
        self.assertContains(response, "<legend>DOI</legend>", html=True)

    def test_posting_the_form_merges_and_redirects_to_the_survivor(self):
        response = self.client.post(
            reverse("papers:merge", args=[self.a.pk, self.b.pk]),
            {"keep": "b", "field_title": "b", "field_year": "a", "field_doi": "a"},
        )
        self.assertRedirects(response, self.b.get_absolute_url())
        survivor = Paper.objects.get()
        self.assertEqual(
            (survivor.pk, survivor.title, survivor.year, survivor.doi),
            (self.b.pk, "Same paper!", 2020, "10.1000/a"),
        )
        self.assertEqual(PossibleDuplicate.objects.count(), 0)

    def test_not_a_duplicate_is_recorded_from_the_page(self):
        response = self.client.post(reverse("papers:dismiss", args=[self.a.pk, self.b.pk]))
        self.assertRedirects(response, reverse("admin:papers_possibleduplicate_changelist"))
        self.pair.refresh_from_db()
        self.assertEqual((self.pair.status, self.pair.decided_by), ("not_duplicate", self.admin))

    def test_a_paper_is_not_merged_with_itself(self):
        url = reverse("papers:merge", args=[self.a.pk, self.a.pk])
        self.assertEqual(self.client.get(url).status_code, 404)
        self.assertEqual(self.client.post(url, {}).status_code, 404)
        self.assertTrue(Paper.objects.filter(pk=self.a.pk).exists())

    def test_admin_lists_possible_duplicates_and_dismisses_them(self):
        url = reverse("admin:papers_possibleduplicate_changelist")
        response = self.client.get(url)
        self.assertContains(
            response,
            f'<a href="{reverse("papers:merge", args=[self.a.pk, self.b.pk])}">Compare and merge</a>',
            html=True,
        )
        self.client.post(url, {"action": "mark_not_duplicate", "_selected_action": [self.pair.pk]})
        self.pair.refresh_from_db()
        self.assertEqual(self.pair.status, "not_duplicate")

    def test_admin_merge_action_needs_exactly_two_papers(self):
        url = reverse("admin:papers_paper_changelist")
        response = self.client.post(
            url, {"action": "merge_two", "_selected_action": [self.a.pk, self.b.pk]}
        )
        self.assertRedirects(response, reverse("papers:merge", args=[self.a.pk, self.b.pk]))
        response = self.client.post(
            url, {"action": "merge_two", "_selected_action": [self.a.pk]}, follow=True
        )
        self.assertEqual(
            [str(m) for m in response.context["messages"]], ["Select exactly two papers to merge."]
        )

    def test_admin_flags_possible_duplicates_of_selected_papers(self):
        self.pair.delete()
        self.client.post(
            reverse("admin:papers_paper_changelist"),
            {"action": "flag_duplicates", "_selected_action": [self.a.pk]},
        )
        self.assertEqual(
            list(PossibleDuplicate.objects.values_list("paper_a", "paper_b", "status")),
            [(self.a.pk, self.b.pk, "open")],
        )
