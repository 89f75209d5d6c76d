"""Paper metadata for a DOI, as a PaperRecord.

Most DOIs of papers are Crossref's: the works API at CROSSREF_API_URL has the richest
record (abstracts, print and online dates). A DOI Crossref does not know is asked of
DataCite, which registers arXiv's own DOIs (10.48550/arXiv.*), Zenodo's and most
data sets; then DOI content negotiation at DOI_RESOLVER_URL (CSL-JSON) is tried,
which only answers when the resolver hands the request to one of the metadata hosts
the HTTP client allows (Crossref's and DataCite's): a DOI of another registration
agency (mEDRA, say) is reported as offering no metadata. For non-Crossref DOIs the
agency's BibTeX is kept as the reference copy (`Accept: application/x-bibtex`).
"""

import datetime
import logging
import re
from html.parser import HTMLParser
from urllib.parse import quote

from django.conf import settings

from mlsys_reader.lib import http
from papers.normalize import normalize_doi, parse_arxiv_id
from papers.records import PaperRecord

logger = logging.getLogger(__name__)

CSL_JSON = "application/vnd.citationstyles.csl+json"
BIBTEX = "application/x-bibtex"
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(?P<id>.+)$")

# Crossref work types, CSL types (content negotiation) and BibTeX types (DataCite's
# `types.bibtex`) mapped to Paper.EntryType values; anything else is "misc".
ENTRY_TYPES = {
    "journal-article": "article",
    "article-journal": "article",
    "article": "article",
    "proceedings-article": "inproceedings",
    "paper-conference": "inproceedings",
    "inproceedings": "inproceedings",
    "book-chapter": "incollection",
    "book-section": "incollection",
    "book-part": "incollection",
    "chapter": "incollection",
    "incollection": "incollection",
    "book": "book",
    "monograph": "book",
    "edited-book": "book",
    "reference-book": "book",
    "dissertation": "phdthesis",
    "thesis": "phdthesis",
    "phdthesis": "phdthesis",
    "report": "techreport",
    "techreport": "techreport",
}


def fetch_doi(*, doi: str, reference_bibtex: bool = True) -> PaperRecord:
    """Fetch the metadata of the paper with this DOI (any form normalize_doi accepts).

    The record has source "doi", the DOI in normal form and, for arXiv's DataCite DOIs
    (10.48550/arXiv.<id>), the arXiv base id. For DOIs not registered with Crossref,
    `source_bibtex` holds the agency's BibTeX when `reference_bibtex` is true (an extra
    request; left empty if the agency offers none).

    Raises ValueError if `doi` is not a DOI; NotFound("DOI not found") if no
    registration agency knows it; otherwise FetchError (RateLimited, UpstreamError,
    ...) when a service cannot be asked or answers with something unusable. Every
    message can be shown to the user as it is.
    """
    normalized = normalize_doi(doi)
    if normalized is None:
        raise ValueError(f"not a DOI: {doi!r}")
    path = quote(normalized, safe="/")
    try:
        response = http.get(f"{settings.CROSSREF_API_URL}/works/{path}", accept="application/json")
    except http.NotFound:
        record = _from_other_agency(path)
        if reference_bibtex:
            record.source_bibtex = _reference_bibtex(path)
    else:
        record = _crossref_record(_json(response, "Crossref").get("message") or {})
    if not record.title:
        raise http.FetchError("the metadata of this DOI has no title")
    record.doi = normalized
    arxiv_doi = _ARXIV_DOI.match(normalized)
    parsed = parse_arxiv_id(arxiv_doi.group("id")) if arxiv_doi else None
    if parsed:
        record.arxiv_id = parsed[0]
    return record


def _from_other_agency(path: str) -> PaperRecord:
    datacite = settings.DATACITE_API_URL
    try:
        response = http.get(f"{datacite}/dois/{path}", accept="application/vnd.api+json")
    except http.NotFound:
        pass
    else:
        data = _json(response, "DataCite").get("data") or {}
        return _datacite_record(data.get("attributes") or {})
    try:
        response = http.get(f"{settings.DOI_RESOLVER_URL}/{path}", accept=CSL_JSON)
    except http.NotFound:
        raise http.NotFound("DOI not found", status=404) from None
    except http.FetchRefused:
        # The resolver sent us to a host we do not fetch from (another agency's, or a
        # landing page): as far as we can tell, no metadata.
        raise http.FetchError("the registration agency of this DOI offers no metadata") from None
    return _csl_record(_json(response, "the DOI resolver"))


def _reference_bibtex(path: str) -> str:
    """The agency's BibTeX for the DOI, or "" (it is a courtesy copy, never a reason
    to fail an import)."""
    try:
        response = http.get(f"{settings.DOI_RESOLVER_URL}/{path}", accept=BIBTEX)
    except http.FetchError as exc:
        logger.info("no reference BibTeX for %s: %s", path, exc)
        return ""
    text = response.content.decode("utf-8", errors="replace").strip()
    return text if text.startswith("@") else ""  # not a landing page


def _json(response, service: str) -> dict:
    try:
        data = response.json()
    except ValueError:
        raise http.FetchError(f"{service} sent a response we could not read") from None
    if not isinstance(data, dict):
        raise http.FetchError(f"{service} sent a response we could not read")
    return data


