"""A student's week, in a real browser: sign up, join, read, review, see progress."""

import datetime
import re

from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from courses.checklist import QUESTIONS
from courses.models import ReadingProgress, Review
from tests.e2e.base import BrowserTestCase
from tests.factories import enrol, make_course, make_lecture, make_paper, make_reading, make_user


class StudentJourneyTests(BrowserTestCase):
    def setUp(self):
        super().setUp()
        today = timezone.localdate()
        self.course = make_course(
            "15-849", slug="15-849-demo", join_code="k7m2qp9xwe", instructor_names="Zhihao Jia"
        )
        self.lecture = make_lecture(
            self.course,
            1,
            date=today + datetime.timedelta(days=3),
            start_time=datetime.time(15, 5),
            title="ML compilers",
        )
        self.tvm = make_reading(
            self.lecture, make_paper("TVM: An Automated End-to-End Optimizing Compiler")
        ).paper
        self.ansor = make_reading(
            self.lecture, make_paper("Ansor: Generating High-Performance Tensor Programs"), order=1
        ).paper

    def sign_up(self, email, name):
        page = self.page
        page.goto(self.live_server_url + "/")
        page.get_by_role("link", name="Sign up").click()
        page.get_by_label("E-mail address").fill(email)
        page.get_by_label("First name").fill(name)
        page.locator("#id_password1").fill("a-Strong-pass-2026")
        page.locator("#id_password2").fill("a-Strong-pass-2026")
        page.get_by_role("button", name="Sign up").click()
        expect(page.get_by_text(f"Welcome, {name}.")).to_be_visible()

    def join_with_code(self):
        page = self.page
        page.get_by_label("Join code").fill("k7m2qp9xwe")
        page.get_by_role("button", name="Join").click()
        expect(page.get_by_text("You joined 15-849 Machine Learning Systems")).to_be_visible()

    def reading_bar(self):
        return self.page.locator(f"#read-{self.course.pk}")

    def test_student_reads_reviews_and_sees_progress(self):
        page = self.page
        self.sign_up("ada@example.org", "Ada")
        # A new student lands on the dashboard, which offers to join a course.
        expect(page.get_by_role("heading", name="Your dashboard")).to_be_visible()
        self.join_with_code()
        expect(page.get_by_role("heading", name=re.compile("15-849"))).to_be_visible()

        # Mark both readings read on the schedule, in place: the page is not reloaded.
        page.evaluate("window.__noReload = true")
        for paper in (self.tvm, self.ansor):
            control = page.locator(f"#status-{paper.pk}")
            control.get_by_role("button", name="Read", exact=True).click()
            expect(
                page.locator(f"#status-{paper.pk}").get_by_role("button", name="Read", exact=True)
            ).to_have_attribute("aria-pressed", "true")
        self.assertTrue(page.evaluate("window.__noReload === true"))
        student = User.objects.get(email="ada@example.org")
        self.assertEqual(
            sorted(
                ReadingProgress.objects.filter(user=student).values_list("paper__title", "status")
            ),
            [
                ("Ansor: Generating High-Performance Tensor Programs", "read"),
                ("TVM: An Automated End-to-End Optimizing Compiler", "read"),
            ],
        )
        self.screenshot("student-schedule-read")

        # The dashboard's reading bar shows both.
        page.get_by_role("link", name="Dashboard", exact=True).click()
        expect(page.get_by_text("Required readings read: 2 / 2")).to_be_visible()
        expect(self.reading_bar()).to_have_attribute("value", "2")

        # Write a draft review of TVM, then submit it before the deadline.
        page.locator(f"#status-{self.tvm.pk}").locator("xpath=..").get_by_role(
            "link", name="Write a review"
        ).click()
        page.get_by_label(re.compile("What problem is the paper trying to solve")).fill(
            "Hand-tuned kernels do not port across **hardware**."
        )
        expect(page.locator(".js-complete-count")).to_have_text("1")  # updated as you type
        page.get_by_role("button", name="Save draft").click()
        expect(page.get_by_text("Draft saved.")).to_be_visible()
        self.assertEqual(Review.objects.get(author=student).status, "draft")

        for question in QUESTIONS:
            field = page.get_by_label(re.compile(re.escape(question.text)))
            if not field.input_value():
                field.fill(f"My answer to: {question.text}")
        for group in page.locator("fieldset.rating-group").all():
            group.get_by_label("4").check()
        expect(page.locator(".js-complete-count")).to_have_text("14")
        page.get_by_role("button", name="Submit review").click()
        expect(page.get_by_text("Your review is submitted.")).to_be_visible()
        review = Review.objects.get(author=student)
        self.assertEqual((review.status, review.overall_rating), ("submitted", 4))
        self.screenshot("student-review-submitted")

        page.get_by_role("navigation", name="Main").get_by_role("link", name="My reviews").click()
        expect(page.get_by_text("on time")).to_be_visible()
        self.assert_same_origin_only()
        self.assertEqual(self.console_errors, [])

    def test_a_second_student_cannot_see_the_first_ones_draft(self):
        first = make_user("first@example.org", first_name="First")
        enrol(first, self.course)
        Review.objects.create(author=first, paper=self.tvm, answers={"problem": "FIRST-DRAFT-TEXT"})

        self.sign_up("second@example.org", "Second")
        self.join_with_code()
        page = self.page
        page.goto(f"{self.live_server_url}/reviews/{self.tvm.pk}/")
        expect(page.get_by_role("heading", name="Your review")).to_be_visible()
        page.goto(f"{self.live_server_url}/courses/15-849-demo/papers/{self.tvm.pk}/reviews/")
        expect(page.get_by_role("heading", name="Classmates' reviews")).to_be_visible()
        for url in (
            f"/reviews/{self.tvm.pk}/",
            f"/courses/15-849-demo/papers/{self.tvm.pk}/reviews/",
            "/reviews/",
        ):
            page.goto(self.live_server_url + url)
            self.assertNotIn("FIRST-DRAFT-TEXT", page.content())
