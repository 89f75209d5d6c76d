"""`manage.py import_doi DOI... [--dry-run]`: import papers by DOI."""

from papers import services
from papers.management.commands import import_arxiv
from papers.models import ImportJob
from papers.normalize import normalize_doi


class Command(import_arxiv.Command):
    help = (
        "Import papers by DOI (10.1145/..., doi:10.1145/..., https://doi.org/10.1145/...). "
        "Prints a report line per item and exits with status 1 when any item failed."
    )
    kind = ImportJob.Kind.DOI
    metavar = "DOI"
    wrong_kind = "not a DOI"

    def accepts(self, identifier: services.Identifier) -> bool:
        # arXiv's own DataCite DOIs (10.48550/arXiv.…) are DOIs too: imported from arXiv.
        return identifier.kind == "doi" or normalize_doi(identifier.input) is not None
