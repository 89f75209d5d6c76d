import datetime

import time_machine
from django.test import TestCase
from django.urls import reverse

from courses.checklist import MAX_ANSWER_CHARS, QUESTION_KEYS
from courses.models import Course, Review
from tests.factories import enrol, make_course, make_lecture, make_paper, make_reading, make_user

DEADLINE = datetime.datetime(2022, 2, 16, 20, 5, tzinfo=datetime.UTC)  # 15:05 in Pittsburgh
BEFORE = DEADLINE - datetime.timedelta(hours=5)
AFTER = DEADLINE + datetime.timedelta(days=1, hours=2)


def full_answers(**overrides):
    data = {key: f"Answer about {key}." for key in QUESTION_KEYS}
    data.update(evaluation_rating="4", impact_rating="5", overall_rating="4", confidence="3")
    data.update(overrides)
    return data


class ReviewTestCase(TestCase):
    allow_late = True

    @classmethod
    def setUpTestData(cls):
        cls.course = make_course(
            "15-849", slug="ml-sys", allow_late_reviews=cls.allow_late, timezone="America/New_York"
        )
        cls.lecture = make_lecture(
            cls.course, 4, date=datetime.date(2022, 2, 16), start_time=datetime.time(15, 5)
        )
        cls.paper = make_paper("FlashAttention")
        make_reading(cls.lecture, cls.paper)
        cls.student = make_user(first_name="Sam")
        cls.classmate = make_user(first_name="Cleo")
        for user in (cls.student, cls.classmate):
            enrol(user, cls.course)

    def setUp(self):
        self.client.force_login(self.student)
        self.url = reverse("courses:review", args=[self.paper.pk])

    def post(self, version, submit=False, **data):
        payload = {"version": str(version), **data}
        payload["submit" if submit else "draft"] = "1"
        return self.client.post(self.url, payload, follow=True)

    def review(self):
        return Review.objects.get(author=self.student, paper=self.paper)


@time_machine.travel(BEFORE, tick=False)
class ReviewBeforeDeadlineTests(ReviewTestCase):
    def test_form_asks_every_checklist_question_with_hint_and_ratings(self):
        response = self.client.get(self.url)
        form = response.context["form"]
        self.assertEqual([f.name for f in form.question_fields()], list(QUESTION_KEYS))
        self.assertContains(response, "What problem is the paper trying to solve?")
        self.assertContains(response, "Baselines, hardware and scale")
        self.assertContains(response, "How convincing are the experiments?")
        self.assertContains(response, "Confidence in your reading")
        self.assertEqual(response.context["deadline"], DEADLINE)

    def test_save_draft_then_submit(self):
        self.post(0, problem="Attention is **slow**.")
        review = self.review()
        self.assertEqual((review.status, review.version), ("draft", 1))
        self.assertEqual(review.answers["problem"], "Attention is **slow**.")
        response = self.post(1, submit=True, **full_answers())
        self.assertContains(response, "Your review is submitted.")
        review = self.review()
        self.assertEqual(
            (review.status, review.submitted_at, review.version), ("submitted", BEFORE, 2)
        )
        self.assertEqual(review.overall_rating, 4)

    def test_submitting_an_incomplete_review_keeps_a_draft_and_says_what_is_missing(self):
        response = self.post(0, submit=True, **full_answers(limitations="", confidence=""))
        self.assertContains(
            response, "2 questions still unanswered; your answers are saved as a draft."
        )
        self.assertEqual(
            response.context["missing_labels"],
            ["What are its current limitations?", "Confidence in your reading"],
        )
        self.assertEqual(self.review().status, "draft")
        self.assertEqual(response.context["complete_count"], 12)

    def test_submitted_review_can_be_edited_before_the_deadline(self):
        self.post(0, submit=True, **full_answers())
        self.post(1, submit=True, **full_answers(novelty="A better answer."))
        review = self.review()
        self.assertEqual(
            (review.answers["novelty"], review.status), ("A better answer.", "submitted")
        )
        self.assertEqual(review.submitted_at, BEFORE)

    def test_stale_form_is_detected_and_nothing_is_lost_silently(self):
        self.post(0, problem="From tab one.")
        response = self.client.post(
            self.url, {"version": "0", "problem": "From tab two.", "draft": "1"}
        )
        self.assertEqual(response.status_code, 409)
        self.assertContains(response, "changed in another tab or window", status_code=409)
        self.assertContains(
            response, "From tab two.", status_code=409
        )  # the text is still in the form
        self.assertEqual(self.review().answers["problem"], "From tab one.")
        # The saved text is shown, and saving the form again replaces it on purpose.
        self.assertContains(response, "From tab one.", status_code=409)
        self.assertContains(response, 'name="version" value="1"', status_code=409)
        again = self.client.post(
            self.url, {"version": "1", "problem": "From tab two.", "draft": "1"}
        )
        self.assertRedirects(again, self.url)
        self.assertEqual(self.review().answers["problem"], "From tab two.")

    def test_double_submit_creates_one_review(self):
        self.post(0, submit=True, **full_answers())
        response = self.post(0, submit=True, **full_answers())
        self.assertEqual(response.status_code, 409)
        self.assertEqual(Review.objects.filter(author=self.student).count(), 1)

    def test_over_long_answer_is_refused_with_a_message(self):
        response = self.client.post(
            self.url, {"version": "0", "problem": "x" * (MAX_ANSWER_CHARS + 1), "draft": "1"}
        )
        self.assertEqual(
            response.context["form"].errors["problem"],
            ["This answer is 20001 characters long; the limit is 20,000. Please shorten it."],
        )
        self.assertFalse(Review.objects.exists())

    def test_markdown_is_rendered_safely(self):
        self.post(
            0,
            problem='**bold** $a_i * b_j$ <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror="alert(1)">',
        )
        html = self.client.get(self.url).content.decode()
        preview = html[html.index('id="preview-heading"') :]
        self.assertIn("<strong>bold</strong>", preview)
        self.assertIn('<span class="math">$a_i * b_j$</span>', preview)
        self.assertNotIn("<script>alert", preview)
        self.assertNotIn("javascript:", preview)
        self.assertNotIn("onerror", preview)

    def test_markdown_cannot_borrow_the_sites_classes(self):
        self.post(0, problem='<span class="message message--error visually-hidden">x</span> $y$')
        html = self.client.get(self.url).content.decode()
        preview = html[html.index('id="preview-heading"') :]
        self.assertIn(">x</span>", preview)
        self.assertNotIn("message--error", preview)
        self.assertNotIn("visually-hidden", preview)
        self.assertIn('<span class="math">$y$</span>', preview)

    def test_a_classmate_never_sees_a_draft(self):
        self.post(0, problem="My secret draft thoughts.")
        self.client.force_login(self.classmate)
        own_page = self.client.get(self.url)
        self.assertNotContains(own_page, "My secret draft thoughts.")
        peers = self.client.get(reverse("courses:peer_reviews", args=["ml-sys", self.paper.pk]))
        self.assertNotContains(peers, "My secret draft thoughts.")
        download = self.client.get(reverse("courses:review_download", args=[self.paper.pk]))
        self.assertEqual(download.status_code, 404)


