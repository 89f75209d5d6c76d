"""`manage.py import_bibtex FILE [--dry-run]`: import the entries of a BibTeX file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from papers import services
from papers.management.commands.import_arxiv import report_and_exit


class Command(BaseCommand):
    help = (
        "Import the entries of a BibTeX file. Prints a report line per entry (and per block "
        "that could not be parsed) and exits with status 1 when any item failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only show what the import would do (the job stays open for confirmation).",
        )

    def handle(self, *args, file, dry_run=False, **options):
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror or exc}") from None
        try:
            result = services.read_bibtex_upload(data=data, filename=path.name)
        except services.BibtexRefused as exc:
            raise CommandError(f"{file}: {exc}") from None
        if not result.records and not result.errors:
            raise CommandError(f"{file}: no BibTeX entries found")
        # A run at once keeps the records in memory only; a dry run's job stores them
        # for its confirmation later.
        job = services.create_bibtex_job(
            records=result.records,
            errors=result.errors,
            filename=path.name,
            keep_records=dry_run,
        )
        del result
        report_and_exit(self, services.import_now(job=job, dry_run=dry_run))
