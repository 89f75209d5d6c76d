"""Exports and subscriptions: progress CSV, a lecture's reviews as Markdown, readings
as BibTeX, the iCalendar feed and the Atom feed of new readings."""

import csv
import datetime
import io
import xml.etree.ElementTree as ET

import icalendar
from django.test import TestCase
from django.urls import reverse

from courses.models import Review
from courses.staff_services import course_regenerate_feed_token
from tests.courses.test_staff_support import NY, SECRET_ANSWER, at, build_term
from tests.factories import make_lecture, make_paper, make_reading, make_user

D = datetime.date
ATOM = "{http://www.w3.org/2005/Atom}"


class ExportTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_term(cls)
        cls.second = make_lecture(
            cls.course,
            2,
            date=D(2022, 1, 19),
            start_time=datetime.time(15, 5),
            title="ML compilers",
            review_deadline=at(D(2022, 1, 18), 22),
        )
        cls.halide = make_paper(
            "Halide: a language and compiler", authors=["Jonathan Ragan-Kelley"], year=2013
        )
        cls.optional = make_reading(cls.second, cls.halide, required=False, note="Skim it.")
        cls.undated = make_lecture(cls.course, 3, title="Guest lecture")
        Review.objects.create(
            author=cls.classmate,
            paper=cls.halide,
            status=Review.Status.SUBMITTED,
            submitted_at=at(D(2022, 1, 18), 23),
            overall_rating=3,
            answers={"high_level_idea": '=HYPERLINK("http://evil")'},
        )

    def setUp(self):
        self.client.force_login(self.ta)


class CsvExportTests(ExportTestCase):
    def test_one_row_per_student_and_reading(self):
        response = self.client.get(
            reverse("courses:manage_export_progress", args=[self.course.slug])
        )
        self.assertEqual(response["Content-Type"], "text/csv; charset=utf-8")
        self.assertEqual(
            response["Content-Disposition"], 'attachment; filename="ml-sys-progress.csv"'
        )
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        self.assertEqual(
            [
                (
                    r["student_email"],
                    r["lecture_number"],
                    r["paper_title"],
                    r["required"],
                    r["reading_status"],
                    r["review_status"],
                    r["review_submitted_at"],
                    r["review_deadline"],
                    r["overall_rating"],
                )
                for r in rows
            ],
            [
                ("cleo@example.org", "1", "A Secret Reading on Autodiff", "yes", "to_read", "missing", "", "2022-01-17T13:05-05:00", ""),
                ("cleo@example.org", "2", "Halide: a language and compiler", "no", "to_read", "late", "2022-01-18T23:00-05:00", "2022-01-18T22:00-05:00", "3"),
                ("sam@example.org", "1", "A Secret Reading on Autodiff", "yes", "read", "on_time", "2022-01-17T10:00-05:00", "2022-01-17T13:05-05:00", "4"),
                ("sam@example.org", "2", "Halide: a language and compiler", "no", "to_read", "missing", "", "2022-01-18T22:00-05:00", ""),
            ],
        )  # fmt: skip
        self.assertEqual(rows[0]["student_name"], "Cleo Classmate")

    def test_a_cell_that_looks_like_a_formula_is_neutralised(self):
        self.classmate.first_name = "=cmd|' /C calc'!A0"
        self.classmate.save()
        response = self.client.get(
            reverse("courses:manage_export_progress", args=[self.course.slug])
        )
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        self.assertEqual(rows[0]["student_name"], "'=cmd|' /C calc'!A0 Classmate")


