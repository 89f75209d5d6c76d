"""`manage.py load_demo`: the demo papers, courses, lectures, readings and logins.

Expected numbers are computed here from the project's copy of the demo JSON, with the
rules the loader documents, not taken from the loader.
"""

import datetime
import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import TestCase, override_settings

import courses
from accounts.models import User
from courses.demo import DemoDataError, load_demo
from courses.models import Course, Lecture, Membership, Reading
from papers.models import Author, Authorship, Paper
from papers.normalize import title_key

DATA_DIR = Path(courses.__file__).parent / "data" / "demo"
PAPERS = json.loads((DATA_DIR / "papers.json").read_text(encoding="utf-8"))["papers"]
COURSES = json.loads((DATA_DIR / "courses.json").read_text(encoding="utf-8"))["courses"]
PAPERS_BY_KEY = {paper["key"]: paper for paper in PAPERS}
AUXILIARY = {"pdf", "key"}  # "[pdf]" / "[key]" links: another copy of the reading before


def course_data(code, term):
    return next(c for c in COURSES if c["code"] == code and c["term"] == term)


def reading_links(reading):
    """The links of one published CS294 reading that are readings of their own."""
    return [
        link
        for index, link in enumerate(reading["links"])
        if index == 0 or link["text"].strip().lower() not in AUXILIARY
    ]


def expected_readings(course):
    count = 0
    for lecture in course["lectures"]:
        for reading in lecture["readings"]:
            if "paper" in reading:
                count += 1
            elif reading["links"]:
                count += len(reading_links(reading))
            elif not reading["text"].lower().startswith("more reading"):
                count += 1  # a reading without links: an entry titled by its text
    return count


def expected_incomplete_entries():
    """Distinct unverified works linked by the CS294 lists: links are the same work when
    they share a title (labels such as "[SC’21]" and quotes aside) or share a URL with
    compatible titles (one the beginning of the other)."""
    items = []
    for course in COURSES:
        for lecture in course["lectures"]:
            for reading in lecture["readings"]:
                if "paper" in reading:
                    continue
                links = reading_links(reading)
                if not links:
                    if reading["text"].lower().startswith("more reading"):
                        continue
                    match = re.match(r"^\[(.+?)\]\((\S+)\s*\)$", reading["text"])
                    links = [{"text": match[1], "url": match[2], "paper": None}]
                for link in links:
                    if link["paper"] is None:
                        text = re.sub(r"\s*\[[^\]]*\]\s*$", "", link["text"]).strip('"')
                        items.append((title_key(text), link["url"]))
    verified_titles = {title_key(paper["title"]) for paper in PAPERS}
    parent = list(range(len(items)))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    def compatible(a, b):
        return a == b or a.startswith(b + " ") or b.startswith(a + " ")

    for i, (key_i, url_i) in enumerate(items):
        for j in range(i):
            key_j, url_j = items[j]
            if key_i == key_j or (url_i and url_i == url_j and compatible(key_i, key_j)):
                parent[find(i)] = find(j)
    groups = {find(i) for i, (key, _) in enumerate(items) if key not in verified_titles}
    return len(groups)


def snapshot():
    """Every row of every table the loader writes, all columns."""
    models = [
        Paper,
        Paper.topics.through,
        Author,
        Authorship,
        Course,
        Lecture,
        Reading,
        User,
        Membership,
    ]
    return {model.__name__: list(model.objects.order_by("pk").values_list()) for model in models}


class LoadDemoTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.summary = load_demo(with_accounts=False)

    def test_counts_match_the_data(self):
        n_lectures = sum(len(course["lectures"]) for course in COURSES)
        n_readings = sum(expected_readings(course) for course in COURSES)
        self.assertEqual(len(COURSES), 6)
        self.assertEqual(len(PAPERS), 66)
        self.assertEqual(Course.objects.count(), 6)
        self.assertEqual(Paper.objects.filter(metadata_incomplete=False).count(), 66)
        self.assertEqual(
            set(Paper.objects.exclude(citation_key="").values_list("citation_key", flat=True)),
            set(PAPERS_BY_KEY),
        )
        self.assertEqual(Lecture.objects.count(), n_lectures)
        self.assertEqual(Reading.objects.count(), n_readings)
        n_incomplete = expected_incomplete_entries()
        self.assertEqual(Paper.objects.filter(metadata_incomplete=True).count(), n_incomplete)
        self.assertFalse(Paper.objects.exclude(source=Paper.Source.DEMO).exists())
        self.assertEqual(
            self.summary.line(),
            f"papers: 66 verified, {n_incomplete} incomplete entries; courses: 6; "
            f"lectures: {n_lectures}; readings: {n_readings}",
        )

    def test_readings_per_course(self):
        for data in COURSES:
            course = Course.objects.get(code=data["code"], term=data["term"])
            with self.subTest(course=course.slug):
                self.assertEqual(
                    Reading.objects.filter(lecture__course=course).count(),
                    expected_readings(data),
                )

    def test_courses_in_file_order_with_cmu_first(self):
        self.assertEqual(
            list(Course.objects.values_list("slug", "position")),
            [
                ("15-849-spring-2022", 1),
                ("15-884-spring-2021", 2),
                ("15-442-15-642-spring-2024", 3),
                ("cs294-fall-2019", 4),
                ("cs294-spring-2019", 5),
                ("cs294-spring-2022", 6),
            ],
        )
        course = Course.objects.get(slug="15-849-spring-2022")
        self.assertEqual(course.code, "15-849")
        self.assertEqual(course.title, "Machine Learning Systems")
        self.assertEqual(course.institution, "Carnegie Mellon University")
        self.assertEqual(course.instructor_names, "Zhihao Jia")
        self.assertEqual(course.url, "https://www.cs.cmu.edu/~zhihaoj2/15-849/")
        self.assertTrue(course.is_public)
        self.assertTrue(course.description.startswith("Topics: neural networks and backprop"))
        self.assertIn("Inferred: the term (Spring 2022)", course.provenance)
        self.assertIn("Curated sample", course.provenance)
        joint = Course.objects.get(slug="15-442-15-642-spring-2024")
        self.assertEqual(joint.instructor_names, "Tianqi Chen, Zhihao Jia")
        fall = Course.objects.get(slug="cs294-fall-2019")
        self.assertEqual(fall.meeting, course_data("CS294", "Fall 2019")["meeting"])
        self.assertEqual(fall.instructor_names, "Joseph E. Gonzalez")
        self.assertTrue(all(c.provenance for c in Course.objects.all()))

    def test_15_849_lectures_and_readings_as_in_the_data(self):
        data = course_data("15-849", "Spring 2022")
        lectures = Lecture.objects.filter(course__slug="15-849-spring-2022").order_by("number")
        self.assertEqual(
            [(lecture.number, lecture.title, lecture.date) for lecture in lectures],
            [(lecture["number"], lecture["title"], None) for lecture in data["lectures"]],
        )
        for lecture_data in data["lectures"]:
            lecture = lectures.get(number=lecture_data["number"])
            with self.subTest(lecture=lecture.number):
                self.assertEqual(
                    list(
                        lecture.readings.order_by("order").values_list(
                            "paper__citation_key", "required", "order"
                        )
                    ),
                    [
                        (reading["paper"], reading["required"], index)
                        for index, reading in enumerate(lecture_data["readings"])
                    ],
                )
        first = lectures.get(number=1)
        self.assertEqual(
            list(first.readings.values_list("paper__citation_key", "required")),
            [("baydin2018autodiff", False)],
        )

    def test_dated_lectures_keep_the_published_dates_and_undated_stay_undated(self):
        for data in COURSES:
            course = Course.objects.get(code=data["code"], term=data["term"])
            for lecture_data in data["lectures"]:
                number = lecture_data.get("number", lecture_data.get("slot"))
                lecture = Lecture.objects.get(course=course, number=number)
                date = lecture_data.get("date")
                expected = datetime.date.fromisoformat(date) if date else None
                self.assertEqual(lecture.date, expected, (course.slug, number))
                self.assertEqual(lecture.title, lecture_data["title"])
        self.assertFalse(
            Lecture.objects.filter(course__code__in=["15-849", "15-884"], date__isnull=False)
        )
        lab = Lecture.objects.get(course__slug="15-442-15-642-spring-2024", number=4)
        self.assertEqual(lab.note, "Lab 1 Release")
        self.assertEqual(lab.lecturer, "Tianqi Chen")
        self.assertEqual(
            lab.slides_url, "https://mlsyscourse.org/slides/04-automatic-differentiation.pdf"
        )
        guest = Lecture.objects.get(course__slug="cs294-spring-2022", number=2)
        self.assertEqual(guest.title, "Big Data Systems")
        self.assertEqual(guest.description, "Guest Speaker: Reynold Xin (Databricks)")

    def test_authors_in_published_order(self):
        for key in ("abadi2016tensorflow", "dao2022flashattention"):
            paper = Paper.objects.with_authors().get(citation_key=key)
            with self.subTest(paper=key):
                self.assertEqual(
                    [author.name for author in paper.ordered_authors],
                    PAPERS_BY_KEY[key]["authors"],
                )
                self.assertEqual(
                    list(paper.authorships.values_list("position", flat=True)),
                    list(range(len(PAPERS_BY_KEY[key]["authors"]))),
                )
        self.assertEqual(
            Paper.objects.get(citation_key="abadi2016tensorflow").ordered_authors[0].name,
            "Martín Abadi",
        )

    def test_verified_paper_fields(self):
        tensorflow = Paper.objects.get(citation_key="abadi2016tensorflow")
        self.assertEqual(tensorflow.title, "TensorFlow: A System for Large-Scale Machine Learning")
        self.assertEqual(tensorflow.title_key, title_key(tensorflow.title))
        self.assertEqual(tensorflow.year, 2016)
        self.assertEqual(tensorflow.arxiv_id, "1605.08695")
        self.assertIsNone(tensorflow.doi)
        self.assertEqual(tensorflow.entry_type, Paper.EntryType.INPROCEEDINGS)
        self.assertEqual(tensorflow.source, Paper.Source.DEMO)
        self.assertFalse(tensorflow.metadata_incomplete)
        self.assertTrue(tensorflow.source_bibtex.startswith("@inproceedings{abadi_tensorflow_2016"))
        self.assertTrue(tensorflow.abstract.startswith("TensorFlow is a machine learning system"))
        self.assertEqual(
            set(tensorflow.topics.values_list("name", flat=True)),
            set(PAPERS_BY_KEY["abadi2016tensorflow"]["topics"]),
        )
        caffe = Paper.objects.get(citation_key="jia2014caffe")
        self.assertEqual(caffe.doi, "10.1145/2647868.2654889")
        self.assertEqual(
            Paper.objects.get(citation_key="baydin2018autodiff").entry_type,
            Paper.EntryType.ARTICLE,
        )
        self.assertEqual(
            Paper.objects.get(citation_key="vasilache2018tc").entry_type, Paper.EntryType.MISC
        )
        self.assertEqual(
            Paper.objects.get(citation_key="frostig2018jax").abstract, ""
        )  # no abstract in the data: none invented

    def test_cs294_arxiv_link_becomes_one_incomplete_entry_shared_by_courses(self):
        paper = Paper.objects.get(arxiv_id="1904.03257")
        self.assertEqual(paper.title, "SysML: The New Frontier of Machine Learning Systems")
        self.assertEqual(paper.url, "https://arxiv.org/abs/1904.03257")
        self.assertTrue(paper.metadata_incomplete)
        self.assertEqual(paper.source, Paper.Source.DEMO)
        self.assertEqual(paper.citation_key, "")
        self.assertEqual(
            sorted(paper.readings.values_list("lecture__course__slug", "lecture__number")),
            [("cs294-fall-2019", 3), ("cs294-spring-2022", 1)],
        )
        self.assertTrue(all(paper.readings.values_list("required", flat=True)))
        pdf_link = Paper.objects.get(arxiv_id="1712.05855")  # linked as arxiv.org/pdf/...pdf
        self.assertEqual(pdf_link.title, "A Berkeley View of Systems Challenges for AI")

    def test_link_to_a_verified_paper_uses_it(self):
        reading = Reading.objects.get(
            lecture__course__slug="cs294-spring-2019",
            lecture__number=4,
            paper__citation_key="abadi2016tensorflow",
        )
        self.assertTrue(reading.required)
        self.assertIn("and/or TensorFlow OSDI Paper", reading.note)
        self.assertEqual(Paper.objects.filter(arxiv_id="1605.08695").count(), 1)

    def test_arxiv_id_linked_under_two_titles_is_not_mislinked(self):
        horizon = Paper.objects.get(arxiv_id="1811.00260")
        self.assertTrue(horizon.title.startswith("Horizon: Facebook's Open Source"))
        vivace = Paper.objects.get(title="PCC Vivace: Online-Learning Congestion Control")
        self.assertIsNone(vivace.arxiv_id)
        self.assertEqual(vivace.url, "https://arxiv.org/abs/1811.00260")
        self.assertTrue(vivace.metadata_incomplete)
        lecture = Lecture.objects.get(course__slug="cs294-spring-2019", number=20)
        self.assertIn(vivace, [reading.paper for reading in lecture.readings.all()])
        self.assertNotIn(horizon, [reading.paper for reading in lecture.readings.all()])

    def test_reading_note_section_and_links_without_a_paper(self):
        chapter = Reading.objects.get(
            lecture__course__slug="cs294-spring-2022",
            lecture__number=1,
            paper__title="Principles of Computer System Design",
        )
        self.assertTrue(chapter.required)
        self.assertTrue(chapter.note.startswith("Read Chapter 1 of Principles"))
        self.assertIsNone(chapter.paper.arxiv_id)
        same_text = Reading.objects.get(
            lecture__course__slug="cs294-spring-2022",
            lecture__number=1,
            paper__title="A Few Useful Things to Know About Machine Learning",
        )
        self.assertEqual(same_text.note, "")
        optional = Reading.objects.get(
            lecture__course__slug="cs294-fall-2019",
            lecture__number=3,
            paper__title="Hints for Computer System Design",
        )
        self.assertFalse(optional.required)
        self.assertEqual(optional.section, "Additional Systems Reading")
        # "[pdf]" copies are not readings of their own; the placeholder bullet is no reading.
        self.assertFalse(Paper.objects.filter(title__in=["pdf", "key"]).exists())
        self.assertFalse(Paper.objects.filter(title__istartswith="More reading").exists())
        # The label after a published title is kept in the note, not in the title.
        chimera = Reading.objects.get(paper__arxiv_id="2107.06925")
        self.assertEqual(
            chimera.paper.title,
            "Chimera: Efficiently Training Large-Scale Neural Networks with Bidirectional "
            "Pipelines",
        )
        self.assertIn("[SC’21, Best Paper finalist]", chimera.note)

    def test_order_follows_the_published_list(self):
        lecture = Lecture.objects.get(course__slug="cs294-spring-2019", number=2)
        expected = [
            title_key(re.sub(r"\s*\[[^\]]*\]\s*$", "", link["text"]))
            for reading in course_data("CS294", "Spring 2019")["lectures"][1]["readings"]
            for link in reading_links(reading)
        ]
        self.assertEqual(
            list(lecture.readings.order_by("order").values_list("paper__title_key", flat=True)),
            expected,
        )

    def test_rerun_changes_nothing(self):
        before = snapshot()
        join_codes = dict(Course.objects.values_list("slug", "join_code"))
        summary = load_demo(with_accounts=False)
        self.assertEqual(snapshot(), before)
        self.assertEqual(dict(Course.objects.values_list("slug", "join_code")), join_codes)
        self.assertEqual(summary.line(), self.summary.line())
        self.assertEqual((summary.created, summary.updated), (0, 0))

    def test_rerun_repairs_a_changed_field_and_keeps_the_join_code(self):
        course = Course.objects.get(slug="15-849-spring-2022")
        Course.objects.filter(pk=course.pk).update(title="Changed")
        Reading.objects.filter(lecture__course=course, lecture__number=1).delete()
        summary = load_demo(with_accounts=False)
        course.refresh_from_db()
        self.assertEqual(course.title, "Machine Learning Systems")
        self.assertEqual(Course.objects.get(pk=course.pk).join_code, course.join_code)
        self.assertEqual(Reading.objects.filter(lecture__course=course).count(), 32)
        self.assertEqual((summary.created, summary.updated), (1, 1))

    @override_settings(DEMO_ACCOUNTS_ALLOWED=False)
    def test_accounts_refused_when_debug_is_off(self):
        users_before = User.objects.count()
        with self.assertRaisesMessage(
            CommandError, "refusing to create demo accounts with published passwords"
        ) as caught:
            call_command("load_demo", "--with-accounts", stdout=StringIO())
        self.assertNotIn("\n", str(caught.exception))
        self.assertEqual(User.objects.count(), users_before)

    @override_settings(DEMO_ACCOUNTS_ALLOWED=True)
    def test_accounts_created_once(self):
        out = StringIO()
        call_command("load_demo", "--with-accounts", stdout=out)
        course = Course.objects.get(slug="15-849-spring-2022")
        student = User.objects.get(email="student@demo.mlsys-reader.test")
        self.assertTrue(student.check_password("demo-student-2026"))
        self.assertFalse(student.is_staff)
        self.assertEqual(
            Membership.objects.get(user=student, course=course).role, Membership.Role.STUDENT
        )
        self.assertEqual(
            Membership.objects.get(
                user__email="instructor@demo.mlsys-reader.test", course=course
            ).role,
            Membership.Role.INSTRUCTOR,
        )
        self.assertEqual(
            Membership.objects.get(user__email="ta@demo.mlsys-reader.test", course=course).role,
            Membership.Role.TA,
        )
        admin = User.objects.get(email="admin@demo.mlsys-reader.test")
        self.assertTrue(admin.is_staff and admin.is_superuser)
        self.assertFalse(admin.memberships.exists())
        lines = out.getvalue().splitlines()
        self.assertEqual(lines[0], self.summary.line())
        self.assertIn("  student@demo.mlsys-reader.test / demo-student-2026", out.getvalue())
        self.assertIn("admin@demo.mlsys-reader.test / demo-admin-2026", out.getvalue())

        before = snapshot()
        again = StringIO()
        call_command("load_demo", "--with-accounts", stdout=again)
        self.assertEqual(snapshot(), before)
        self.assertEqual(User.objects.count(), 4)
        self.assertEqual(Membership.objects.count(), 3)
        self.assertEqual(again.getvalue().splitlines()[0], lines[0])
        self.assertIn("this run: 0 rows created, 0 updated", again.getvalue())


