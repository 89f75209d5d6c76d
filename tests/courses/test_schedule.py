import datetime

import time_machine
from django.test import TestCase
from django.urls import reverse

from courses.models import Course, Membership
from papers.models import Author
from tests.factories import enrol, make_course, make_lecture, make_paper, make_reading, make_user

# Noon in Pittsburgh on Wednesday 2022-02-16.
NOW = datetime.datetime(2022, 2, 16, 17, 0, tzinfo=datetime.UTC)


@time_machine.travel(NOW, tick=False)
class ScheduleTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.course = make_course(
            "15-849",
            slug="15-849-spring-2022",
            instructor_names="Zhihao Jia",
            provenance="Real: code and title. Curated sample: the lecture plan.",
        )
        cls.past = make_lecture(cls.course, 1, date=datetime.date(2022, 2, 14), title="Autodiff")
        cls.next = make_lecture(
            cls.course,
            2,
            date=datetime.date(2022, 2, 16),
            title="Compilers",
            slides_url="https://example.org/slides2.pdf",
            video_url="https://example.org/video2",
        )
        cls.later = make_lecture(cls.course, 3, date=datetime.date(2022, 2, 21), title="Serving")
        cls.tvm = make_paper(
            "TVM: An Automated End-to-End Optimizing Compiler for Deep Learning",
            authors=["Tianqi Chen", "Thierry Moreau"],
            year=2018,
            venue="OSDI 18",
            arxiv_id="1802.04799",
        )
        cls.halide = make_paper(
            "Halide", authors=["Jonathan Ragan-Kelley"], year=2013, doi="10.1145/2491956.2462176"
        )
        # Optional created first with a lower order: required ones must still come first.
        make_reading(cls.next, cls.halide, required=False, order=0)
        make_reading(cls.next, cls.tvm, required=True, order=1)

    def get(self, user=None):
        if user:
            self.client.force_login(user)
        return self.client.get(reverse("courses:schedule", args=[self.course.slug]))

    def test_lectures_are_in_date_order_with_state(self):
        response = self.get()
        lectures = response.context["lectures"]
        self.assertEqual(
            [(lecture.number, lecture.state) for lecture in lectures],
            [(1, "past"), (2, "next"), (3, "upcoming")],
        )
        self.assertEqual(response.context["next_lecture"], self.next)

    def test_next_lecture_is_highlighted_and_past_set_apart(self):
        html = self.get().content.decode()
        self.assertInHTML('<span class="badge badge--next">Next lecture</span>', html, count=1)
        self.assertIn('class="lecture lecture--past"', html)
        self.assertIn('id="lecture-2" class="lecture lecture--next" aria-current="date"', html)

    def test_required_readings_come_before_optional_ones(self):
        response = self.get()
        readings = list(response.context["lectures"][1].readings.all())
        self.assertEqual([r.paper for r in readings], [self.tvm, self.halide])
        self.assertEqual([r.required for r in readings], [True, False])

    def test_reading_shows_authors_venue_year_and_links(self):
        html = self.get().content.decode()
        self.assertIn("Tianqi Chen and Thierry Moreau", html)
        self.assertIn('<span class="venue">OSDI 18</span><span class="year">2018</span>', html)
        self.assertIn('href="https://arxiv.org/abs/1802.04799"', html)
        self.assertIn('href="https://arxiv.org/pdf/1802.04799"', html)
        self.assertIn('href="https://doi.org/10.1145/2491956.2462176"', html)
        self.assertIn('href="https://example.org/slides2.pdf"', html)
        self.assertIn('href="https://example.org/video2"', html)

    def test_provenance_is_shown(self):
        self.assertContains(self.get(), "Curated sample: the lecture plan.")

    def test_undated_lectures_follow_dated_ones_by_number(self):
        make_lecture(self.course, 5, title="Undated five")
        make_lecture(self.course, 4, title="Undated four")
        numbers = [lecture.number for lecture in self.get().context["lectures"]]
        self.assertEqual(numbers, [1, 2, 3, 4, 5])

    def test_members_only_course_is_hidden_from_strangers(self):
        private = make_course("10-701", slug="private-course", is_public=False)
        lecture = make_lecture(private, 1, title="Secret lecture")
        make_reading(lecture, make_paper("A Secret Reading"))
        url = reverse("courses:schedule", args=[private.slug])

        self.assertEqual(self.client.get(url).status_code, 404)
        stranger = make_user()
        self.client.force_login(stranger)
        response = self.client.get(url)
        self.assertEqual(response.status_code, 404)
        self.assertNotContains(response, "Secret lecture", status_code=404)

        member = make_user()
        enrol(member, private, Membership.Role.STUDENT)
        self.client.force_login(member)
        self.assertContains(self.client.get(url), "A Secret Reading")

    def test_members_only_course_is_not_listed_on_home_for_strangers(self):
        make_course("10-701", slug="private-course", is_public=False, title="Hidden Course")
        for visitor in (None, make_user()):  # anonymous, then signed in but not a member
            if visitor:
                self.client.force_login(visitor)
            response = self.client.get(reverse("courses:home"))
            self.assertEqual([c.code for c in response.context["courses"]], ["15-849"])
            self.assertNotContains(response, "Hidden Course")


