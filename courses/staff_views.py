"""The instructor and TA pages: course settings, people, schedule, readings, progress
and exports.

Every view under /courses/<slug>/manage/ gets its course from `staff_view`, which logs
in, fetches and authorizes (get_course_for_staff: 404 for a course the user may not
see, 403 for one they may see but not manage, or for a TA changing the staff or
deleting the course), and runs the view in the course's time zone.
"""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from courses import exports, forms
from courses import staff_services as services
from courses.feeds import subscription_urls
from courses.models import Course, Membership, Reading
from papers.models import Paper

Role = Membership.Role
CATALOG_RESULTS = 20


def get_course_for_staff(request, slug, *, change_staff=False):
    """The course with `viewer_role` and `can_change_staff` set, if the user is one of
    its instructors or TAs (or site staff). 404 when the user may not see the course
    at all, 403 when they may see it but not manage it; with change_staff, TAs get
    403 too."""
    user = request.user
    role = Membership.objects.filter(course=OuterRef("pk"), user=user).values("role")[:1]
    course = get_object_or_404(Course.objects.annotate(viewer_role=Subquery(role)), slug=slug)
    if not (user.is_staff or course.is_public or course.viewer_role):
        raise Http404("No such course.")
    allowed = {Role.INSTRUCTOR} if change_staff else {Role.INSTRUCTOR, Role.TA}
    if not (user.is_staff or course.viewer_role in allowed):
        raise PermissionDenied("Only the course's instructors and TAs may do this.")
    course.can_change_staff = user.is_staff or course.viewer_role == Role.INSTRUCTOR
    return course


def staff_view(view=None, *, change_staff=False):
    """Decorator: log in, fetch and authorize the course, run in its time zone."""

    def decorate(view):
        @login_required
        @functools.wraps(view)
        def wrapper(request, slug, **kwargs):
            course = get_course_for_staff(request, slug, change_staff=change_staff)
            with timezone.override(course.tzinfo):
                return view(request, course, **kwargs)

        return wrapper

    return decorate(view) if view else decorate


def get_lecture(course, pk):
    return get_object_or_404(course.lectures.all(), pk=pk)  # lecture.course is `course`


def get_reading(course, pk):
    reading = get_object_or_404(
        Reading.objects.select_related("lecture", "paper"), pk=pk, lecture__course=course
    )
    reading.lecture.course = course
    return reading


def manage_url(name, course, *args):
    return reverse(f"courses:{name}", args=[course.slug, *args])


def show_errors(request, form):
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


# --- Courses ---------------------------------------------------------------------------


@login_required
def teach(request):
    courses = (
        Course.objects.all()
        if request.user.is_staff
        else Course.objects.filter(
            pk__in=Membership.objects.filter(
                user=request.user, role__in=services.STAFF_ROLES
            ).values("course_id")
        )
    ).annotate(
        lecture_count=Count("lectures", distinct=True),
        student_count=Count("memberships", filter=Q(memberships__role=Role.STUDENT), distinct=True),
    )
    return render(request, "courses/staff/teach.html", {"courses": courses})


@login_required
def course_new(request):
    form = forms.CourseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        course = services.course_create(created_by=request.user, **form.cleaned_data)
        messages.success(request, f"Created {course.code} {course.term}. Next: build the schedule.")
        return redirect("courses:manage", course.slug)
    return render(request, "courses/staff/course_form.html", {"form": form})


@staff_view
def manage(request, course):
    lectures = course.lectures.annotate(reading_count=Count("readings")).in_schedule_order()
    counts = dict(course.memberships.values_list("role").annotate(n=Count("pk")).order_by())
    return render(
        request,
        "courses/staff/manage.html",
        {
            "course": course,
            "lectures": lectures,
            "counts": counts,
            "pending_invitations": course.invitations.filter(accepted_at=None).count(),
            "subscriptions": subscription_urls(course),
            "join_link": request.build_absolute_uri(join_link(course)),
        },
    )


def join_link(course):
    """The link a student follows to join (the student pages' URL, issue 4)."""
    return reverse("courses:join_link", args=[course.join_code])


@staff_view
def course_settings(request, course):
    form = forms.CourseForm(request.POST or None, instance=course)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Course settings saved.")
        return redirect("courses:manage", course.slug)
    return render(request, "courses/staff/course_form.html", {"form": form, "course": course})


@require_POST
@staff_view
def regenerate_join_code(request, course):
    code = services.course_regenerate_join_code(course=course)
    messages.success(request, f"New join code: {code}. The old code no longer works.")
    return redirect(manage_url("manage", course) + "#join")


@require_POST
@staff_view
def regenerate_feed_token(request, course):
    services.course_regenerate_feed_token(course=course)
    messages.success(request, "New calendar and feed links; the old ones no longer work.")
    return redirect(manage_url("manage", course) + "#subscribe")