@pytest.mark.django_db
def test_unknown_topic_fails_loudly_and_loads_nothing(tmp_path):
    papers = json.loads((DATA_DIR / "papers.json").read_text(encoding="utf-8"))
    papers["papers"][1]["topics"] = ["Quantum basket weaving"]
    (tmp_path / "papers.json").write_text(json.dumps(papers), encoding="utf-8")
    (tmp_path / "courses.json").write_bytes((DATA_DIR / "courses.json").read_bytes())
    with pytest.raises(DemoDataError, match="paszke2019pytorch: unknown topic 'Quantum basket"):
        load_demo(data_dir=tmp_path)
    assert not Paper.objects.exists()
    assert not Author.objects.exists()


@pytest.mark.django_db
def test_unknown_paper_key_fails_loudly(tmp_path):
    data = json.loads((DATA_DIR / "courses.json").read_text(encoding="utf-8"))
    data["courses"][0]["lectures"][0]["readings"][0]["paper"] = "nobody2099nothing"
    (tmp_path / "courses.json").write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "papers.json").write_bytes((DATA_DIR / "papers.json").read_bytes())
    with pytest.raises(DemoDataError, match="unknown paper 'nobody2099nothing'"):
        load_demo(data_dir=tmp_path)
    assert not Course.objects.exists()
