"""Forms of the instructor and TA pages (every input they accept goes through one).

Dates and times are in the course's time zone: the views run inside
`timezone.override(course.tzinfo)`, so a deadline typed as 14:00 means 14:00 where the
course meets.
"""

import datetime
import functools
import zoneinfo

from django import forms
from django.core.exceptions import ValidationError

from courses import staff_services as services
from courses.models import Course, Lecture, Membership, Reading
from papers.models import Paper

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
WEEKDAY_CHOICES = [(str(i), name) for i, name in enumerate(services.WEEKDAYS)]
MAX_EMAILS = 500


@functools.cache
def timezone_choices():
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class CourseForm(forms.ModelForm):
    timezone = forms.ChoiceField(
        label="Time zone",
        choices=timezone_choices,
        help_text="Where the course meets: lecture times and review deadlines are in it.",
    )

    class Meta:
        model = Course
        fields = [
            "code",
            "title",
            "term",
            "institution",
            "instructor_names",
            "description",
            "url",
            "meeting",
            "starts_on",
            "ends_on",
            "timezone",
            "is_public",
            "review_visibility",
            "allow_late_reviews",
            "review_hours_before",
        ]
        widgets = {
            "starts_on": DATE,
            "ends_on": DATE,
            "description": forms.Textarea(attrs={"rows": 4}),
            "review_visibility": forms.RadioSelect,
        }
        labels = {
            "instructor_names": "Instructors (as shown)",
            "is_public": "Public: anyone may see the schedule (otherwise members only)",
            "allow_late_reviews": "Accept reviews submitted after the deadline (marked late)",
        }
        help_texts = {
            "review_hours_before": "Reviews are due this many hours before each lecture "
            "starts (0: at the start); a lecture may set its own deadline.",
            "is_public": "",
        }

    def clean(self):
        data = super().clean()
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and starts_on > ends_on:
            self.add_error("ends_on", "The term cannot end before it starts.")
        elif self.instance.pk and (starts_on or ends_on):
            outside = [
                lecture.number
                for lecture in self.instance.lectures.exclude(date=None)
                if (starts_on and lecture.date < starts_on) or (ends_on and lecture.date > ends_on)
            ]
            if outside:
                numbers = ", ".join(str(n) for n in sorted(outside))
                raise ValidationError(
                    f"Lectures {numbers} would be outside these term dates: move them first."
                )
        return data


class EmailListForm(forms.Form):
    emails = forms.CharField(
        label="E-mail addresses",
        widget=forms.Textarea(attrs={"rows": 5, "autocomplete": "off"}),
        help_text="One per line, or separated by commas. People without an account are "
        "invited and join when they sign up with that address.",
    )

    def clean_emails(self):
        valid, invalid = services.parse_email_list(self.cleaned_data["emails"])
        if invalid:
            shown = ", ".join(f"“{item}”" for item in invalid[:10])
            raise ValidationError(
                f"Not an e-mail address: {shown}. Nobody was added; correct the list and "
                "send it again."
            )
        if not valid:
            raise ValidationError("Enter at least one e-mail address.")
        if len(valid) > MAX_EMAILS:
            raise ValidationError(f"At most {MAX_EMAILS} addresses at a time.")
        return valid


class StaffAddForm(EmailListForm):
    role = forms.ChoiceField(
        choices=[
            (Membership.Role.TA, "Teaching assistant"),
            (Membership.Role.INSTRUCTOR, "Instructor"),
        ],
        widget=forms.RadioSelect,
        initial=Membership.Role.TA,
    )


class ConfirmCodeForm(forms.Form):
    """Deleting a course asks for its code, typed out, so it is never a slip."""

    code = forms.CharField(label="Type the course code to confirm")

    def __init__(self, *args, course, **kwargs):
        super().__init__(*args, **kwargs)
        self.course = course

    def clean_code(self):
        if self.cleaned_data["code"].strip() != self.course.code:
            raise ValidationError(f"Type {self.course.code} exactly to delete the course.")
        return self.cleaned_data["code"]


