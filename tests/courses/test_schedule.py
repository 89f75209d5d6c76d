import datetime

import time_machine
from django.test import TestCase
from django.urls import reverse

from courses.models import Membership
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
        response = self.client.get(reverse("courses:home"))
        self.assertEqual([c.code for c in response.context["courses"]], ["15-849"])
        self.assertNotContains(response, "Hidden Course")


@time_machine.travel(NOW, tick=False)
class ScheduleQueryCountTests(TestCase):
    """The schedule costs the same number of queries for 1 and 3 lectures."""

    @classmethod
    def setUpTestData(cls):
        cls.one = make_course("A-1", slug="one-lecture")
        cls.three = make_course("A-3", slug="three-lectures")
        for course, count in ((cls.one, 1), (cls.three, 3)):
            for number in range(1, count + 1):
                lecture = make_lecture(course, number, date=datetime.date(2022, 2, number))
                make_reading(lecture, required=True)
                make_reading(lecture, required=False, order=1)
        cls.student = make_user()

    def assert_queries(self, course, expected, user=None):
        if user:
            self.client.force_login(user)
        url = reverse("courses:schedule", args=[course.slug])
        with self.assertNumQueries(expected):
            response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(response.context["lectures"]), course.lectures.count())

    def test_anonymous_visitor(self):
        # course, lectures (+course), readings (+paper), authorships (+author)
        self.assert_queries(self.one, 4)
        self.assert_queries(self.three, 4)

    def test_logged_in_student(self):
        # session, user, then the four above
        self.assert_queries(self.one, 6, self.student)
        self.assert_queries(self.three, 6, self.student)


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

    def test_home_query_count_does_not_grow_with_courses(self):
        with self.assertNumQueries(1):
            self.client.get(reverse("courses:home"))
        make_course("15-999", slug="c")
        with self.assertNumQueries(1):
            self.client.get(reverse("courses:home"))