class MarkdownAndBibtexTests(ExportTestCase):
    def test_all_reviews_of_a_lecture_in_one_markdown_file(self):
        response = self.client.get(
            reverse("courses:manage_lecture_reviews", args=[self.course.slug, self.lecture.pk])
        )
        self.assertEqual(
            response["Content-Disposition"],
            'attachment; filename="ml-sys-lecture-1-reviews.md"',
        )
        text = response.content.decode()
        self.assertTrue(
            text.startswith(
                "# 15-849 Spring 2022, lecture 1: Automatic differentiation\n\n"
                "Date: 2022-01-17\nReview deadline: 2022-01-17 13:05 EST\n\n"
                "## A Secret Reading on Autodiff (required)\n\n\n### Sam Student\n\n"
                "Submitted 2022-01-17 10:00 (on time).\n\n"
            )
        )
        self.assertIn(
            f"**What is the paper's high-level idea, in two or three sentences?**\n\n{SECRET_ANSWER}\n",
            text,
        )
        self.assertIn("- Overall: 4/5\n", text)
        self.assertEqual(text.count("### "), 1)  # one submitted review

    def test_readings_as_bibtex_in_schedule_order(self):
        response = self.client.get(reverse("courses:manage_export_bibtex", args=[self.course.slug]))
        self.assertEqual(response["Content-Type"], "application/x-bibtex; charset=utf-8")
        text = response.content.decode()
        self.assertEqual(
            [line for line in text.splitlines() if line.startswith("@")],
            ["@misc{lovelace2018secret,", "@misc{kelley2013halide,"],
        )
        self.assertIn("  title = {{A} {Secret} {Reading} on {Autodiff}},\n", text)