def _crossref_record(message: dict) -> PaperRecord:
    names, organisations = _people(message.get("author") or [])
    entry_type = ENTRY_TYPES.get(message.get("type", ""), "misc")
    date_parts = _first_date(message, "published-print", "published-online", "issued")
    venue = _first(message.get("container-title")) or (message.get("event") or {}).get("name", "")
    if not venue and entry_type == "book":
        venue = message.get("publisher", "")
    return PaperRecord(
        title=plain_text(_first(message.get("title"))),
        authors=names,
        organisations=organisations,
        year=date_parts[0] if date_parts else None,
        venue=plain_text(venue),
        entry_type=entry_type,
        abstract=plain_text(message.get("abstract", ""), paragraphs=True),
        published_on=_date(date_parts),
        url=(message.get("resource") or {}).get("primary", {}).get("URL") or message.get("URL", ""),
        source="doi",
    )


def _csl_record(item: dict) -> PaperRecord:
    names, organisations = _people(item.get("author") or [])
    date_parts = _first_date(item, "published-print", "published-online", "issued")
    return PaperRecord(
        title=plain_text(_first(item.get("title"))),
        authors=names,
        organisations=organisations,
        year=date_parts[0] if date_parts else None,
        venue=plain_text(_first(item.get("container-title"))),
        entry_type=ENTRY_TYPES.get(item.get("type", ""), "misc"),
        abstract=plain_text(item.get("abstract", ""), paragraphs=True),
        published_on=_date(date_parts),
        url=item.get("URL", ""),
        source="doi",
    )


def _datacite_record(attributes: dict) -> PaperRecord:
    names, organisations = [], set()
    for creator in attributes.get("creators") or []:
        given, family = creator.get("givenName"), creator.get("familyName")
        if creator.get("nameType") == "Organizational" or not family:
            organisations.add(len(names))
            names.append(" ".join(creator.get("name", "").split()))
        else:
            names.append(" ".join(f"{given or ''} {family}".split()))
    titles = [t.get("title", "") for t in attributes.get("titles") or [] if not t.get("titleType")]
    abstracts = [
        d.get("description", "")
        for d in attributes.get("descriptions") or []
        if d.get("descriptionType") == "Abstract"
    ]
    publisher = attributes.get("publisher") or ""
    if isinstance(publisher, dict):  # newer DataCite answers give {"name": ...}
        publisher = publisher.get("name", "")
    year = attributes.get("publicationYear")
    venue = (attributes.get("container") or {}).get("title") or publisher
    return PaperRecord(
        title=plain_text(_first(titles)),
        authors=names,
        organisations=organisations,
        year=int(year) if str(year or "").isdigit() else None,
        # arXiv is DataCite's "publisher" of its DOIs; say it as fetch_arxiv does.
        venue="arXiv preprint" if venue == "arXiv" else venue,
        entry_type=ENTRY_TYPES.get((attributes.get("types") or {}).get("bibtex", ""), "misc"),
        abstract=plain_text(_first(abstracts), paragraphs=True),
        url=attributes.get("url") or "",
        source="doi",
    )


def _people(items: list[dict]) -> tuple[list[str], set[int]]:
    """Display names in order ("Given Family"); organisations (`name`/`literal`) marked."""
    names, organisations = [], set()
    for person in items:
        family = person.get("family")
        if family:
            names.append(" ".join(f"{person.get('given') or ''} {family}".split()))
        elif person.get("name") or person.get("literal"):
            organisations.add(len(names))
            names.append(" ".join((person.get("name") or person["literal"]).split()))
    return names, organisations


def _first(value) -> str:
    """Crossref gives lists where CSL gives strings."""
    if isinstance(value, list):
        return value[0] if value else ""
    return value or ""


def _first_date(item: dict, *keys: str) -> list[int] | None:
    for key in keys:
        parts = ((item.get(key) or {}).get("date-parts") or [[None]])[0]
        if parts and parts[0]:
            return [int(part) for part in parts]
    return None


def _date(parts: list[int] | None) -> datetime.date | None:
    if not parts or len(parts) < 3:
        return None
    try:
        return datetime.date(*parts[:3])
    except ValueError:
        return None


def plain_text(markup: str, *, paragraphs: bool = False) -> str:
    """Text of a title or abstract that may carry HTML or JATS tags (Crossref's
    `<jats:p>`, `<i>`): tags dropped by a real parser, entities decoded, whitespace
    normalised; with `paragraphs`, block elements become paragraphs separated by a
    blank line and a leading "Abstract" heading is dropped."""
    if not markup:
        return ""
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    blocks = [" ".join("".join(block).split()) for block in parser.blocks]
    blocks = [block for block in blocks if block]
    if not paragraphs:
        return " ".join(blocks)
    if blocks and blocks[0].lower() == "abstract":
        blocks = blocks[1:]
    return "\n\n".join(blocks)


class _TextParser(HTMLParser):
    _BLOCKS = {"p", "div", "br", "li", "title", "sec", "jats:p", "jats:title", "jats:sec"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[list[str]] = [[]]

    def handle_starttag(self, tag, attrs):
        if tag in self._BLOCKS:
            self.blocks.append([])

    def handle_endtag(self, tag):
        if tag in self._BLOCKS:
            self.blocks.append([])

    def handle_data(self, data):
        self.blocks[-1].append(data)
