"""Reading reviews: who may see whose, and the Markdown export."""

from django.utils import timezone

from courses.checklist import QUESTIONS, RATINGS
from courses.models import Course, Lecture, Membership, Review


def reviews_visible_to_peer(*, course: Course, paper, viewer):
    """(reviews, reason): classmates' submitted reviews of `paper` that `viewer` may
    read under the course's policy, and a sentence explaining what they see. Drafts
    and private notes are never visible to anyone but their author."""
    own = Review.objects.filter(author=viewer, paper=paper).first()
    policy = course.review_visibility
    if policy == Course.ReviewVisibility.NEVER:
        return [], "In this course, reviews are seen by the teaching staff only."
    if policy == Course.ReviewVisibility.AFTER_OWN and not (
        own and own.status == Review.Status.SUBMITTED
    ):
        return [], "Submit your own review to see your classmates' reviews."
    if policy == Course.ReviewVisibility.AFTER_DEADLINE:
        lectures = Lecture.objects.filter(course=course, readings__paper=paper).select_related(
            "course"
        )
        deadlines = [
            lec.effective_review_deadline for lec in lectures if lec.effective_review_deadline
        ]
        # A paper read in two lectures is due by the later deadline (see
        # services.assigning_lectures): until it passes, a review may still be written.
        if not deadlines or timezone.now() <= max(deadlines):
            return [], "Classmates' reviews become visible after the review deadline."
    students = Membership.objects.filter(course=course, role=Membership.Role.STUDENT).values(
        "user_id"
    )
    reviews = (
        Review.objects.filter(paper=paper, status=Review.Status.SUBMITTED, author__in=students)
        .exclude(author=viewer)
        .select_related("author")
        .order_by("submitted_at")
    )
    return list(reviews), ""


def review_markdown(review: Review) -> str:
    """One review as a Markdown document: the checklist answers and the ratings."""
    paper = review.paper
    lines = [f"# Review: {paper.title}", ""]
    if paper.year or paper.venue:
        lines += [", ".join(str(x) for x in (paper.venue, paper.year) if x), ""]
    status = review.get_status_display()
    if review.submitted_at:
        stamp = timezone.localtime(review.submitted_at).strftime("%Y-%m-%d %H:%M %Z")
        status += f" on {stamp}"
    lines += [f"Status: {status}", ""]
    for question in QUESTIONS:
        answer = (review.answers or {}).get(question.key, "").strip()
        lines += [f"## {question.text}", "", answer or "_(no answer)_", ""]
    lines += ["## Ratings", ""]
    for rating in RATINGS:
        value = getattr(review, rating.field)
        lines.append(f"- {rating.label}: {value if value is not None else '—'} / {rating.maximum}")
    return "\n".join(lines).rstrip() + "\n"
