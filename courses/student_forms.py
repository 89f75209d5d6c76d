from django import forms

from courses.checklist import MAX_ANSWER_CHARS, QUESTIONS, RATINGS
from courses.models import ReadingProgress


class JoinForm(forms.Form):
    code = forms.CharField(
        label="Join code",
        max_length=32,
        help_text="The code your instructor shared, e.g. k7m2qp9xwe.",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )


class TextAnswerField(forms.CharField):
    """Text from a textarea, its line breaks as \\n: browsers send \\r\\n but count one
    character in `maxlength`, so a text they let through would otherwise be over the
    limit here."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n") if isinstance(value, str) else value


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=ReadingProgress.Status.choices)


class NoteForm(forms.Form):
    note = TextAnswerField(
        label="Private note",
        required=False,
        max_length=MAX_ANSWER_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Only you can see this note.",
    )


class ReviewForm(forms.Form):
    """The checklist questions (Markdown answers) and the ratings, all optional until
    the review is submitted; `version` detects a save from a stale page."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for question in QUESTIONS:
            self.fields[question.key] = TextAnswerField(
                label=question.text,
                help_text=question.hint,
                required=False,
                max_length=MAX_ANSWER_CHARS,
                strip=False,
                widget=forms.Textarea(attrs={"rows": 4, "class": "review-answer"}),
                error_messages={
                    "max_length": (
                        f"This answer is %(show_value)d characters long; the limit is "
                        f"{MAX_ANSWER_CHARS:,}. Please shorten it."
                    )
                },
            )
        for rating in RATINGS:
            self.fields[rating.field] = forms.TypedChoiceField(
                label=rating.label,
                required=False,
                coerce=int,
                empty_value=None,
                choices=[(n, str(n)) for n in range(rating.minimum, rating.maximum + 1)],
                widget=forms.RadioSelect(attrs={"class": "rating"}),
            )

    @classmethod
    def initial_for(cls, review):
        if review is None:
            return {"version": 0}
        initial = {"version": review.version, **review.answers}
        for rating in RATINGS:
            initial[rating.field] = getattr(review, rating.field)
        return initial

    def answers(self):
        return {q.key: self.cleaned_data.get(q.key, "") for q in QUESTIONS}

    def ratings(self):
        return {r.field: self.cleaned_data.get(r.field) for r in RATINGS}

    def question_fields(self):
        return [self[q.key] for q in QUESTIONS]

    def rating_fields(self):
        return [self[r.field] for r in RATINGS]
