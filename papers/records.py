"""The shape every importer produces: one PaperRecord per paper, whatever its source.

Fetchers (arXiv Atom, Crossref JSON, DOI content negotiation, BibTeX files) turn their
input into PaperRecord values; the import service matches records to the catalog and
writes them. Keeping this boundary plain data lets each side be tested alone.
"""

import datetime
from dataclasses import dataclass, field


@dataclass
class PaperRecord:
    title: str
    authors: list[str] = field(default_factory=list)  # display form, "Given Family", in order
    organisations: set[int] = field(default_factory=set)  # indexes of corporate authors
    more_authors: bool = False  # the source said "and others" / "et al."
    year: int | None = None
    venue: str = ""
    entry_type: str = "misc"  # Paper.EntryType value
    abstract: str = ""
    arxiv_id: str | None = None  # base id, no version
    arxiv_version: int | None = None
    arxiv_primary_category: str = ""
    arxiv_comment: str = ""
    journal_ref: str = ""
    published_on: datetime.date | None = None
    revised_on: datetime.date | None = None
    doi: str | None = None  # lower case, no prefix
    url: str = ""
    pdf_url: str = ""
    source_bibtex: str = ""  # the fetched/uploaded entry, verbatim
    citation_key: str = ""  # the key the source used, if any
    source: str = "manual"  # Paper.Source value


@dataclass
class ItemError:
    """Why one input item could not become a record (shown to the user as is)."""

    input: str
    reason: str
    line: int | None = None  # for BibTeX: the line where the failed block starts
    excerpt: str = ""
