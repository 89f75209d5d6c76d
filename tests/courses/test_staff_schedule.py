"""Schedule: lectures added, edited, deleted and reordered; a term generated from its
meeting days or imported from a pasted CSV."""

import datetime

from django.test import TestCase
from django.urls import reverse

from courses.models import Lecture
from courses.staff_services import parse_holidays, slot_dates
from tests.courses.test_staff_support import at, build_term
from tests.factories import make_lecture, make_reading

D = datetime.date


def lecture_data(**changes):
    data = {
        "number": "2",
        "date": "2022-01-19",
        "start_time": "15:05",
        "duration_minutes": "80",
        "title": "ML compilers",
        "description": "",
        "lecturer": "",
        "slides_url": "",
        "video_url": "",
        "note": "",
        "review_deadline": "",
    }
    return {**data, **changes}


class LectureFormTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_term(cls)

    def setUp(self):
        self.client.force_login(self.ta)
        self.new_url = reverse("courses:manage_lecture_new", args=[self.course.slug])

    def test_add_a_lecture_with_a_deadline_in_the_course_time_zone(self):
        response = self.client.post(self.new_url, lecture_data(review_deadline="2022-01-18T22:00"))
        lecture = self.course.lectures.get(number=2)
        self.assertRedirects(
            response, reverse("courses:manage_lecture", args=[self.course.slug, lecture.pk])
        )
        self.assertEqual(
            (lecture.date, lecture.start_time, lecture.title, lecture.review_deadline),
            (D(2022, 1, 19), datetime.time(15, 5), "ML compilers", at(D(2022, 1, 18), 22)),
        )

    def test_new_lecture_form_suggests_the_next_number(self):
        response = self.client.get(self.new_url)
        self.assertEqual(response.context["form"]["number"].value(), 2)

    def test_duplicate_number_and_date_outside_the_term_are_form_errors(self):
        response = self.client.post(self.new_url, lecture_data(number="1", date="2022-06-01"))
        self.assertEqual(
            response.context["form"].errors,
            {
                "number": [
                    "Lecture 1 already exists (“Automatic differentiation”): pick another number."
                ],
                "date": ["2022-06-01 is outside the term (2022-01-10 to 2022-05-06)."],
            },
        )
        self.assertEqual(self.course.lectures.count(), 1)

    def test_editing_keeps_its_own_number(self):
        url = reverse("courses:manage_lecture_edit", args=[self.course.slug, self.lecture.pk])
        response = self.client.post(url, lecture_data(number="1", date="2022-01-17", title="AD"))
        self.assertEqual(response.status_code, 302)
        self.lecture.refresh_from_db()
        self.assertEqual((self.lecture.number, self.lecture.title), (1, "AD"))

    def test_delete_a_lecture_after_confirmation(self):
        url = reverse("courses:manage_lecture_delete", args=[self.course.slug, self.lecture.pk])
        self.assertContains(self.client.get(url), "A Secret Reading on Autodiff")
        self.assertTrue(self.course.lectures.exists())
        self.assertRedirects(
            self.client.post(url), reverse("courses:manage_lectures", args=[self.course.slug])
        )
        self.assertFalse(self.course.lectures.exists())


class LectureMoveTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_term(cls)
        cls.second = make_lecture(
            cls.course,
            2,
            date=D(2022, 1, 19),
            start_time=datetime.time(15, 5),
            title="Compilers",
            slides_url="https://example.org/compilers.pdf",
        )
        cls.second_reading = make_reading(cls.second)

    def move(self, lecture, direction):
        self.client.force_login(self.ta)
        url = reverse("courses:manage_lecture_move", args=[self.course.slug, lecture.pk])
        return self.client.post(url, {"direction": direction})

    def schedule(self):
        return [
            (lecture.number, lecture.date, lecture.title, [r.pk for r in lecture.readings.all()])
            for lecture in Lecture.objects.for_course(self.course)
        ]

    def test_moving_a_lecture_earlier_swaps_topics_and_keeps_the_slots(self):
        response = self.move(self.second, "up")
        self.assertRedirects(
            response,
            reverse("courses:manage_lectures", args=[self.course.slug])
            + f"#lecture-{self.second.pk}",
        )
        self.assertEqual(
            self.schedule(),
            [
                (1, D(2022, 1, 17), "Compilers", [self.second_reading.pk]),
                (2, D(2022, 1, 19), "Automatic differentiation", [self.reading.pk]),
            ],
        )

    def test_moving_the_first_lecture_earlier_changes_nothing(self):
        before = self.schedule()
        self.move(self.lecture, "up")
        self.assertEqual(self.schedule(), before)


class SlotTests(TestCase):
    def test_slots_on_weekdays_skip_holidays(self):
        days = slot_dates(
            start=D(2022, 3, 1),
            end=D(2022, 3, 16),
            weekdays={0, 2},
            holidays=parse_holidays("2022-03-07..2022-03-11"),
        )
        self.assertEqual(days, [D(2022, 3, 2), D(2022, 3, 14), D(2022, 3, 16)])

    def test_holiday_list_names_a_bad_item(self):
        with self.assertRaisesMessage(Exception, "“2022-13-01” is not a date"):
            parse_holidays("2022-03-07, 2022-13-01")


class GenerateTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_term(cls)

    def setUp(self):
        self.client.force_login(self.ta)
        self.url = reverse("courses:manage_lectures_generate", args=[self.course.slug])

    def generate(self, **changes):
        data = {
            "starts_on": "2022-01-10",
            "ends_on": "2022-02-02",
            "weekdays": ["0", "2"],
            "start_time": "15:05",
            "duration_minutes": "80",
            "holidays": "2022-01-24",
        }
        return self.client.post(self.url, {**data, **changes}, follow=True)

    def test_numbers_past_the_last_possible_one_are_refused_on_the_form(self):
        self.course.lectures.update(number=32767)
        response = self.generate()
        self.assertEqual(
            response.context["form"].non_field_errors(), ["Lecture numbers would run past 32767."]
        )
        self.assertEqual(self.course.lectures.count(), 1)

    def test_generates_slots_numbered_after_existing_lectures_skipping_taken_days(self):
        response = self.generate()
        self.assertRedirects(response, reverse("courses:manage_lectures", args=[self.course.slug]))
        self.assertEqual(
            [str(m) for m in response.context["messages"]],
            ["Added 6 lecture slots (1 date already had a lecture)."],
        )
        tba = datetime.time(15, 5), "To be announced"
        self.assertEqual(
            list(
                self.course.lectures.order_by("date").values_list(
                    "number", "date", "start_time", "title"
                )
            ),
            [
                (2, D(2022, 1, 10), *tba),
                (3, D(2022, 1, 12), *tba),
                (1, D(2022, 1, 17), datetime.time(15, 5), "Automatic differentiation"),
                (4, D(2022, 1, 19), *tba),
                (5, D(2022, 1, 26), *tba),
                (6, D(2022, 1, 31), *tba),
                (7, D(2022, 2, 2), *tba),
            ],
        )

    def test_dates_outside_the_term_are_form_errors(self):
        response = self.generate(starts_on="2022-01-03", ends_on="2022-06-01")
        self.assertEqual(
            response.context["form"].errors,
            {
                "starts_on": ["2022-01-03 is outside the term (2022-01-10 to 2022-05-06)."],
                "ends_on": ["2022-06-01 is outside the term (2022-01-10 to 2022-05-06)."],
            },
        )
        self.assertEqual(self.course.lectures.count(), 1)

    def test_no_weekday_and_no_slot_are_form_errors(self):
        response = self.generate(weekdays=[])
        self.assertEqual(response.context["form"].errors, {"weekdays": ["This field is required."]})
        response = self.generate(weekdays=["5"], ends_on="2022-01-14")
        self.assertEqual(
            response.context["form"].non_field_errors(),
            ["These dates and weekdays give no lecture at all."],
        )


class CsvImportTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_term(cls)

    def setUp(self):
        self.client.force_login(self.ta)
        self.url = reverse("courses:manage_lectures_import", args=[self.course.slug])

    def post(self, rows, **extra):
        return self.client.post(
            self.url, {"rows": rows, "start_time": "15:05", "duration_minutes": "80", **extra}
        )

    def test_imports_rows_in_order_after_the_existing_lectures(self):
        response = self.post('date,title\n2022-01-19,"Compilers, part 1"\n\n2022-01-24,Serving\n')
        self.assertRedirects(response, reverse("courses:manage_lectures", args=[self.course.slug]))
        self.assertEqual(
            list(self.course.lectures.order_by("number").values_list("number", "date", "title")),
            [
                (1, D(2022, 1, 17), "Automatic differentiation"),
                (2, D(2022, 1, 19), "Compilers, part 1"),
                (3, D(2022, 1, 24), "Serving"),
            ],
        )

    def test_numbers_past_the_last_possible_one_are_refused_on_the_form(self):
        self.course.lectures.update(number=32767)
        response = self.post("date,title\n2022-01-19,Compilers\n")
        self.assertContains(response, "Lecture numbers would run past 32767.")
        self.assertEqual(
            response.context["form"].non_field_errors(), ["Lecture numbers would run past 32767."]
        )
        self.assertEqual(self.course.lectures.count(), 1)

    def test_a_malformed_row_is_named_and_nothing_is_imported(self):
        response = self.post(
            "2022-01-19,Compilers\n2022-01-21\n19/01/2022,Serving\n2022-09-01,After the term\n"
            "2022-01-26,"
        )
        self.assertEqual(
            response.context["form"].errors,
            {
                "rows": [
                    "Row 2 (2022-01-21): expected two columns, date and title.",
                    "Row 3: “19/01/2022” is not a date (use YYYY-MM-DD).",
                    "Row 4: 2022-09-01 is outside the term (2022-01-10 to 2022-05-06).",
                    "Row 5: the title is empty.",
                ]
            },
        )
        self.assertEqual(self.course.lectures.count(), 1)
        self.assertContains(response, "Row 3: “19/01/2022” is not a date (use YYYY-MM-DD).")
