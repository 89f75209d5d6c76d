from django.apps import apps
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from papers.bibtex import papers_to_bibtex
from papers.models import Paper, Topic


def paper_list(request):
    query = request.GET.get("q", "").strip()[:200]
    papers = Paper.objects.with_authors().prefetch_related("topics")
    if query:
        papers = papers.search(query)
    return render(request, "papers/paper_list.html", {"papers": papers, "query": query})


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
    response["Content-Disposition"] = f'attachment; filename="{filename}.bib"'
    return response


def topic_list(request):
    topics = Topic.objects.annotate(paper_count=Count("papers"))
    return render(request, "papers/topic_list.html", {"topics": topics})


def topic_detail(request, slug):
    topic = get_object_or_404(Topic, slug=slug)
    papers = topic.papers.with_authors().prefetch_related("topics")
    return render(request, "papers/topic_detail.html", {"topic": topic, "papers": papers})


def _visible_courses(user):
    # The catalog does not import the courses app (courses depends on papers, not
    # the other way round); the registry hands us the model instead.
    return apps.get_model("courses", "Course").objects.visible_to(user)