class CalendarTests(ExportTestCase):
    def fetch(self, url, client=None):
        response = (client or self.client_class()).get(url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/calendar; charset=utf-8")
        return icalendar.Calendar.from_ical(response.content)

    def test_secret_calendar_url_round_trips_lecture_dates_and_deadlines(self):
        url = reverse("courses:calendar_private", args=[self.course.slug, self.course.feed_token])
        calendar = self.fetch(url)  # a calendar app has no session
        events = {str(e["uid"]).split("@")[0]: e for e in calendar.walk("VEVENT")}
        self.assertEqual(
            sorted(events),
            [
                f"lecture-{self.lecture.pk}",
                f"lecture-{self.second.pk}",
                f"review-deadline-{self.lecture.pk}",
                f"review-deadline-{self.second.pk}",
            ],
        )
        first = events[f"lecture-{self.lecture.pk}"]
        self.assertEqual(first.start, datetime.datetime(2022, 1, 17, 15, 5, tzinfo=NY))
        self.assertEqual(first.end, datetime.datetime(2022, 1, 17, 16, 25, tzinfo=NY))
        self.assertEqual(
            [
                e.start.date()
                for e in calendar.walk("VEVENT")
                if str(e["uid"]).startswith("lecture-")
            ],
            [D(2022, 1, 17), D(2022, 1, 19)],
        )
        self.assertEqual(str(first["summary"]), "15-849 lecture 1: Automatic differentiation")
        self.assertEqual(
            str(first["description"]),
            "Readings:\nRequired: A Secret Reading on Autodiff (Ada Lovelace) "
            "https://arxiv.org/abs/1502.05767",
        )
        due = events[f"review-deadline-{self.second.pk}"]
        self.assertEqual(due.start, datetime.datetime(2022, 1, 18, 22, 0, tzinfo=NY))
        self.assertEqual(
            str(due["description"]),
            "Before: ML compilers\nOptional: Halide: a language and compiler (Jonathan "
            "Ragan-Kelley)\n  Note: Skim it.",
        )
        self.assertEqual(
            [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")], ["America/New_York"]
        )

    def test_members_only_calendar_needs_the_secret_or_a_member_session(self):
        public_url = reverse("courses:calendar", args=[self.course.slug])
        self.assertEqual(self.client_class().get(public_url).status_code, 404)
        wrong = reverse("courses:calendar_private", args=[self.course.slug, "guess"])
        self.assertEqual(self.client_class().get(wrong).status_code, 404)
        stranger = self.client_class()
        stranger.force_login(make_user())
        self.assertEqual(stranger.get(public_url).status_code, 404)
        member = self.client_class()
        member.force_login(self.student)
        calendar = self.fetch(public_url, member)
        # The course's dated lectures and their review deadlines.
        self.assertEqual(len(list(calendar.walk("VEVENT"))), 4)

    def test_public_course_calendar_needs_no_secret(self):
        self.course.is_public = True
        self.course.save()
        calendar = self.fetch(reverse("courses:calendar", args=[self.course.slug]))
        self.assertEqual(len(list(calendar.walk("VEVENT"))), 4)

    def test_regenerating_the_token_revokes_the_old_url(self):
        old = reverse("courses:calendar_private", args=[self.course.slug, self.course.feed_token])
        response = self.client.post(reverse("courses:manage_feed_token", args=[self.course.slug]))
        self.assertRedirects(
            response, reverse("courses:manage", args=[self.course.slug]) + "#subscribe"
        )
        self.assertEqual(self.client_class().get(old).status_code, 404)
        self.course.refresh_from_db()
        self.fetch(
            reverse("courses:calendar_private", args=[self.course.slug, self.course.feed_token])
        )

    def test_staff_overview_shows_the_secret_links(self):
        response = self.client.get(reverse("courses:manage", args=[self.course.slug]))
        self.assertContains(
            response, f"http://testserver/courses/ml-sys/calendar/{self.course.feed_token}.ics"
        )
        self.assertContains(
            response, f"http://testserver/courses/ml-sys/feeds/readings/{self.course.feed_token}/"
        )


class ReadingsFeedTests(ExportTestCase):
    def test_newest_readings_first_in_an_atom_feed(self):
        url = reverse(
            "courses:readings_feed_private", args=[self.course.slug, self.course.feed_token]
        )
        response = self.client_class().get(url)
        self.assertEqual(response["Content-Type"], "application/atom+xml; charset=utf-8")
        self.assertEqual(response["Cache-Control"], "private, no-store")
        root = ET.fromstring(response.content)
        self.assertEqual(root.findtext(f"{ATOM}title"), "15-849 Spring 2022: new readings")
        entries = root.findall(f"{ATOM}entry")
        self.assertEqual(
            [(e.findtext(f"{ATOM}title"), e.findtext(f"{ATOM}id")) for e in entries],
            [
                ("Lecture 2: Halide: a language and compiler", f"urn:mlsys-reader:reading:{self.optional.pk}"),
                ("Lecture 1: A Secret Reading on Autodiff", f"urn:mlsys-reader:reading:{self.reading.pk}"),
            ],
        )  # fmt: skip
        self.assertEqual(
            entries[0].findtext(f"{ATOM}summary"),
            "<p>Optional reading for lecture 2 on Wed Jan 19, 2022: ML compilers.</p>"
            "<p>Skim it.</p>",
        )
        self.assertEqual(
            entries[0].find(f"{ATOM}link").get("href"),
            "http://testserver/courses/ml-sys/#lecture-2",
        )

    def test_new_secret_links_reach_the_cached_schedule_at_once(self):
        self.client.force_login(self.student)
        schedule = reverse("courses:schedule", args=[self.course.slug])
        old = self.course.feed_token
        self.assertContains(self.client.get(schedule), old)
        self.client.force_login(self.instructor)
        self.client.post(reverse("courses:manage_feed_token", args=[self.course.slug]))
        self.course.refresh_from_db()
        self.assertNotEqual(self.course.feed_token, old)
        self.client.force_login(self.student)
        page = self.client.get(schedule)
        self.assertNotContains(page, old)
        self.assertContains(
            page,
            reverse("courses:calendar_private", args=[self.course.slug, self.course.feed_token]),
        )

    def test_members_only_feed_is_hidden_without_the_secret(self):
        self.assertEqual(
            self.client_class()
            .get(reverse("courses:readings_feed", args=[self.course.slug]))
            .status_code,
            404,
        )
        course_regenerate_feed_token(course=self.course)
        self.assertEqual(
            self.client_class()
            .get(reverse("courses:readings_feed_private", args=[self.course.slug, "x" * 32]))
            .status_code,
            404,
        )
