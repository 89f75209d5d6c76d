"""What a student does: join a course, see the dashboard, track reading, review papers."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from courses import services
from courses.checklist import QUESTIONS, RATINGS
from courses.markdown import render_markdown, word_count
from courses.models import Course, Membership, Review
from courses.progress import memberships_of, student_overview, up_next
from courses.reviews import review_markdown, reviews_visible_to_peer
from courses.student_forms import JoinForm, NoteForm, ReviewForm, StatusForm
from courses.views import get_course_for_viewer
from papers.models import Paper


def _safe_next(request, default):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _is_htmx(request):
    return request.headers.get("HX-Request") == "true"


@login_required
def dashboard(request):
    now = timezone.now()
    memberships = memberships_of(request.user)
    overview = student_overview(request.user, now=now, memberships=memberships)
    teaching = [m.course for m in memberships if m.role != Membership.Role.STUDENT]
    context = {
        "overview": overview,
        "up_next": up_next(overview, now=now),
        "teaching": teaching,
        "now": now,
    }
    return render(request, "courses/student/dashboard.html", context)


@login_required
def join(request):
    form = JoinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return _join(request, code=form.cleaned_data["code"], form=form)
    return render(request, "courses/student/join.html", {"form": form})


@login_required
def join_link(request, code):
    """A join link an instructor shared: confirm with one click (GET never joins)."""
    course = Course.objects.filter(join_code=code).first()
    if request.method == "POST":
        return _join(request, code=code, form=JoinForm({"code": code}))
    if course is None:
        messages.error(
            request,
            "This join link is not valid any more. Ask your instructor for the current one.",
        )
        return redirect("courses:join")
    already = Membership.objects.filter(user=request.user, course=course).exists()
    return render(request, "courses/student/join_link.html", {"course": course, "already": already})


@login_required
@require_POST
def join_course(request, slug):
    course = get_course_for_viewer(request.user, slug)
    return _join(request, code=request.POST.get("code", ""), form=None, course=course)


def _join(request, *, code, form, course=None):
    try:
        membership, created = services.join_course(user=request.user, code=code, course=course)
    except services.JoinRefused as refused:
        if form is not None:
            form.add_error("code", str(refused))
            return render(request, "courses/student/join.html", {"form": form}, status=400)
        messages.error(request, str(refused))
        return redirect(course)
    course = membership.course
    if created:
        messages.success(request, f"You joined {course.code} {course.title} ({course.term}).")
    else:
        messages.info(request, f"You are already a member of {course.code} ({course.term}).")
    return redirect(course)


@login_required
@require_POST
def set_status(request, paper_id):
    paper = get_object_or_404(Paper, pk=paper_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Unknown reading status.", status=400)
    progress = services.set_reading_status(
        user=request.user, paper=paper, status=form.cleaned_data["status"]
    )
    if _is_htmx(request):
        context = {
            "paper_id": paper.pk,
            "status": progress.status,
            "next_url": _safe_next(request, ""),
            "id_prefix": "upnext-status"
            if request.POST.get("id_prefix") == "upnext-status"
            else "",
        }
        return render(request, "courses/student/_controls.html#status-control", context)
    messages.success(request, f"“{paper.title}”: {progress.get_status_display().lower()}.")
    return redirect(_safe_next(request, paper.get_absolute_url()))


@login_required
@require_POST
def save_note(request, paper_id):
    paper = get_object_or_404(Paper, pk=paper_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.save_note(user=request.user, paper=paper, note=form.cleaned_data["note"])
        messages.success(request, "Your private note is saved.")
    else:
        messages.error(request, " ".join(form.errors["note"]))
    return redirect(_safe_next(request, paper.get_absolute_url()))


@login_required
def review(request, paper_id):
    paper = get_object_or_404(Paper.objects.with_authors(), pk=paper_id)
    lecture = services.assigning_lecture(user=request.user, paper=paper)
    existing = Review.objects.filter(author=request.user, paper=paper).first()
    form = ReviewForm(request.POST or None, initial=ReviewForm.initial_for(existing))
    if request.method == "POST" and form.is_valid():
        submit = "submit" in request.POST
        try:
            saved = services.save_review(
                author=request.user,
                paper=paper,
                answers=form.answers(),
                ratings=form.ratings(),
                expected_version=form.cleaned_data["version"] or None,
                submit=submit,
                lecture=lecture,
            )
        except services.ReviewRefused as refused:
            if getattr(refused, "review", None) is not None:  # the draft was saved
                messages.error(request, str(refused))
                return redirect("courses:review", paper_id=paper.pk)
            # Nothing saved: show the form again with what the student typed. After a
            # conflict it carries the saved version's number, so that saving again
            # (deliberately) replaces the other tab's text with this one.
            status = 400
            if isinstance(refused, services.StaleReview):
                status = 409
                existing = Review.objects.filter(author=request.user, paper=paper).first()
                if existing is not None:
                    data = request.POST.copy()
                    data["version"] = str(existing.version)
                    form = ReviewForm(data, initial=ReviewForm.initial_for(existing))
                    form.is_valid()
            context = _review_context(form, paper, existing, lecture, error=str(refused))
            return render(request, "courses/student/review_form.html", context, status=status)
        submitted = submit and saved.status == Review.Status.SUBMITTED
        messages.success(request, "Your review is submitted." if submitted else "Draft saved.")
        return redirect("courses:review", paper_id=paper.pk)
    context = _review_context(form, paper, existing, lecture)
    return render(request, "courses/student/review_form.html", context)


def _review_context(form, paper, review, lecture, error=None):
    deadline = lecture.effective_review_deadline if lecture else None
    answers = review.answers if review else {}
    missing = services.missing_answers(
        answers, {r.field: getattr(review, r.field) for r in RATINGS} if review else {}
    )
    labels = {q.key: q.text for q in QUESTIONS} | {r.field: r.label for r in RATINGS}
    total = len(QUESTIONS) + len(RATINGS)
    return {
        "form": form,
        "paper": paper,
        "review": review,
        "lecture": lecture,
        "deadline": deadline,
        "past_deadline": deadline is not None and timezone.now() > deadline,
        "late_allowed": lecture is None or lecture.course.allow_late_reviews,
        "missing_labels": [labels[key] for key in missing] if review else [],
        "complete_count": total - len(missing),
        "total_count": total,
        "words": sum(word_count(text) for text in answers.values()),
        "error": error,
        "rendered": [(q, render_markdown(answers.get(q.key, ""))) for q in QUESTIONS]
        if review
        else [],
    }


@login_required
def my_reviews(request):
    reviews = (
        Review.objects.filter(author=request.user)
        .select_related("paper")
        .order_by("-updated_at", "-pk")
    )
    lectures = services.assigning_lectures(
        user=request.user, paper_ids=[review.paper_id for review in reviews]
    )
    rows = [(review, lectures.get(review.paper_id)) for review in reviews]
    context = {"rows": rows, "now": timezone.now()}
    return render(request, "courses/student/my_reviews.html", context)


@login_required
def review_download(request, paper_id):
    review = get_object_or_404(
        Review.objects.select_related("paper"), author=request.user, paper_id=paper_id
    )
    return _markdown_response([review], f"review-{review.paper.citation_key or review.paper.pk}.md")


@login_required
def reviews_download(request):
    reviews = (
        Review.objects.filter(author=request.user).select_related("paper").order_by("paper__title")
    )
    return _markdown_response(list(reviews), "my-reviews.md")


def _markdown_response(reviews, filename):
    text = "\n\n---\n\n".join(review_markdown(review) for review in reviews)
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
def peer_reviews(request, slug, paper_id):
    """Submitted reviews of classmates, when the course's policy shows them."""
    course = get_course_for_viewer(request.user, slug)
    if course.viewer_role is None:
        raise Http404("Only members of the course see its reviews.")
    # (distinct: a paper may be read in two lectures of the course)
    assigned = Paper.objects.with_authors().filter(readings__lecture__course=course).distinct()
    paper = get_object_or_404(assigned, pk=paper_id)
    visible, reason = reviews_visible_to_peer(course=course, paper=paper, viewer=request.user)
    return render(
        request,
        "courses/student/peer_reviews.html",
        {"course": course, "paper": paper, "reviews": visible, "reason": reason},
    )
