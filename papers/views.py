import csv
from functools import wraps

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from mlsys_reader.lib.spreadsheet import cell
from papers import services
from papers.bibtex import papers_to_bibtex
from papers.forms import BibtexForm, IdentifiersForm, MergeForm
from papers.models import ImportJob, Paper, Topic

PAPERS_PER_PAGE = 50


def _listed(request, papers):
    """One page of papers for a list page (the abstracts and BibTeX it does not show
    are left in the database); ?page= beyond the last gives the last."""
    papers = papers.with_authors().prefetch_related("topics").defer("abstract", "source_bibtex")
    return Paginator(papers, PAPERS_PER_PAGE).get_page(request.GET.get("page"))


def _search_query(request) -> str:
    return request.GET.get("q", "").strip()[:200]


def paper_list(request):
    query = _search_query(request)
    papers = Paper.objects.search(query) if query else Paper.objects.all()
    page = _listed(request, papers)
    return render(request, "papers/paper_list.html", {"page": page, "query": query})


def paper_detail(request, pk):
    paper = get_object_or_404(
        Paper.objects.with_authors().prefetch_related("topics", "tags"), pk=pk
    )
    # Courses are a later layer (courses -> papers): reach them through the reverse
    # relation without importing the app.
    readings = (
        paper.readings.select_related("lecture__course")
        .filter(lecture__course__in=_visible_courses(request.user))
        .order_by("lecture__course__position", "lecture__date", "lecture__number")
    )
    return render(
        request,
        "papers/paper_detail.html",
        {"paper": paper, "readings": readings, "bibtex": papers_to_bibtex([paper])},
    )


def paper_bibtex(request, pk):
    paper = get_object_or_404(Paper.objects.with_authors(), pk=pk)
    response = HttpResponse(
        papers_to_bibtex([paper]), content_type="application/x-bibtex; charset=utf-8"
    )
    filename = paper.citation_key or f"paper-{paper.pk}"
    response["Content-Disposition"] = content_disposition_header(True, f"{filename}.bib")
    return response


def topic_list(request):
    topics = Topic.objects.annotate(paper_count=Count("papers"))
    return render(request, "papers/topic_list.html", {"topics": topics})


def topic_detail(request, slug):
    topic = get_object_or_404(Topic, slug=slug)
    page = _listed(request, topic.papers.all())
    return render(request, "papers/topic_detail.html", {"topic": topic, "page": page})


def _visible_courses(user):
    # The catalog does not import the courses app (courses depends on papers, not
    # the other way round); the registry hands us the model instead.
    return apps.get_model("courses", "Course").objects.visible_to(user)


# -- staff: imports, duplicates and merging -------------------------------------------