@time_machine.travel(AFTER, tick=False)
class LateReviewAllowedTests(ReviewTestCase):
    allow_late = True

    def test_late_submission_is_accepted_and_marked_late(self):
        response = self.post(0, submit=True, **full_answers())
        self.assertContains(response, "late by 1\xa0day, 2\xa0hours")
        self.assertEqual(self.review().status, "submitted")
        listing = self.client.get(reverse("courses:my_reviews"))
        self.assertContains(listing, "late by 1\xa0day, 2\xa0hours")


@time_machine.travel(AFTER, tick=False)
class LateReviewRefusedTests(ReviewTestCase):
    allow_late = False

    def test_form_says_so_and_keeps_the_draft(self):
        response = self.client.get(self.url)
        self.assertContains(response, "this course does not accept late reviews")
        self.assertNotContains(response, 'name="submit"')
        response = self.post(0, submit=True, **full_answers())
        self.assertContains(
            response, "does not accept late reviews. Your answers are saved as a draft."
        )
        review = self.review()
        self.assertEqual((review.status, review.submitted_at), ("draft", None))
        self.assertEqual(review.answers["problem"], "Answer about problem.")

    def test_submitted_review_is_frozen_after_the_deadline(self):
        Review.objects.create(
            author=self.student,
            paper=self.paper,
            answers={"problem": "On time."},
            status="submitted",
            submitted_at=BEFORE,
        )
        response = self.client.post(self.url, {**full_answers(), "version": "1", "submit": "1"})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.review().answers, {"problem": "On time."})


