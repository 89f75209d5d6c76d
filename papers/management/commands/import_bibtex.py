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
            if dry_run:
                # The preview's job stores the records, for its confirmation later.
                read = services.read_bibtex_upload(data=data, filename=path.name)
                found = bool(read.records or read.errors)
            else:
                # A run at once reads the entries into records as it imports them.
                parsed = services.parse_bibtex_upload(data=data, filename=path.name)
                found = bool(parsed.entries or parsed.errors)
        except services.BibtexRefused as exc:
            raise CommandError(f"{file}: {exc}") from None
        if not found:
            raise CommandError(f"{file}: no BibTeX entries found")
        if dry_run:
            job = services.create_bibtex_job(
                records=read.records, errors=read.errors, filename=path.name
            )
            del read
        else:
            job = services.create_bibtex_run(parsed=parsed, filename=path.name)
            del parsed
        report_and_exit(self, services.import_now(job=job, dry_run=dry_run))