class LectureForm(forms.ModelForm):
    class Meta:
        model = Lecture
        fields = [
            "number",
            "date",
            "start_time",
            "duration_minutes",
            "title",
            "description",
            "lecturer",
            "slides_url",
            "video_url",
            "note",
            "review_deadline",
        ]
        widgets = {
            "date": DATE,
            "start_time": TIME,
            "review_deadline": DATETIME,
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {
            "duration_minutes": "Duration (minutes)",
            "review_deadline": "Review deadline (overrides the course default)",
        }

    def __init__(self, *args, course, **kwargs):
        super().__init__(*args, **kwargs)
        self.course = course
        self.instance.course = course
        if self.instance.pk is None and not self.is_bound:
            self.initial.setdefault("number", services._next_number(course))
            self.initial.setdefault("duration_minutes", 80)
        default = "at the lecture's start"
        if course.review_hours_before:
            default = f"{course.review_hours_before} hours before the lecture starts"
        self.fields[
            "review_deadline"
        ].help_text = f"Leave empty for the course default ({default}). Time in {course.timezone}."
        self.fields["start_time"].help_text = f"In {course.timezone}."

    def clean_number(self):
        number = self.cleaned_data["number"]
        clash = self.course.lectures.filter(number=number).exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError(
                f"Lecture {number} already exists (“{clash.first().title}”): pick another number."
            )
        return number

    def clean_date(self):
        date = self.cleaned_data["date"]
        if services.outside_term(self.course, date):
            raise ValidationError(
                f"{date} is outside the term ({services.term_label(self.course)})."
            )
        return date

    def validate_unique(self):
        # clean_number reports the one constraint in words; the course is not a field.
        pass


class SlotsForm(forms.Form):
    starts_on = forms.DateField(label="First day", widget=DATE)
    ends_on = forms.DateField(label="Last day", widget=DATE)
    weekdays = forms.TypedMultipleChoiceField(
        label="Meets on",
        choices=WEEKDAY_CHOICES,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    start_time = forms.TimeField(label="Start time", widget=TIME, required=False)
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)", min_value=1, max_value=600, initial=80
    )
    holidays = forms.CharField(
        label="Skip these days",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Holidays and breaks: dates (YYYY-MM-DD) or ranges "
        "(YYYY-MM-DD..YYYY-MM-DD), one per line or separated by commas.",
    )

    def __init__(self, *args, course, **kwargs):
        super().__init__(*args, **kwargs)
        self.course = course
        self.fields["starts_on"].initial = course.starts_on
        self.fields["ends_on"].initial = course.ends_on

    def clean_holidays(self):
        return services.parse_holidays(self.cleaned_data["holidays"])

    def clean(self):
        data = super().clean()
        start, end = data.get("starts_on"), data.get("ends_on")
        if not start or not end or not data.get("weekdays") or "holidays" not in data:
            return data
        if end < start:
            self.add_error("ends_on", "The last day cannot be before the first.")
            return data
        for name in ("starts_on", "ends_on"):
            if services.outside_term(self.course, data[name]):
                self.add_error(
                    name,
                    f"{data[name]} is outside the term ({services.term_label(self.course)}).",
                )
        if self.errors:
            return data
        data["dates"] = services.slot_dates(
            start=start, end=end, weekdays=set(data["weekdays"]), holidays=data["holidays"]
        )
        if not data["dates"]:
            raise ValidationError("These dates and weekdays give no lecture at all.")
        if len(data["dates"]) > services.MAX_GENERATED_LECTURES:
            raise ValidationError(
                f"That is {len(data['dates'])} lectures; at most "
                f"{services.MAX_GENERATED_LECTURES} at a time."
            )
        return data


class ScheduleCsvForm(forms.Form):
    rows = forms.CharField(
        label="CSV: date,title",
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text="One lecture per line: 2022-01-17,Introduction. Quote a title that "
        'contains a comma ("Training, part 2"). A header line date,title is allowed. '
        "If any row is wrong, nothing is imported.",
    )
    start_time = forms.TimeField(label="Start time", widget=TIME, required=False)
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)", min_value=1, max_value=600, initial=80
    )

    def __init__(self, *args, course, **kwargs):
        super().__init__(*args, **kwargs)
        self.course = course

    def clean_rows(self):
        rows = services.parse_schedule_csv(self.cleaned_data["rows"], course=self.course)
        if len(rows) > services.MAX_GENERATED_LECTURES:
            raise ValidationError(f"At most {services.MAX_GENERATED_LECTURES} rows at a time.")
        return rows


class CatalogSearchForm(forms.Form):
    q = forms.CharField(label="Search the catalog", max_length=200, required=False)


class ReadingAddForm(forms.Form):
    """Attach a catalog paper (the Add buttons of the search results)."""

    paper = forms.ModelChoiceField(
        queryset=Paper.objects.all(),
        widget=forms.HiddenInput,
        error_messages={
            "invalid_choice": "There is no such paper in the catalog (it may have been "
            "merged or removed): search again.",
            "required": "Choose a paper to add.",
        },
    )
    required = forms.TypedChoiceField(
        choices=[("1", "Required"), ("0", "Optional")],
        coerce=lambda value: value == "1",
        initial="1",
    )


