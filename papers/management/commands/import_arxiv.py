"""`manage.py import_arxiv ID_OR_URL... [--dry-run]`: import papers from arXiv."""

from django.core.management.base import BaseCommand, CommandError

from papers import services
from papers.models import ImportJob


class Command(BaseCommand):
    help = (
        "Import papers by arXiv id or abs/pdf URL (2106.09685, arXiv:2106.09685v2, "
        "cs/0112017, https://arxiv.org/abs/...). Prints a report line per item and exits "
        "with status 1 when any item failed."
    )
    kind = ImportJob.Kind.ARXIV
    metavar = "ID_OR_URL"
    wrong_kind = "not an arXiv id or URL"

    def add_arguments(self, parser):
        parser.add_argument("identifiers", nargs="+", metavar=self.metavar)
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only show what the import would do (the job stays open for confirmation).",
        )

    def handle(self, *args, identifiers, dry_run=False, **options):
        text = "\n".join(identifiers)
        wrong = [i.input for i in services.parse_identifiers(text=text) if not self.accepts(i)]
        if wrong:
            raise CommandError(f"{self.wrong_kind}: {', '.join(wrong)}")
        job = services.create_identifier_job(text=text, kind=self.kind)
        report_and_exit(self, services.import_now(job=job, dry_run=dry_run))

    def accepts(self, identifier: services.Identifier) -> bool:
        return identifier.kind == "arxiv"


def report_and_exit(command: BaseCommand, job: ImportJob) -> None:
    """Print the job's per-item report; exit with status 1 when any item failed."""
    for line in services.format_report(job):
        command.stdout.write(line)
    failed = services.failed_items(job)
    if job.status == ImportJob.Status.FAILED:
        raise CommandError(job.error, returncode=1)
    if failed:
        raise CommandError(f"{failed} of {job.total} items failed", returncode=1)
