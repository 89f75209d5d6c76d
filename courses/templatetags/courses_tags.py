from django import template

register = template.Library()

CELL = 14  # px: a 12 px square and a 2 px gap


@register.filter
def strip_x(index):
    """x position of a lecture's cell in the dashboard's term strip."""
    return int(index) * CELL


@register.filter
def strip_width(count):
    return max(int(count) * CELL - 2, 1)


@register.filter
def rendered_answers(review):
    """[(question, safe HTML)] for a review's checklist answers."""
    from courses.checklist import QUESTIONS
    from courses.markdown import render_markdown

    return [(q, render_markdown((review.answers or {}).get(q.key, ""))) for q in QUESTIONS]


@register.inclusion_tag("courses/student/_paper_reader.html", takes_context=True)
def reader_panel(context, paper):
    """The viewer's own reading status, private note and review link for a paper:
    shown on the paper page, which belongs to the catalog app."""
    from courses.models import ReadingProgress, Review
    from courses.student_forms import NoteForm

    request = context["request"]
    user = request.user
    panel = {"paper": paper, "request": request, "user": user}
    if user.is_authenticated:
        progress = ReadingProgress.objects.filter(user=user, paper=paper).first()
        review = Review.objects.filter(author=user, paper=paper).only("status").first()
        panel.update(
            status=progress.status if progress else ReadingProgress.Status.TO_READ,
            # (the form the note is saved with: its label, help and length limit)
            note_form=NoteForm(
                initial={"note": progress.note if progress else ""}, auto_id="private-%s"
            ),
            review_state=review.status if review else "none",
        )
    return panel