class ReadingImportForm(forms.Form):
    """Paste an identifier: the import service fetches the paper when it is new."""

    text = forms.CharField(
        label="arXiv id, DOI or BibTeX entry",
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="For example 2205.14135, https://arxiv.org/abs/2205.14135, "
        "10.1145/3458817.3476209 or a whole @inproceedings{…} entry. "
        "A paper new to the catalog is imported first.",
    )
    required = forms.BooleanField(label="Required reading", required=False, initial=True)
    note = forms.CharField(
        label="Note for students", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReadingForm(forms.ModelForm):
    class Meta:
        model = Reading
        fields = ["required", "section", "note"]
        labels = {"required": "Required reading", "note": "Note for students"}
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}


class ReadingTransferForm(forms.Form):
    lecture = forms.ModelChoiceField(
        label="Move to lecture",
        queryset=Lecture.objects.none(),
        error_messages={"invalid_choice": "Choose a lecture of this course."},
    )

    def __init__(self, *args, reading, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lecture"].queryset = (
            Lecture.objects.filter(course_id=reading.lecture.course_id)
            .exclude(pk=reading.lecture_id)
            .in_schedule_order()
        )
        self.fields["lecture"].label_from_instance = lambda lecture: (
            f"{lecture.number}. {lecture.title}"
            + (f" ({lecture.date:%b %-d})" if lecture.date else "")
        )


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])


class ReorderForm(forms.Form):
    """The new order of a lecture's readings, as reading ids (drag and drop sends it)."""

    order = forms.CharField(max_length=2000)

    def clean_order(self):
        try:
            ids = [int(part) for part in self.cleaned_data["order"].split(",") if part.strip()]
        except ValueError:
            raise ValidationError("The order must be reading ids separated by commas.") from None
        if len(ids) != len(set(ids)):
            raise ValidationError("A reading appears twice.")
        return ids


class CloneForm(forms.Form):
    SHIFT, SLOTS = "shift", "slots"

    code = forms.CharField(max_length=40)
    title = forms.CharField(max_length=200)
    term = forms.CharField(max_length=60, help_text="e.g. Spring 2026")
    starts_on = forms.DateField(label="First day of the new term", widget=DATE, required=False)
    ends_on = forms.DateField(label="Last day of the new term", widget=DATE, required=False)
    mode = forms.ChoiceField(
        label="Lecture dates",
        choices=[
            (SHIFT, "Shift every lecture by a number of days"),
            (SLOTS, "Put the lectures, in order, onto new weekly slots of the new term"),
        ],
        widget=forms.RadioSelect,
        initial=SHIFT,
    )
    offset_days = forms.IntegerField(
        label="Shift by (days)",
        required=False,
        min_value=-3650,
        max_value=3650,
        help_text="364 keeps the weekday one year later.",
    )
    weekdays = forms.TypedMultipleChoiceField(
        label="New slots meet on",
        choices=WEEKDAY_CHOICES,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    start_time = forms.TimeField(
        label="New slots start at", widget=TIME, required=False,
        help_text="Empty: each lecture keeps its time.",
    )  # fmt: skip
    holidays = SlotsForm.base_fields["holidays"]

    def __init__(self, *args, source, **kwargs):
        super().__init__(*args, **kwargs)
        self.source = source
        if not self.is_bound:
            self.initial.update(code=source.code, title=source.title, offset_days=364)

    def clean_holidays(self):
        return services.parse_holidays(self.cleaned_data["holidays"])

    def clean(self):
        data = super().clean()
        start, end = data.get("starts_on"), data.get("ends_on")
        if start and end and end < start:
            self.add_error("ends_on", "The term cannot end before it starts.")
        if data.get("mode") == self.SHIFT:
            if data.get("offset_days") is None and "offset_days" not in self.errors:
                self.add_error("offset_days", "How many days later is the new term?")
        elif data.get("mode") == self.SLOTS:
            for name, message in (
                ("starts_on", "Slots need the first day of the new term."),
                ("ends_on", "Slots need the last day of the new term."),
                ("weekdays", "On which weekdays does the new term meet?"),
            ):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, message)
            if not self.errors:
                dates = services.slot_dates(
                    start=start, end=end, weekdays=set(data["weekdays"]), holidays=data["holidays"]
                )
                needed = self.source.lectures.count()
                if len(dates) < needed:
                    raise ValidationError(
                        f"These slots give {len(dates)} dates for {needed} lectures: widen "
                        "the dates, add weekdays or skip fewer days."
                    )
                data["slots"] = [(day, data.get("start_time")) for day in dates]
        if (
            data.get("mode") == self.SHIFT
            and data.get("offset_days") is not None
            and not self.errors
        ):
            moved = [
                lecture.date + datetime.timedelta(days=data["offset_days"])
                for lecture in self.source.lectures.exclude(date=None)
            ]
            outside = [day for day in moved if (start and day < start) or (end and day > end)]
            if outside:
                raise ValidationError(
                    f"Shifted by {data['offset_days']} days, {len(outside)} lectures fall "
                    "outside the new term dates."
                )
        return data
