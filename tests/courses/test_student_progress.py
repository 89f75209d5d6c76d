import datetime

import time_machine
from django.test import TestCase
from django.urls import reverse

from courses.models import Course, ReadingProgress, Review
from tests.factories import enrol, make_course, make_lecture, make_paper, make_reading, make_user

# Wednesday 2022-02-16, 12:00 in Pittsburgh.
NOW = datetime.datetime(2022, 2, 16, 17, 0, tzinfo=datetime.UTC)
D = datetime.date


def submitted(user, paper, when):
    return Review.objects.create(
        author=user, paper=paper, status=Review.Status.SUBMITTED, submitted_at=when
    )


@time_machine.travel(NOW, tick=False)
class DashboardTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.course = make_course("15-849", slug="ml-sys", review_hours_before=0)
        start = datetime.time(15, 5)
        cls.l1 = make_lecture(cls.course, 1, date=D(2022, 2, 9), start_time=start, title="Autodiff")
        cls.l2 = make_lecture(cls.course, 2, date=D(2022, 2, 14), start_time=start, title="Graphs")
        cls.l3 = make_lecture(cls.course, 3, date=D(2022, 2, 21), start_time=start, title="Kernels")
        cls.p1 = make_reading(cls.l1, make_paper("Autodiff survey")).paper
        cls.p2 = make_reading(cls.l2, make_paper("TensorFlow")).paper
        cls.p2b = make_reading(cls.l2, make_paper("MXNet"), required=False).paper
        cls.p3 = make_reading(cls.l3, make_paper("TVM")).paper
        cls.p3b = make_reading(cls.l3, make_paper("Ansor"), required=False, order=1).paper
        cls.student = make_user()
        enrol(cls.student, cls.course)
        ReadingProgress.objects.create(user=cls.student, paper=cls.p1, status="read")
        ReadingProgress.objects.create(user=cls.student, paper=cls.p3, status="reading")
        submitted(cls.student, cls.p1, NOW - datetime.timedelta(days=8))

    def get(self):
        self.client.force_login(self.student)
        return self.client.get(reverse("courses:dashboard"))

    def test_progress_counts(self):
        [progress] = self.get().context["overview"]
        self.assertEqual((progress.required_read, len(progress.required)), (1, 3))
        self.assertEqual((progress.reviews_submitted, len(progress.reviews_due)), (1, 2))
        self.assertEqual([s.paper for s in progress.overdue], [self.p2])
        self.assertEqual(progress.next_lecture.lecture, self.l3)

    def test_bars_and_overdue_are_drawn(self):
        html = self.get().content.decode()
        self.assertIn("Required readings read: <strong>1 / 3</strong>", html)
        self.assertIn(
            f'<progress id="read-{self.course.pk}" value="1" max="3">33%</progress>', html
        )
        self.assertIn("Reviews submitted / due so far: <strong>1 / 2</strong>", html)
        self.assertIn(
            f'<progress id="reviews-{self.course.pk}" value="1" max="2">50%</progress>', html
        )
        self.assertInHTML(f'<h3 id="overdue-{self.course.pk}">Overdue reviews (1)</h3>', html)
        self.assertIn("Next lecture: 3. Kernels", html)

    def test_term_strip_has_a_cell_per_lecture_and_status(self):
        html = self.get().content.decode()
        # lecture 1: read and reviewed; 2: not read, review overdue; 3: upcoming
        self.assertEqual(html.count('class="cell cell--done"'), 2)
        self.assertEqual(html.count('class="cell cell--overdue"'), 1)
        self.assertEqual(html.count('class="cell cell--todo"'), 3)

    def test_up_next_lists_upcoming_readings_required_first(self):
        up_next = self.get().context["up_next"]
        self.assertEqual([s.paper for s in up_next], [self.p3, self.p3b])
        self.assertEqual(up_next[0].status, "reading")

    def test_dashboard_without_courses_offers_to_join(self):
        self.client.force_login(make_user())
        response = self.client.get(reverse("courses:dashboard"))
        self.assertContains(response, "You are not in any course yet.")
        self.assertContains(response, f'action="{reverse("courses:join")}"')

    def test_lectures_come_in_the_schedules_order(self):
        # Two lectures on one day: by start time, as on the schedule, not by number.
        morning = make_lecture(
            self.course, 9, date=D(2022, 2, 23), start_time=datetime.time(9, 0), title="Morning"
        )
        evening = make_lecture(
            self.course, 8, date=D(2022, 2, 23), start_time=datetime.time(18, 0), title="Evening"
        )
        undated = make_lecture(self.course, 7, title="To be scheduled")
        [progress] = self.get().context["overview"]
        self.assertEqual(
            [state.lecture for state in progress.lectures],
            [self.l1, self.l2, self.l3, morning, evening, undated],
        )

    def test_deadlines_are_shown_in_the_course_time_zone(self):
        Course.objects.filter(pk=self.course.pk).update(timezone="America/Los_Angeles")
        response = self.get()
        # Lecture 3 starts Monday 15:05 in Berkeley: its reviews are due then.
        self.assertContains(response, "review due <time")
        self.assertContains(response, "Mon, Feb 21, 15:05 PST</time>")
        reviews = self.client.get(reverse("courses:my_reviews"))
        self.assertContains(reviews, "Feb 9, 15:05 PST</time>")

    def test_a_course_one_teaches_asks_nothing_of_them(self):
        teacher = make_user()
        enrol(teacher, self.course, role="ta")
        self.client.force_login(teacher)
        response = self.client.get(reverse("courses:dashboard"))
        self.assertEqual((response.context["overview"], response.context["up_next"]), ([], []))
        self.assertNotContains(response, "Overdue reviews")
        self.assertContains(
            response, f'You teach <a href="{reverse("courses:manage", args=["ml-sys"])}">15-849'
        )
        self.assertContains(response, "You are not a student in any course yet.")

    def test_dashboard_shows_nothing_of_other_students(self):
        other = make_user()
        enrol(other, self.course)
        ReadingProgress.objects.create(user=other, paper=self.p2, status="read")
        submitted(other, self.p2, NOW - datetime.timedelta(days=3))
        self.client.force_login(other)
        [progress] = self.client.get(reverse("courses:dashboard")).context["overview"]
        self.assertEqual(progress.required_read, 1)
        self.assertEqual([s.paper for s in progress.overdue], [self.p1])

    def test_anonymous_is_sent_to_log_in(self):
        response = self.client.get(reverse("courses:dashboard"))
        self.assertRedirects(response, f"{reverse('login')}?next={reverse('courses:dashboard')}")