@staff_view(change_staff=True)
def course_delete(request, course):
    form = forms.ConfirmCodeForm(request.POST or None, course=course)
    if request.method == "POST" and form.is_valid():
        label = f"{course.code} {course.term}"
        course.delete()
        messages.success(request, f"Deleted {label}. Students' reviews and notes are kept.")
        return redirect("courses:teach")
    return render(request, "courses/staff/course_delete.html", {"course": course, "form": form})


@staff_view
def course_clone(request, course):
    form = forms.CloneForm(request.POST or None, source=course)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            new = services.course_clone(
                source=course,
                created_by=request.user,
                **{k: data[k] for k in ("code", "title", "term", "starts_on", "ends_on")},
                offset_days=data.get("offset_days") if data["mode"] == form.SHIFT else None,
                slots=data.get("slots"),
            )
        except services.StaffActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Created {new.code} {new.term} from {course.term}.")
            return redirect("courses:manage", new.slug)
    return render(request, "courses/staff/clone.html", {"course": course, "form": form})


# --- People ----------------------------------------------------------------------------


@staff_view
def people(request, course):
    return render_people(request, course)


def render_people(request, course, enrol_form=None, staff_form=None):
    members = course.memberships.select_related("user").order_by(
        "user__last_name", "user__first_name", "user__email"
    )
    return render(
        request,
        "courses/staff/people.html",
        {
            "course": course,
            "staff": [m for m in members if m.role != Role.STUDENT],
            "students": [m for m in members if m.role == Role.STUDENT],
            "invitations": course.invitations.filter(accepted_at=None).order_by("email"),
            "enrol_form": enrol_form or forms.EmailListForm(),
            "staff_form": staff_form or forms.StaffAddForm(),
        },
    )


def _add_people(request, course, form, role):
    try:
        report = services.enrol_by_email(
            course=course,
            emails=form.cleaned_data["emails"],
            role=role,
            invited_by=request.user,
            signup_url=request.build_absolute_uri(reverse("signup")),
        )
    except services.StaffActionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, report.summary(Role(role).label.lower()))
    return redirect("courses:manage_people", course.slug)


@require_POST
@staff_view
def enrol(request, course):
    form = forms.EmailListForm(request.POST)
    if not form.is_valid():
        return render_people(request, course, enrol_form=form)
    return _add_people(request, course, form, Role.STUDENT)


@require_POST
@staff_view(change_staff=True)
def add_staff(request, course):
    form = forms.StaffAddForm(request.POST)
    if not form.is_valid():
        return render_people(request, course, staff_form=form)
    return _add_people(request, course, form, form.cleaned_data["role"])


@staff_view
def member_remove(request, course, pk):
    membership = get_object_or_404(course.memberships.select_related("user"), pk=pk)
    if membership.role != Role.STUDENT and not course.can_change_staff:
        raise PermissionDenied("Only instructors may change the course staff.")
    if request.method == "POST":
        try:
            services.membership_remove(membership=membership)
        except services.StaffActionError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Removed {membership.user.display_name} from the course.")
        return redirect("courses:manage_people", course.slug)
    return render(
        request, "courses/staff/member_remove.html", {"course": course, "membership": membership}
    )


@require_POST
@staff_view
def invitation_cancel(request, course, pk):
    invitation = get_object_or_404(course.invitations, pk=pk, accepted_at=None)
    if invitation.role != Role.STUDENT and not course.can_change_staff:
        raise PermissionDenied("Only instructors may change the course staff.")
    invitation.delete()
    messages.success(request, f"Cancelled the invitation of {invitation.email}.")
    return redirect("courses:manage_people", course.slug)


# --- Schedule --------------------------------------------------------------------------


@staff_view
def lectures(request, course):
    lectures = list(course.lectures.annotate(reading_count=Count("readings")).in_schedule_order())
    for lecture in lectures:
        lecture.course = course
    return render(request, "courses/staff/lectures.html", {"course": course, "lectures": lectures})


@staff_view
def lecture_new(request, course):
    form = forms.LectureForm(request.POST or None, course=course)
    if request.method == "POST" and form.is_valid():
        lecture = form.save()
        messages.success(request, f"Added lecture {lecture.number}: {lecture.title}.")
        return redirect("courses:manage_lecture", course.slug, lecture.pk)
    return render(request, "courses/staff/lecture_form.html", {"course": course, "form": form})


@staff_view
def lecture_edit(request, course, pk):
    lecture = get_lecture(course, pk)
    form = forms.LectureForm(request.POST or None, instance=lecture, course=course)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Saved lecture {lecture.number}.")
        return redirect("courses:manage_lecture", course.slug, lecture.pk)
    return render(
        request,
        "courses/staff/lecture_form.html",
        {"course": course, "form": form, "lecture": lecture},
    )