class PeerReviewPolicyTests(ReviewTestCase):
    def setUp(self):
        super().setUp()
        Review.objects.create(
            author=self.classmate,
            paper=self.paper,
            answers={"problem": "Cleo's submitted answer."},
            status="submitted",
            submitted_at=BEFORE,
        )
        # What must never show: a third member's draft, and a submitted review of the
        # same paper by someone outside the course.
        drafter = make_user(first_name="Dora")
        enrol(drafter, self.course)
        Review.objects.create(
            author=drafter, paper=self.paper, answers={"problem": "Dora's draft."}
        )
        Review.objects.create(
            author=make_user(first_name="Otto"),
            paper=self.paper,
            answers={"problem": "An outsider's review."},
            status="submitted",
            submitted_at=BEFORE,
        )
        self.peers = reverse("courses:peer_reviews", args=["ml-sys", self.paper.pk])

    def set_policy(self, policy):
        Course.objects.filter(pk=self.course.pk).update(review_visibility=policy)

    def shown(self, response):
        """The authors of the reviews the page shows, and that no hidden text is on it."""
        self.assertNotContains(response, "Dora's draft.")
        self.assertNotContains(response, "An outsider's review.")
        return [review.author for review in response.context["reviews"]]

    def test_never(self):
        self.set_policy("never")
        with time_machine.travel(AFTER, tick=False):
            response = self.client.get(self.peers)
        self.assertNotContains(response, "Cleo's submitted answer.")
        self.assertContains(response, "seen by the teaching staff only")

    def test_after_own_submission(self):
        self.set_policy("after_own")
        with time_machine.travel(BEFORE, tick=False):
            self.assertEqual(self.shown(self.client.get(self.peers)), [])
            self.post(0, submit=True, **full_answers())
            response = self.client.get(self.peers)
        self.assertContains(response, "Cleo's submitted answer.")
        self.assertEqual(self.shown(response), [self.classmate])

    def test_after_deadline(self):
        self.set_policy("after_deadline")
        with time_machine.travel(BEFORE, tick=False):
            self.assertEqual(self.shown(self.client.get(self.peers)), [])
        with time_machine.travel(AFTER, tick=False):
            response = self.client.get(self.peers)
        self.assertContains(response, "Cleo's submitted answer.")
        self.assertEqual(self.shown(response), [self.classmate])

    def test_the_review_page_links_to_the_classmates_reviews(self):
        with time_machine.travel(BEFORE, tick=False):
            response = self.client.get(self.url)
        self.assertContains(response, f'href="{self.peers}"')

    def test_a_paper_read_twice_is_shown_after_its_later_deadline(self):
        self.set_policy("after_deadline")
        later = make_lecture(
            self.course, 9, date=datetime.date(2022, 3, 16), start_time=datetime.time(15, 5)
        )
        make_reading(later, self.paper)
        with time_machine.travel(AFTER, tick=False):  # past the first, before the second
            response = self.client.get(self.peers)
        self.assertContains(response, "become visible after the review deadline")
        self.assertEqual(self.shown(response), [])
        with time_machine.travel(datetime.datetime(2022, 3, 17, tzinfo=datetime.UTC)):
            response = self.client.get(self.peers)
        self.assertEqual(self.shown(response), [self.classmate])

    def test_reviews_by_the_teaching_staff_are_not_shown_as_classmates(self):
        self.set_policy("after_deadline")
        teacher = make_user(first_name="Tess")
        enrol(teacher, self.course, role="instructor")
        Review.objects.create(
            author=teacher,
            paper=self.paper,
            answers={"problem": "A model answer."},
            status="submitted",
            submitted_at=BEFORE,
        )
        with time_machine.travel(AFTER, tick=False):
            response = self.client.get(self.peers)
        self.assertEqual(self.shown(response), [self.classmate])

    def test_strangers_get_404(self):
        self.set_policy("after_deadline")
        with time_machine.travel(AFTER, tick=False):
            self.client.force_login(make_user())
            response = self.client.get(self.peers)
            self.assertEqual(response.status_code, 404)
            self.assertNotContains(response, "Cleo's submitted answer.", status_code=404)
            self.client.logout()
            response = self.client.get(self.peers)
            self.assertRedirects(response, f"{reverse('login')}?next={self.peers}")


@time_machine.travel(BEFORE, tick=False)
class MyReviewsTests(ReviewTestCase):
    def test_list_and_markdown_downloads(self):
        self.post(0, submit=True, **full_answers())
        other = make_paper("Megatron-LM")
        Review.objects.create(
            author=self.student, paper=other, answers={"problem": "Draft on Megatron."}
        )
        Review.objects.create(
            author=self.classmate, paper=other, answers={"problem": "Cleo's draft."}
        )

        rows = self.client.get(reverse("courses:my_reviews")).context["rows"]
        self.assertEqual(
            [(r.paper.title, r.status) for r, _ in rows],
            [("Megatron-LM", "draft"), ("FlashAttention", "submitted")],
        )

        one = self.client.get(reverse("courses:review_download", args=[self.paper.pk]))
        self.assertEqual(one["Content-Type"], "text/markdown; charset=utf-8")
        text = one.content.decode()
        self.assertTrue(text.startswith("# Review: FlashAttention\n"))
        self.assertIn(
            "## What problem is the paper trying to solve?\n\nAnswer about problem.\n", text
        )
        self.assertIn("- Overall: 4 / 5\n", text)

        everything = self.client.get(reverse("courses:reviews_download")).content.decode()
        self.assertEqual(everything.count("# Review: "), 2)
        self.assertIn("Draft on Megatron.", everything)
        self.assertNotIn("Cleo's draft.", everything)


@time_machine.travel(BEFORE, tick=False)
class MyReviewsQueryCountTests(ReviewTestCase):
    def test_constant_queries_at_1_and_3_reviews(self):
        Review.objects.create(author=self.student, paper=self.paper)
        # user, reviews (+paper), assigning lectures (+course)
        with self.assertNumQueries(3):
            response = self.client.get(reverse("courses:my_reviews"))
        self.assertEqual(len(response.context["rows"]), 1)
        for title in ("Megatron-LM", "ZeRO"):
            paper = make_paper(title)
            make_reading(make_lecture(self.course), paper)
            Review.objects.create(author=self.student, paper=paper)
        with self.assertNumQueries(3):
            response = self.client.get(reverse("courses:my_reviews"))
        self.assertEqual(len(response.context["rows"]), 3)
        self.assertEqual({lecture.course for _, lecture in response.context["rows"]}, {self.course})