@time_machine.travel(NOW, tick=False)
class DashboardQueryCountTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.one, cls.three = make_user(), make_user()
        for user, count in ((cls.one, 1), (cls.three, 3)):
            course = make_course(slug=f"course-{count}")
            enrol(user, course)
            for number in range(1, count + 1):
                lecture = make_lecture(course, number, date=D(2022, 2, 14 + 2 * number))
                paper = make_reading(lecture).paper
                make_reading(lecture, required=False, order=1)
                ReadingProgress.objects.create(user=user, paper=paper, status="read")
                Review.objects.create(author=user, paper=paper)

    def test_constant_queries_at_1_and_3_lectures(self):
        # user, memberships (+course), lectures, readings (+paper),
        # authorships (+author), progress, reviews (the session is a signed cookie)
        for user in (self.one, self.three):
            self.client.force_login(user)
            with self.assertNumQueries(7):
                response = self.client.get(reverse("courses:dashboard"))
            self.assertEqual(
                len(response.context["overview"][0].lectures), 1 if user == self.one else 3
            )


class ReadingStatusTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.paper = make_paper("FlashAttention")
        cls.a = make_course("A-1", slug="a")
        cls.b = make_course("B-2", slug="b")
        make_reading(make_lecture(cls.a, 1), cls.paper)
        make_reading(make_lecture(cls.b, 1), cls.paper)
        cls.student = make_user()
        enrol(cls.student, cls.a)
        enrol(cls.student, cls.b)

    def setUp(self):
        self.client.force_login(self.student)
        self.url = reverse("courses:set_status", args=[self.paper.pk])

    def status(self):
        return ReadingProgress.objects.get(user=self.student, paper=self.paper).status

    def test_htmx_request_gets_the_updated_control_only(self):
        response = self.client.post(
            self.url, {"status": "read", "next": "/courses/a/"}, headers={"HX-Request": "true"}
        )
        self.assertEqual(self.status(), "read")
        html = response.content.decode()
        self.assertTrue(html.strip().startswith('<form method="post"'))
        self.assertNotIn("<html", html)
        self.assertIn('value="read" aria-pressed="true"', html)
        self.assertIn('value="to_read" aria-pressed="false"', html)

    def test_plain_post_works_without_javascript(self):
        response = self.client.post(self.url, {"status": "reading", "next": "/courses/a/"})
        self.assertRedirects(response, "/courses/a/")
        self.assertEqual(self.status(), "reading")
        progress = ReadingProgress.objects.get(user=self.student, paper=self.paper)
        self.assertEqual(progress.started_at is not None, True)
        self.assertIsNone(progress.finished_at)

    def test_status_is_shared_by_both_courses_and_shows_on_next_request(self):
        for slug in ("a", "b"):
            self.assertIn(
                'value="to_read" aria-pressed="true"',
                self.client.get(f"/courses/{slug}/").content.decode(),
            )
        self.client.post(self.url, {"status": "read"})
        for slug in ("a", "b"):
            html = self.client.get(f"/courses/{slug}/").content.decode()
            self.assertIn('value="read" aria-pressed="true"', html)

    def test_offsite_next_is_ignored(self):
        response = self.client.post(self.url, {"status": "read", "next": "https://evil.example/"})
        self.assertRedirects(response, self.paper.get_absolute_url(), fetch_redirect_response=False)

    def test_bad_status_and_unknown_paper(self):
        self.assertEqual(self.client.post(self.url, {"status": "skimmed"}).status_code, 400)
        self.assertEqual(
            self.client.post(
                reverse("courses:set_status", args=[99999]), {"status": "read"}
            ).status_code,
            404,
        )
        self.assertFalse(ReadingProgress.objects.exists())

    def test_get_is_not_allowed_and_anonymous_is_redirected(self):
        self.assertEqual(self.client.get(self.url).status_code, 405)
        self.client.logout()
        response = self.client.post(self.url, {"status": "read"})
        self.assertRedirects(
            response, f"{reverse('login')}?next={self.url}", fetch_redirect_response=False
        )
        self.assertFalse(ReadingProgress.objects.exists())


class PaperPageReaderTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.paper = make_paper("ZeRO: Memory Optimizations")
        cls.student = make_user()
        cls.other = make_user()

    def test_paper_page_has_status_control_and_note_for_the_logged_in_reader(self):
        self.client.force_login(self.student)
        html = self.client.get(self.paper.get_absolute_url()).content.decode()
        self.assertIn(f'id="status-{self.paper.pk}"', html)
        self.assertIn('value="to_read" aria-pressed="true"', html)
        self.assertIn(f'action="{reverse("courses:save_note", args=[self.paper.pk])}"', html)
        # The note's field is NoteForm's: its label, help and length limit.
        self.assertInHTML('<label for="private-note">Private note</label>', html)
        self.assertIn('maxlength="20000"', html)
        self.assertIn("Only you can see this note.", html)

    def test_private_note_is_saved_and_seen_by_its_author_only(self):
        self.client.force_login(self.student)
        response = self.client.post(
            reverse("courses:save_note", args=[self.paper.pk]),
            {
                "note": "Stage 3 partitions the parameters too.",
                "next": self.paper.get_absolute_url(),
            },
            follow=True,
        )
        self.assertContains(response, "Your private note is saved.")
        self.assertContains(response, "Stage 3 partitions the parameters too.")
        self.assertEqual(
            ReadingProgress.objects.get(user=self.student).note,
            "Stage 3 partitions the parameters too.",
        )
        self.client.force_login(self.other)
        self.assertNotContains(self.client.get(self.paper.get_absolute_url()), "Stage 3 partitions")
        self.client.logout()
        response = self.client.get(self.paper.get_absolute_url())
        self.assertNotContains(response, "Stage 3 partitions")
        self.assertContains(response, "to track your reading")

    def test_a_note_counts_a_line_break_as_one_character_as_the_browser_does(self):
        self.client.force_login(self.student)
        text = "line\r\n" * 4000  # 24,000 characters sent, 20,000 as the browser counts
        response = self.client.post(
            reverse("courses:save_note", args=[self.paper.pk]), {"note": text}, follow=True
        )
        self.assertContains(response, "Your private note is saved.")
        self.assertEqual(
            ReadingProgress.objects.get(user=self.student).note, ("line\n" * 4000).strip()
        )

    def test_over_long_note_is_refused_and_nothing_is_saved(self):
        self.client.force_login(self.student)
        response = self.client.post(
            reverse("courses:save_note", args=[self.paper.pk]), {"note": "x" * 20_001}, follow=True
        )
        self.assertContains(
            response, "Ensure this value has at most 20000 characters (it has 20001)."
        )
        self.assertFalse(ReadingProgress.objects.exists())