@staff_view
def lecture_delete(request, course, pk):
    lecture = get_lecture(course, pk)
    if request.method == "POST":
        lecture.delete()
        messages.success(request, f"Deleted lecture {lecture.number}: {lecture.title}.")
        return redirect("courses:manage_lectures", course.slug)
    readings = lecture.readings.select_related("paper")
    return render(
        request,
        "courses/staff/lecture_delete.html",
        {"course": course, "lecture": lecture, "readings": readings},
    )


@require_POST
@staff_view
def lecture_move(request, course, pk):
    lecture = get_lecture(course, pk)
    form = forms.MoveForm(request.POST)
    if form.is_valid():
        services.lecture_move(lecture=lecture, direction=form.cleaned_data["direction"])
    return redirect(manage_url("manage_lectures", course) + f"#lecture-{lecture.pk}")


@staff_view
def lectures_generate(request, course):
    form = forms.SlotsForm(request.POST or None, course=course)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = services.lectures_generate(
                course=course,
                dates=data["dates"],
                start_time=data["start_time"],
                duration_minutes=data["duration_minutes"],
            )
        except services.StaffActionError as error:
            form.add_error(None, str(error))
        else:
            skipped = len(data["dates"]) - len(created)
            note = f" ({skipped} date{'s' if skipped > 1 else ''} already had a lecture)"
            messages.success(
                request, f"Added {len(created)} lecture slots{note if skipped else ''}."
            )
            return redirect("courses:manage_lectures", course.slug)
    return render(request, "courses/staff/lectures_generate.html", {"course": course, "form": form})


@staff_view
def lectures_import(request, course):
    form = forms.ScheduleCsvForm(request.POST or None, course=course)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = services.lectures_append(
                course=course,
                rows=[(row.date, row.title) for row in data["rows"]],
                start_time=data["start_time"],
                duration_minutes=data["duration_minutes"],
            )
        except services.StaffActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Imported {len(created)} lectures.")
            return redirect("courses:manage_lectures", course.slug)
    return render(request, "courses/staff/lectures_import.html", {"course": course, "form": form})


# --- Readings --------------------------------------------------------------------------


def catalog_results(course, lecture, query):
    """Catalog papers matching the query, each marked when already a reading here."""
    if not query:
        return []
    papers = list(Paper.objects.search(query).with_authors()[:CATALOG_RESULTS])
    attached = set(lecture.readings.values_list("paper_id", flat=True))
    for paper in papers:
        paper.attached = paper.pk in attached
    return papers


@staff_view
def lecture(request, course, pk):
    return render_lecture(request, course, get_lecture(course, pk))


def render_lecture(request, course, lecture, import_form=None):
    search = forms.CatalogSearchForm(request.GET)
    query = search.cleaned_data["q"].strip() if search.is_valid() else ""
    context = {
        "course": course,
        "lecture": lecture,
        "search_form": search,
        "query": query,
        "results": catalog_results(course, lecture, query),
    }
    if request.headers.get("HX-Request"):
        return render(request, "courses/staff/lecture.html#catalog-results", context)
    readings = list(lecture.readings.select_related("paper").order_by("-required", "order", "pk"))
    for index, reading in enumerate(readings):
        before = readings[index - 1] if index else None
        after = readings[index + 1] if index + 1 < len(readings) else None
        reading.can_move_up = before is not None and before.required == reading.required
        reading.can_move_down = after is not None and after.required == reading.required
    context.update(readings=readings, import_form=import_form or forms.ReadingImportForm())
    return render(request, "courses/staff/lecture.html", context)


@require_POST
@staff_view
def reading_add(request, course, pk):
    lecture = get_lecture(course, pk)
    form = forms.ReadingAddForm(request.POST)
    if not form.is_valid():
        show_errors(request, form)
    else:
        try:
            reading = services.reading_add(
                lecture=lecture,
                paper=form.cleaned_data["paper"],
                required=form.cleaned_data["required"],
            )
        except services.StaffActionError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Added “{reading.paper.title}”.")
    return redirect(manage_url("manage_lecture", course, lecture.pk) + "#readings")


@require_POST
@staff_view
def reading_import(request, course, pk):
    lecture = get_lecture(course, pk)
    form = forms.ReadingImportForm(request.POST)
    if form.is_valid():
        try:
            result = services.reading_import_and_add(
                lecture=lecture, added_by=request.user, **form.cleaned_data
            )
        except services.StaffActionError as error:
            form.add_error("text", str(error))
        else:
            messages.success(request, result.message)
            return redirect(manage_url("manage_lecture", course, lecture.pk) + "#readings")
    return render_lecture(request, course, lecture, import_form=form)


