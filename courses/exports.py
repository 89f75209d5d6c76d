"""What the course staff take away: progress and reviews as CSV, a lecture's reviews as
one Markdown file, the readings as BibTeX, and the schedule as an iCalendar feed.

Each function returns the file's text (or bytes); the views add the HTTP headers.
"""

import csv
import datetime
import io

import icalendar
from django.db.models import F, Prefetch

from courses import staff_services as services
from courses.checklist import QUESTIONS, RATINGS
from courses.models import Course, Lecture, Reading
from mlsys_reader.lib.spreadsheet import cell as csv_cell
from papers.bibtex import papers_to_bibtex
from papers.models import Paper

CSV_COLUMNS = [
    "student_email",
    "student_name",
    "lecture_number",
    "lecture_date",
    "lecture_title",
    "paper_id",
    "paper_title",
    "required",
    "reading_status",
    "review_status",
    "review_submitted_at",
    "review_deadline",
    *[rating.field for rating in RATINGS],
]


def progress_csv(*, course: Course) -> str:
    """One row per student and reading of the course (lectures in schedule order):
    reading status, review status and the review's ratings. Times in the course's
    time zone."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for membership, lecture, cell in services.progress_rows(course=course):
        deadline = lecture.effective_review_deadline
        review = cell.review
        submitted_at = review.submitted_at if review and review.submitted_at else None
        writer.writerow(
            csv_cell(value)
            for value in [
                membership.user.email,
                membership.user.get_full_name(),
                lecture.number,
                lecture.date,
                lecture.title,
                cell.reading.paper_id,
                cell.reading.paper.title,
                cell.reading.required,
                cell.progress,
                cell.review_status,
                submitted_at.astimezone(course.tzinfo) if submitted_at else None,
                deadline.astimezone(course.tzinfo) if deadline else None,
                *[
                    getattr(review, rating.field)
                    if review
                    and cell.review_status
                    in (services.ReviewStatus.ON_TIME, services.ReviewStatus.LATE)
                    else None
                    for rating in RATINGS
                ],
            ]
        )
    return buffer.getvalue()


def _md_line(text: str) -> str:
    """One line of Markdown text that cannot open a heading or a list by accident."""
    return " ".join((text or "").split()).replace("#", "\\#")


def lecture_reviews_markdown(*, lecture: Lecture) -> str:
    """Every submitted review of the lecture's readings by the course's students, one
    section per reading, answers under the checklist's questions."""
    course = lecture.course
    lines = [f"# {course.code} {course.term}, lecture {lecture.number}: {_md_line(lecture.title)}"]
    if lecture.date:
        lines.append("")
        lines.append(f"Date: {lecture.date.isoformat()}")
    deadline = lecture.effective_review_deadline
    if deadline:
        lines.append(f"Review deadline: {deadline.astimezone(course.tzinfo):%Y-%m-%d %H:%M %Z}")
    for reading, reviews in services.lecture_submitted_reviews(lecture=lecture):
        kind = "required" if reading.required else "optional"
        lines += ["", f"## {_md_line(reading.paper.title)} ({kind})", ""]
        if not reviews:
            lines.append("No submitted reviews.")
        for review, status in reviews:
            when = review.submitted_at.astimezone(course.tzinfo)
            label = services.ReviewStatus.LABELS[status].lower()
            lines += [
                "",
                f"### {_md_line(review.author.display_name)}",
                "",
                f"Submitted {when:%Y-%m-%d %H:%M} ({label}).",
                "",
            ]
            for rating in RATINGS:
                value = getattr(review, rating.field)
                lines.append(
                    f"- {rating.label}: {value if value is not None else '–'}/{rating.maximum}"
                )
            for question in QUESTIONS:
                answer = (review.answers or {}).get(question.key, "").strip()
                lines += ["", f"**{question.text}**", "", answer or "_(no answer)_"]
    return "\n".join(lines) + "\n"


def course_bibtex(*, course: Course) -> str:
    """The course's readings as one .bib file, in schedule order, each paper once."""
    paper_ids = (
        Reading.objects.filter(lecture__course=course)
        .order_by(
            F("lecture__date").asc(nulls_last=True),
            "lecture__start_time",
            "lecture__number",
            "-required",
            "order",
            "pk",
        )
        .values_list("paper_id", flat=True)
    )
    order = list(dict.fromkeys(paper_ids))
    papers = Paper.objects.with_authors().in_bulk(order)
    return papers_to_bibtex([papers[pk] for pk in order])


def _reading_lines(readings) -> list[str]:
    lines = []
    for reading in readings:
        kind = "Required" if reading.required else "Optional"
        paper = reading.paper
        link = paper.url or paper.arxiv_abs_url or paper.doi_url
        line = f"{kind}: {paper.title}"
        authors = ", ".join(author.name for author in paper.ordered_authors)
        if authors:
            line += f" ({authors})"
        if link:
            line += f" {link}"
        lines.append(line)
        if reading.note:
            lines.append(f"  Note: {reading.note}")
    return lines


def calendar_lectures(course: Course):
    """Lectures with their readings, papers and authors: three queries."""
    lectures = list(
        course.lectures.exclude(date=None)
        .in_schedule_order()
        .prefetch_related(Prefetch("readings", queryset=Reading.objects.in_schedule_order()))
    )
    for lecture in lectures:
        lecture.course = course
    return lectures


def course_calendar(*, course: Course, base_url: str, host: str) -> bytes:
    """An iCalendar file: each dated lecture as an event (all day when it has no time)
    and each review deadline of a lecture with readings as a second event, the
    readings listed in both descriptions. UIDs are stable, so a subscribed calendar
    updates events in place."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//mlsys-reader//course calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{course.code} {course.title} ({course.term})")
    calendar.add("x-wr-timezone", course.timezone)
    for lecture in calendar_lectures(course):
        readings = list(lecture.readings.all())
        url = base_url + lecture.get_absolute_url()
        reading_text = _reading_lines(readings) or ["No readings."]
        event = icalendar.Event()
        event.add("uid", f"lecture-{lecture.pk}@{host}")
        event.add("dtstamp", lecture.updated_at)
        event.add("last-modified", lecture.updated_at)
        event.add("summary", f"{course.code} lecture {lecture.number}: {lecture.title}")
        if lecture.starts_at and lecture.start_time:
            event.add("dtstart", lecture.starts_at)
            event.add(
                "dtend", lecture.starts_at + datetime.timedelta(minutes=lecture.duration_minutes)
            )
        else:
            event.add("dtstart", lecture.date)
            event.add("dtend", lecture.date + datetime.timedelta(days=1))
        description = [lecture.description] if lecture.description else []
        event.add("description", "\n".join([*description, "Readings:", *reading_text]))
        event.add("url", url)
        calendar.add_component(event)

        deadline = lecture.effective_review_deadline
        if readings and deadline is not None:
            due = icalendar.Event()
            due.add("uid", f"review-deadline-{lecture.pk}@{host}")
            due.add("dtstamp", lecture.updated_at)
            due.add("summary", f"{course.code}: reviews due for lecture {lecture.number}")
            # No DTEND: a deadline is an instant (RFC 5545 allows a DTSTART alone).
            due.add("dtstart", deadline.astimezone(course.tzinfo))
            due.add("description", "\n".join([f"Before: {lecture.title}", *reading_text]))
            due.add("url", url)
            calendar.add_component(due)
    calendar.add_missing_timezones()
    return calendar.to_ical()