def staff_required(view):
    """Anonymous visitors are sent to the login page; signed-in non-staff get 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


# A job's large JSON documents (a 10,000-entry BibTeX job's items are ~20 MB, its
# preview and report a few MB): loaded only where they are shown. A deferred one is
# read (one query) if the code does use it.
_JOB_DOCUMENTS = ImportJob.DOCUMENTS
# The report page and the CSV show the report, or before the run the preview (see
# services.report_rows): the report comes with the job, the preview only when needed.
_NOT_IN_REPORT = ("items", "preview", "input_text")


@staff_required
def import_list(request):
    jobs = ImportJob.objects.select_related("created_by").defer(*_JOB_DOCUMENTS)[:100]
    return render(request, "papers/import_list.html", {"jobs": jobs})


@csrf_exempt  # (checked by _import_new, once the body is known to be readable)
@staff_required
def import_new(request):
    """A paste too large for a request is said on the form: Django refuses to read such
    a body, and the CSRF check, which reads it, would answer a bare 400 first. Nothing
    is done for such a request but showing the form again."""
    if request.method == "POST":
        try:
            request.POST  # noqa: B018 - reading the body is the check
        except RequestDataTooBig:
            forms = {
                "identifiers": IdentifiersForm(),
                "bibtex": BibtexForm(data={"kind": "bibtex"}, request_too_big=True),
            }
            return render(request, "papers/import_new.html", {"forms": forms}, status=413)
    return _import_new(request)


@csrf_protect
def _import_new(request):
    forms = {"identifiers": IdentifiersForm(), "bibtex": BibtexForm()}
    if request.method == "POST":
        if request.POST.get("kind") == "bibtex":
            kind, form = "bibtex", BibtexForm(request.POST, request.FILES)
        else:
            kind, form = "identifiers", IdentifiersForm(request.POST)
        if form.is_valid():
            job = form.create_job(created_by=request.user)
            services.start_preview(job=job)
            return redirect(job)
        forms[kind] = form
    return render(request, "papers/import_new.html", {"forms": forms})


@staff_required
def import_detail(request, pk):
    # The progress poll (every 2 s) shows none of the documents.
    poll = request.headers.get("HX-Request") == "true"
    job = get_object_or_404(
        ImportJob.objects.select_related("created_by").defer(
            *(_JOB_DOCUMENTS if poll else _NOT_IN_REPORT)
        ),
        pk=pk,
    )
    if poll:
        response = render(request, "papers/import_detail.html#progress", {"job": job})
        if not job.is_in_progress:
            response["HX-Refresh"] = "true"  # show the preview or report in full
        return response
    if job.is_in_progress:
        rows, summary = [], ""
    else:
        rows = services.report_rows(job=job)
        summary = services.summary_line(rows, preview=not job.report)
    return render(
        request, "papers/import_detail.html", {"job": job, "rows": rows, "summary": summary}
    )


@staff_required
@require_POST
def import_confirm(request, pk):
    # An inline run reads the items when it starts; a queued one needs only the id.
    job = get_object_or_404(ImportJob.objects.defer(*_JOB_DOCUMENTS), pk=pk)
    if not services.confirm_import(job=job):
        messages.info(request, "This import was already confirmed.")
    return redirect(job)


@staff_required
def import_csv(request, pk):
    job = get_object_or_404(ImportJob.objects.defer(*_NOT_IN_REPORT), pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}.csv"'
    writer = csv.writer(response)
    writer.writerow(["item", "input", "line", "outcome", "paper_id", "title", "reason"])
    for row in services.report_rows(job=job):
        values = [row["n"], row["input"], row["line"] or "", row["label"], row["paper_id"] or ""]
        writer.writerow([cell(v) for v in [*values, row["title"], row["reason"]]])
    return response


@staff_required
def merge(request, a, b):
    first = get_object_or_404(Paper.objects.with_authors(), pk=a)
    second = get_object_or_404(Paper.objects.with_authors().exclude(pk=a), pk=b)
    form = MergeForm(first, second, request.POST or None)
    if form.is_valid():
        keep = services.merge_papers(**form.merge_arguments(), by=request.user)
        messages.success(request, f"Merged the two papers into #{keep.pk}.")
        return redirect(keep)
    context = {"form": form, "a": first, "b": second, "papers": [first, second]}
    return render(request, "papers/merge.html", {**context, "marker": services.MERGE_MARKER})


@staff_required
@require_POST
def dismiss_duplicate(request, a, b):
    first = get_object_or_404(Paper, pk=a)
    second = get_object_or_404(Paper.objects.exclude(pk=a), pk=b)
    services.dismiss_duplicate(a=first, b=second, by=request.user)
    messages.success(request, f"Recorded #{first.pk} and #{second.pk} as not duplicates.")
    return redirect("admin:papers_possibleduplicate_changelist")


# -- BibTeX exports -------------------------------------------------------------------


def topic_bibtex(request, slug):
    topic = get_object_or_404(Topic, slug=slug)
    return _bibtex_response(topic.papers.with_authors(), filename=f"topic-{topic.slug}")


def search_bibtex(request):
    query = _search_query(request)
    papers = Paper.objects.with_authors()
    if query:
        papers = papers.search(query)
    return _bibtex_response(papers, filename="papers-search" if query else "papers")


def course_bibtex(request, slug):
    course = get_object_or_404(_visible_courses(request.user), slug=slug)
    papers = Paper.objects.assigned_in_course(course).with_authors()
    return _bibtex_response(papers, filename=course.slug)


def lecture_bibtex(request, slug, number):
    course = get_object_or_404(_visible_courses(request.user), slug=slug)
    lecture = get_object_or_404(course.lectures, number=number)
    papers = Paper.objects.assigned_in_lecture(lecture).with_authors()
    return _bibtex_response(papers, filename=f"{course.slug}-lecture-{lecture.number}")


def _bibtex_response(papers, *, filename):
    response = HttpResponse(
        papers_to_bibtex(papers), content_type="application/x-bibtex; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition_header(True, f"{filename}.bib")
    return response