@time_machine.travel(NOW, tick=False)
class ScheduleQueryCountTests(TestCase):
    """The schedule costs the same number of queries for 1 and 3 lectures, whether the
    course-wide part comes from the cache or is rendered afresh."""

    @classmethod
    def setUpTestData(cls):
        cls.one = make_course("A-1", slug="one-lecture")
        cls.three = make_course("A-3", slug="three-lectures")
        cls.student = make_user()
        for course, count in ((cls.one, 1), (cls.three, 3)):
            enrol(cls.student, course)
            for number in range(1, count + 1):
                lecture = make_lecture(course, number, date=datetime.date(2022, 2, number))
                make_reading(lecture, required=True)
                make_reading(lecture, required=False, order=1)

    def assert_queries(self, course, expected, user=None):
        if user:
            self.client.force_login(user)
        url = reverse("courses:schedule", args=[course.slug])
        with self.assertNumQueries(expected):
            response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'class="lecture lecture--', count=course.lectures.count())

    def test_anonymous_visitor(self):
        for course in (self.one, self.three):
            # cold: lookup (course, revision), course, lectures, readings (+paper),
            # authorships (+author)
            self.assert_queries(course, 5)
            # warm: the lookup only
            self.assert_queries(course, 1)

    def test_logged_in_member(self):
        for course in (self.one, self.three):
            # cold: user, lookup (course, role, own statuses and reviews), then
            # course, lectures, readings, authorships (the session is a signed cookie)
            self.assert_queries(course, 6, self.student)
            # warm: user, lookup
            self.assert_queries(course, 2, self.student)

    def test_logged_in_non_member(self):
        stranger = make_user()
        for course in (self.one, self.three):
            self.assert_queries(course, 6, stranger)
            self.assert_queries(course, 2, stranger)


@time_machine.travel(NOW, tick=False)
class ScheduleCacheFreshnessTests(TestCase):
    """Whatever changes the schedule shows on the very next request, even within the
    same instant (the cache follows Course.schedule_revision, not the clock)."""

    @classmethod
    def setUpTestData(cls):
        cls.course = make_course("15-849", slug="fresh")
        cls.lecture = make_lecture(
            cls.course, 1, date=datetime.date(2022, 2, 21), title="Old title"
        )
        cls.paper = make_paper("Old paper title", authors=["Ada Lovelace"])
        cls.reading = make_reading(cls.lecture, cls.paper)
        cls.student = make_user()
        enrol(cls.student, cls.course)

    def html(self):
        return self.client.get(reverse("courses:schedule", args=["fresh"])).content.decode()

    def test_status_change_shows_on_next_request(self):
        self.client.force_login(self.student)
        self.assertIn('value="to_read" aria-pressed="true"', self.html())
        self.client.post(reverse("courses:set_status", args=[self.paper.pk]), {"status": "read"})
        self.assertIn('value="read" aria-pressed="true"', self.html())

    def test_lecture_edit_shows_on_next_request(self):
        self.assertIn("Old title", self.html())
        self.lecture.title = "New title"
        self.lecture.save()
        self.assertIn("New title", self.html())

    def test_paper_edit_shows_on_next_request(self):
        self.assertIn("Old paper title", self.html())
        self.paper.title = "New paper title"
        self.paper.save()
        self.assertIn("New paper title", self.html())

    def test_reading_added_changed_and_removed_show_on_next_request(self):
        self.html()
        extra = make_reading(self.lecture, make_paper("Brand new reading"), required=False, order=1)
        self.assertIn("Brand new reading", self.html())
        extra.note = "Skim section 3 only."
        extra.save()
        self.assertIn("Skim section 3 only.", self.html())
        extra.delete()
        self.assertNotIn("Brand new reading", self.html())

    def test_lecture_deleted_and_course_edited_show_on_next_request(self):
        other = make_lecture(self.course, 2, title="Doomed lecture")
        self.assertIn("Doomed lecture", self.html())
        other.delete()
        self.assertNotIn("Doomed lecture", self.html())
        self.course.title = "Renamed course"
        self.course.save()
        self.assertIn("Renamed course", self.html())

    def test_author_change_shows_on_next_request(self):
        self.assertIn("Ada Lovelace", self.html())
        authorship = self.paper.authorships.get()
        authorship.author = Author.objects.create(name="Grace Hopper", key="grace hopper")
        authorship.save()
        self.assertIn("Grace Hopper", self.html())

    def test_admin_edit_shows_on_next_request(self):
        admin = make_user(is_staff=True, is_superuser=True)
        self.assertIn("Old title", self.html())
        self.client.force_login(admin)
        url = reverse("admin:courses_lecture_change", args=[self.lecture.pk])
        form = self.client.get(url).context["adminform"].form
        data = {k: v for k, v in form.initial.items() if v is not None}
        data.update(
            course=self.course.pk,
            title="Title edited in the admin",
            date="2022-02-21",
            duration_minutes=80,
            **{
                "readings-TOTAL_FORMS": "1",
                "readings-INITIAL_FORMS": "1",
                "readings-0-id": str(self.reading.pk),
                "readings-0-lecture": str(self.lecture.pk),
                "readings-0-paper": str(self.paper.pk),
                "readings-0-required": "on",
                "readings-0-order": "0",
            },
        )
        response = self.client.post(url, data)
        self.assertEqual(
            response.status_code,
            302,
            getattr(response, "context", None) and response.context["adminform"].form.errors,
        )
        self.client.logout()
        self.assertIn("Title edited in the admin", self.html())

    def test_next_lecture_marker_moves_with_the_date(self):
        self.assertIn('id="lecture-1" class="lecture lecture--next"', self.html())
        with time_machine.travel(NOW + datetime.timedelta(days=7), tick=False):
            self.assertIn('id="lecture-1" class="lecture lecture--past"', self.html())


class HomeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.a = make_course("15-849", slug="a", position=1, instructor_names="Zhihao Jia")
        cls.b = make_course("15-884", slug="b", position=2, term="Spring 2021")
        for number in (1, 2, 3):
            make_lecture(cls.a, number)

    def test_home_lists_courses_with_term_instructors_and_lecture_count(self):
        response = self.client.get(reverse("courses:home"))
        courses = list(response.context["courses"])
        self.assertEqual(
            [(c.code, c.lecture_count) for c in courses], [("15-849", 3), ("15-884", 0)]
        )
        html = response.content.decode()
        self.assertInHTML("<dt>Instructors</dt><dd>Zhihao Jia</dd>", html)
        self.assertInHTML("<dt>Lectures</dt><dd>3</dd>", html)
        self.assertIn("Spring 2021", html)


class HomeQueryCountTests(TestCase):
    def test_one_query_for_1_and_3_courses_with_lectures(self):
        for count in (1, 3):
            while Course.objects.count() < count:
                n = Course.objects.count()
                course = make_course(f"15-{n:03}", slug=f"course-{n}")
                for number in range(1, n + 2):
                    make_lecture(course, number)
            with self.assertNumQueries(1):
                response = self.client.get(reverse("courses:home"))
            self.assertEqual(
                [c.lecture_count for c in response.context["courses"]], [1, 2, 3][:count]
            )


@time_machine.travel(NOW, tick=False)
class InstructorEditsShowOnNextRequestTests(TestCase):
    """Edits made through the instructor pages (some of which write with update() or
    bulk_create(), which send no signals) reach the cached schedule at once."""

    @classmethod
    def setUpTestData(cls):
        cls.course = make_course("15-849", slug="taught")
        cls.first = make_lecture(cls.course, 1, date=datetime.date(2022, 2, 21), title="Compilers")
        cls.second = make_lecture(cls.course, 2, date=datetime.date(2022, 2, 23), title="Serving")
        cls.a = make_reading(cls.first, make_paper("Paper Alpha"), order=0)
        cls.b = make_reading(cls.first, make_paper("Paper Beta"), order=1)
        cls.instructor = make_user()
        enrol(cls.instructor, cls.course, Membership.Role.INSTRUCTOR)
        cls.student = make_user()
        enrol(cls.student, cls.course)

    def student_view(self):
        self.client.force_login(self.student)
        html = self.client.get(reverse("courses:schedule", args=["taught"])).content.decode()
        self.client.force_login(self.instructor)
        return html

    def manage(self, name, *args):
        return reverse(f"courses:{name}", args=["taught", *args])

    def test_reading_reordered_with_buttons_and_drag_and_drop(self):
        html = self.student_view()
        self.assertLess(html.index("Paper Alpha"), html.index("Paper Beta"))
        self.client.post(self.manage("manage_reading_move", self.b.pk), {"direction": "up"})
        html = self.student_view()
        self.assertLess(html.index("Paper Beta"), html.index("Paper Alpha"))
        self.client.post(
            self.manage("manage_readings_reorder", self.first.pk),
            {"order": f"{self.a.pk},{self.b.pk}"},
            headers={"X-Requested-With": "fetch"},
        )
        html = self.student_view()
        self.assertLess(html.index("Paper Alpha"), html.index("Paper Beta"))

    def test_lecture_moved_and_slots_generated(self):
        html = self.student_view()
        self.assertLess(html.index("Compilers"), html.index("Serving"))
        self.client.post(self.manage("manage_lecture_move", self.second.pk), {"direction": "up"})
        html = self.student_view()
        self.assertLess(html.index("Serving"), html.index("Compilers"))
        Lecture = type(self.first)
        count = Lecture.objects.count()
        self.client.post(
            self.manage("manage_lectures_generate"),
            {
                "starts_on": "2022-02-28",
                "ends_on": "2022-03-02",
                "weekdays": ["0", "2"],
                "start_time": "15:05",
                "duration_minutes": "80",
                "holidays": "",
            },
        )
        self.assertEqual(Lecture.objects.count(), count + 2)
        self.assertEqual(self.student_view().count('class="lecture lecture--'), 4)
