"""`manage.py export_bibtex [--course SLUG] [--topic SLUG] [--output FILE]`."""

from pathlib import Path

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from papers.bibtex import papers_to_bibtex
from papers.models import Paper, Topic


class Command(BaseCommand):
    help = (
        "Write the catalog as BibTeX: every paper, or those a course assigns (--course) "
        "and/or of a topic (--topic); to standard output or --output FILE."
    )

    def add_arguments(self, parser):
        parser.add_argument("--course", metavar="SLUG", help="Only the papers this course assigns.")
        parser.add_argument("--topic", metavar="SLUG", help="Only the papers of this topic.")
        parser.add_argument("--output", metavar="FILE", help="Write here instead of stdout.")

    def handle(self, *args, course=None, topic=None, output=None, **options):
        papers = Paper.objects.order_by("pk")
        if course:
            # papers sits below courses: reach the model through the app registry.
            course_model = apps.get_model("courses", "Course")
            found = course_model.objects.filter(slug=course).first()
            if found is None:
                raise CommandError(f"no course with the slug {course!r}")
            papers = papers.assigned_in_course(found)
        if topic:
            found = Topic.objects.filter(slug=topic).first()
            if found is None:
                raise CommandError(f"no topic with the slug {topic!r}")
            papers = papers.filter(topics=found)
        papers = list(papers.with_authors())
        text = papers_to_bibtex(papers)
        if output:
            try:
                Path(output).write_text(text, encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from None
            self.stderr.write(f"{len(papers)} papers written to {output}")
        else:
            self.stdout.write(text, ending="")