@require_POST
@staff_view
def readings_reorder(request, course, pk):
    lecture = get_lecture(course, pk)
    form = forms.ReorderForm(request.POST)
    try:
        if not form.is_valid():
            raise services.StaffActionError(" ".join(form.errors.get("order", [])))
        services.readings_reorder(lecture=lecture, reading_ids=form.cleaned_data["order"])
    except services.StaffActionError as error:
        # (also for the script, which reloads the page: the message is shown there)
        messages.error(request, f"The order was not saved: {error}")
        if request.headers.get("X-Requested-With") == "fetch":
            return HttpResponse(str(error), status=409, content_type="text/plain")
    if request.headers.get("X-Requested-With") == "fetch":
        return HttpResponse(status=204)
    return redirect(manage_url("manage_lecture", course, lecture.pk) + "#readings")


@staff_view
def reading(request, course, pk):
    reading = get_reading(course, pk)
    form = forms.ReadingForm(request.POST or None, instance=reading)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Saved “{reading.paper.title}”.")
        return redirect(manage_url("manage_lecture", course, reading.lecture_id) + "#readings")
    return render(
        request,
        "courses/staff/reading.html",
        {
            "course": course,
            "reading": reading,
            "form": form,
            "transfer_form": forms.ReadingTransferForm(reading=reading),
        },
    )


@require_POST
@staff_view
def reading_move(request, course, pk):
    reading = get_reading(course, pk)
    form = forms.MoveForm(request.POST)
    if form.is_valid():
        services.reading_move(reading=reading, direction=form.cleaned_data["direction"])
    return redirect(
        manage_url("manage_lecture", course, reading.lecture_id) + f"#reading-{reading.pk}"
    )


@require_POST
@staff_view
def reading_transfer(request, course, pk):
    reading = get_reading(course, pk)
    origin = reading.lecture
    form = forms.ReadingTransferForm(request.POST, reading=reading)
    if not form.is_valid():
        show_errors(request, form)
        return redirect("courses:manage_reading", course.slug, reading.pk)
    try:
        services.reading_transfer(reading=reading, lecture=form.cleaned_data["lecture"])
    except services.StaffActionError as error:
        messages.error(request, str(error))
        return redirect("courses:manage_reading", course.slug, reading.pk)
    target = form.cleaned_data["lecture"]
    messages.success(request, f"Moved “{reading.paper.title}” to lecture {target.number}.")
    return redirect(manage_url("manage_lecture", course, origin.pk) + "#readings")


@require_POST
@staff_view
def reading_remove(request, course, pk):
    reading = get_reading(course, pk)
    reading.delete()
    messages.success(
        request, f"Removed “{reading.paper.title}” from lecture {reading.lecture.number}."
    )
    return redirect(manage_url("manage_lecture", course, reading.lecture_id) + "#readings")


# --- Running the term ------------------------------------------------------------------


@staff_view
def lecture_progress(request, course, pk):
    lecture = get_lecture(course, pk)
    table = services.lecture_table(lecture=lecture)
    return render(
        request,
        "courses/staff/lecture_progress.html",
        {"course": course, "lecture": lecture, "table": table, "statuses": services.ReviewStatus},
    )


@staff_view
def student(request, course, user_id):
    membership = get_object_or_404(
        course.memberships.select_related("user"), user_id=user_id, role=Role.STUDENT
    )
    progress = services.student_progress(course=course, membership=membership)
    return render(
        request,
        "courses/staff/student.html",
        {"course": course, "progress": progress, "statuses": services.ReviewStatus},
    )


@staff_view
def paper(request, course, paper_id):
    paper = get_object_or_404(Paper.objects.with_authors(), pk=paper_id)
    lecture = course.lectures.filter(readings__paper=paper).in_schedule_order().first()
    if lecture is None:
        raise Http404("This paper is not a reading of the course.")
    summary = services.paper_reviews(course=course, lecture=lecture, paper=paper)
    return render(
        request,
        "courses/staff/paper.html",
        {"course": course, "paper": paper, "lecture": lecture, "summary": summary},
    )


def download(body, content_type, filename):
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@staff_view
def export_progress(request, course):
    return download(
        exports.progress_csv(course=course),
        "text/csv; charset=utf-8",
        f"{course.slug}-progress.csv",
    )


@staff_view
def export_lecture_reviews(request, course, pk):
    lecture = get_lecture(course, pk)
    return download(
        exports.lecture_reviews_markdown(lecture=lecture),
        "text/markdown; charset=utf-8",
        f"{course.slug}-lecture-{lecture.number}-reviews.md",
    )


@staff_view
def export_bibtex(request, course):
    return download(
        exports.course_bibtex(course=course),
        "application/x-bibtex; charset=utf-8",
        f"{course.slug}-readings.bib",
    )
