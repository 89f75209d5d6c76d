"""Paper import, matching, merging and dismissal: the catalog's cross-model work.

Import pipeline: input (identifiers box, BibTeX) -> items -> records (fetched from arXiv
or by DOI, or parsed from BibTeX) -> matched against the catalog -> written a batch per
transaction (a batch the database refuses: again one item per transaction, so that a
bad item never aborts the others nor leaves half a paper) -> a per-item report.

Matching rules (in this order):

* same arXiv base id, or same DOI (lower case): the same paper. An arXiv record that
  carries its published DOI, and a DOI record of a paper known by its arXiv id, meet
  through the DOI: one paper with both identifiers. arXiv's own DataCite DOIs
  (10.48550/arXiv.<id>) are arXiv ids, not DOIs.
* a record with no identifier whose title key, year and ordered authors equal those of a
  paper with no identifier either: the same paper (a re-import of the same entry).
* same title key, year within one and same first author: only a *possible duplicate*.
  The new paper is created and the pair is flagged (`PossibleDuplicate`) for an admin;
  a pair recorded as "not a duplicate" is never flagged again.

Which values win when a record meets an existing paper: sources are ranked (arXiv <
BibTeX < DOI/Crossref < hand-entered/demo; a title-only "incomplete" record is below all).
A record of the paper's rank or above replaces its bibliographic fields (title, authors,
year, venue, type, URL, abstract, reference BibTeX): so the published version upgrades
an arXiv preprint's venue. A lower-ranked record only fills empty fields, and an arXiv
record refreshes the arXiv fields (version, category, comment, dates) unless it is an
older version. Values are never erased and identifiers never overwritten. A later item
of the same import that meets a paper an earlier item wrote or met only fills what is
empty, unless it ranks higher or is a newer arXiv version: a file that lists a paper
twice (two keys, two venues) is imported the same way every time. Re-running the same
import therefore changes nothing.

Writing: records are matched and written a batch at a time. The catalog is read with a
few queries per batch (arXiv ids, DOIs, title keys, authors, citation keys; plain values
where no model is needed), new papers, authors and authorships are inserted together at
the end of the batch (on PostgreSQL with COPY, ids drawn from the sequences first), and
the job's progress is saved after a batch at most every half second. On PostgreSQL,
outside a transaction, a batch's inserts are written behind, on a second connection,
while the next batch is read and matched (see `_import_batches` and
papers.write_behind); a file imported by the command is read into records batch by
batch (`create_bibtex_run`).

The preview (dry run) is the import itself run inside a transaction that is rolled back:
it says exactly what the run will do, including the items that will fail.
"""

import contextlib
import copy
import dataclasses
import datetime
import functools
import logging
import operator
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.db.models import Count, F, Q
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.lookups import In
from django.db.models.signals import post_init, pre_init
from django.utils import timezone
from django.utils.http import MAX_URL_LENGTH

from mlsys_reader.lib.http import FetchError
from papers import bibtex_import
from papers.arxiv import fetch_arxiv
from papers.bibtex import make_citation_key
from papers.doi import fetch_doi
from papers.models import Author, Authorship, ImportJob, Paper, PossibleDuplicate
from papers.normalize import author_key, normalize_doi, parse_arxiv_id, title_key
from papers.records import ItemError, PaperRecord
from papers.write_behind import EarlierBatchRefused, WriteBehind

logger = logging.getLogger(__name__)

# An import computes the same keys many times (matching, indexing, reporting): once each.
_title_key = functools.lru_cache(maxsize=65536)(title_key)
_author_key = functools.lru_cache(maxsize=65536)(author_key)

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
DUPLICATE = "duplicate"
POSSIBLE_DUPLICATE = "possible_duplicate"
FAILED = "failed"
OUTCOMES = (CREATED, UPDATED, UNCHANGED, DUPLICATE, POSSIBLE_DUPLICATE, FAILED)

# arXiv's DataCite DOIs name the preprint itself: 10.48550/arXiv.2106.09685.
_ARXIV_DOI_PREFIX = "10.48550/arxiv."
# Rank of the source a paper's metadata came from; see the module docstring.
_SOURCE_RANK = {
    Paper.Source.ARXIV: 1,
    Paper.Source.BIBTEX: 2,
    Paper.Source.DOI: 3,
    Paper.Source.DEMO: 4,
    Paper.Source.MANUAL: 4,
}
# Records fetched by their identifier: the identifier is certainly theirs.
_FETCHED = {Paper.Source.ARXIV, Paper.Source.DOI}
_BATCH = 1000  # items matched against the catalog and inserted with one set of queries
_STREAMED_ITEMS = 1000  # a new job with more items has them sent by COPY (PostgreSQL)
_REPORT_EVERY = 5.0  # seconds between saves of a running job's report
_PROGRESS_EVERY = 0.5  # seconds between saves of its progress and counts
_ARXIV_BATCH = 50  # ids per arXiv API request
_url_validator = URLValidator(schemes=["http", "https"])
# An http(s) URL with an ASCII host name of dot-separated labels (1 to 63 letters,
# digits and inner hyphens) and a top-level domain of letters, an optional port, and
# a path without whitespace: a narrower form of URLValidator's pattern (see _valid_url).
_PLAIN_URL = re.compile(
    r"https?://((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
    r"(?::[0-9]{1,5})?(?:[/?#]\S*)?"
)
_ENTRY_TYPES = frozenset(Paper.EntryType.values)
# What arXiv says of a paper besides its id: taken from the newest version on import,
# and kept or taken together in a merge.
_ARXIV_DETAILS = (
    "arxiv_version",
    "arxiv_primary_category",
    "arxiv_comment",
    "journal_ref",
    "published_on",
    "revised_on",
)
_SOURCES = frozenset(Paper.Source.values)


def inline_max_items() -> int:
    """Imports of at most this many items run inside the request; larger ones as a task."""
    return settings.IMPORT_INLINE_MAX_ITEMS


def max_identifiers() -> int:
    return settings.IMPORT_MAX_IDENTIFIERS


# -- the identifiers box ------------------------------------------------------------


@dataclass(frozen=True)
class Identifier:
    """One token of the identifiers box: an arXiv id, a DOI, or unrecognised (kind "")."""

    input: str
    kind: str  # "arxiv", "doi" or "" (not recognised)
    value: str = ""  # arXiv base id, or DOI in lower case
    version: int | None = None
    line: int | None = None


def parse_identifiers(*, text: str) -> list[Identifier]:
    """Every token of `text` (any number per line, separated by spaces or commas) as an
    arXiv id or a DOI. Nothing is guessed: a token that is neither comes back with
    kind "" so that it can be reported. `arXiv: 2106.09685` and `doi: 10.1/x` (with a
    space) are read as one token."""
    found: list[Identifier] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        prefix = ""
        for token in line.split():
            if token.lower() in {"arxiv:", "doi:"}:
                prefix = token
                continue
            found.extend(_identify(prefix + token, line=line_number))
            prefix = ""
        if prefix:
            found.append(Identifier(input=prefix, kind="", line=line_number))
    return found


def _identify(token: str, *, line: int) -> list[Identifier]:
    identifier = _classify(token, line=line)
    if identifier is not None:
        return [identifier]
    parts = [part for part in token.split(",") if part]
    if len(parts) > 1:
        identifiers = [_classify(part, line=line) for part in parts]
        if all(identifiers):
            return identifiers
    return [Identifier(input=token, kind="", line=line)]


def _classify(token: str, *, line: int) -> Identifier | None:
    value = token.strip().strip("<>\"'").rstrip(".,;")
    if value.lower().startswith(("doi.org/", "dx.doi.org/", "arxiv.org/")):
        value = "https://" + value
    arxiv = parse_arxiv_id(value)
    if arxiv is not None:
        return Identifier(input=token, kind="arxiv", value=arxiv[0], version=arxiv[1], line=line)
    doi = normalize_doi(value)
    if doi is None:
        return None
    if doi.startswith(_ARXIV_DOI_PREFIX):
        arxiv = parse_arxiv_id(doi[len(_ARXIV_DOI_PREFIX) :])
        if arxiv is not None:
            return Identifier(input=token, kind="arxiv", value=arxiv[0], version=None, line=line)
    return Identifier(input=token, kind="doi", value=doi, line=line)


# -- records as JSON (stored on the job between preview and run) --------------------


_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(PaperRecord))
_RECORD_FIELD_SET = frozenset(_RECORD_FIELDS)


def record_to_json(record: PaperRecord) -> dict:
    # Field by field: dataclasses.asdict deep-copies every value, ten times slower.
    data = {name: getattr(record, name) for name in _RECORD_FIELDS}
    data["authors"] = list(record.authors)
    data["organisations"] = sorted(record.organisations)
    for name in ("published_on", "revised_on"):
        data[name] = data[name].isoformat() if data[name] else None
    return data


def record_from_json(data: dict | PaperRecord) -> PaperRecord:
    if isinstance(data, PaperRecord):
        return data
    values = {name: value for name, value in data.items() if name in _RECORD_FIELD_SET}
    values["organisations"] = set(values.get("organisations") or ())
    for name in ("published_on", "revised_on"):
        if values.get(name):
            values[name] = datetime.date.fromisoformat(values[name])
    return PaperRecord(**values)


# -- results ------------------------------------------------------------------------


@dataclass(slots=True)
class ItemResult:
    """What happened to one input item.

    `paper` is the paper the item now is (created, updated, matched; for a possible
    duplicate the new paper), None when it failed or in a preview of a new paper.
    `other` is the existing paper a possible duplicate may be the same as.
    `same_as_item` is the earlier item of the same import this one repeats.
    """

    input: str
    outcome: str
    paper: Paper | None = None
    reason: str = ""
    line: int | None = None
    other: Paper | None = None
    same_as_item: int | None = None


def describe(entry: dict, *, preview: bool) -> str:
    """The one-line outcome of a report entry, as the pages, the CSV and the commands
    print it: "new", "update of #12", "created #45", "failed"..."""
    outcome = entry["outcome"]
    if entry.get("paper_item"):
        paper = f"item {entry['paper_item']}"
    else:
        paper = f"#{entry['paper_id']}" if entry.get("paper_id") else ""
    if entry.get("other_item"):
        other = f"item {entry['other_item']}"
    else:
        other = f"#{entry['other_id']}" if entry.get("other_id") else ""
    same = f"item {entry['same_as_item']}" if entry.get("same_as_item") else ""
    if outcome == FAILED:
        return "failed"
    if preview:
        return {
            CREATED: "new",
            UPDATED: f"update of {paper}",
            UNCHANGED: f"duplicate of {paper} (nothing to change)",
            DUPLICATE: f"duplicate of {same}",
            POSSIBLE_DUPLICATE: f"possible duplicate of {other}",
        }[outcome]
    return {
        CREATED: f"created {paper}",
        UPDATED: f"updated {paper}",
        UNCHANGED: f"unchanged {paper}",
        DUPLICATE: f"duplicate of {same} ({paper})",
        POSSIBLE_DUPLICATE: f"created {paper}, possible duplicate of {other}",
    }[outcome]


def format_report(job: ImportJob) -> list[str]:
    """The per-item report as text lines (management commands), then a summary line."""
    rows = report_rows(job=job)
    lines = []
    for row in rows:
        where = f" (line {row['line']})" if row.get("line") else ""
        reason = f": {row['reason']}" if row.get("reason") else ""
        title = f" “{row['title']}”" if row.get("title") else ""
        lines.append(f"{row['n']:>4}. {row['input']}{where} -> {row['label']}{title}{reason}")
    lines.append(summary_line(rows, preview=not job.report))
    if job.error:
        lines.append(job.error)
    return lines


def count_outcomes(entries: Iterable[dict]) -> dict[str, int]:
    counts = dict.fromkeys(OUTCOMES, 0)
    for entry in entries:
        counts[entry["outcome"]] += 1
    return counts


def summary_line(entries: list[dict], *, preview: bool) -> str:
    counts = count_outcomes(entries)
    words = (
        ("new", "updates", "already in the catalog", "repeated", "possible duplicates")
        if preview
        else ("created", "updated", "unchanged", "duplicates", "possible duplicates")
    )
    parts = [f"{counts[outcome]} {word}" for outcome, word in zip(OUTCOMES, words, strict=False)]
    parts.append(f"{counts[FAILED]} failed")
    return ("Preview: " if preview else "") + ", ".join(parts)


# -- the import engine --------------------------------------------------------------


class _ItemFailed(Exception):
    """One item cannot be written; the message is shown to the user as is."""


@dataclass(eq=False, slots=True)
class _Known:
    """A paper the import knows: loaded from the catalog or written by this import."""

    paper: Paper
    author_keys: list[str]
    item: int | None = None  # the item of this import that created or last changed it
    created_item: int | None = None  # the item of this import that created it
    link: list = field(default_factory=list)  # authors to link once it is inserted

    @property
    def created_here(self) -> bool:
        return self.created_item is not None


@dataclass
class _Plan:
    """A record in the catalog's normal form (see `_clean`), with what was dropped from
    it and the keys it is matched by, each worked out once."""

    record: PaperRecord
    notes: list[str] = field(default_factory=list)
    # Each author once, in order: (name, key, is an organisation).
    people: list[tuple[str, str, bool]] = field(default_factory=list)
    title_key: str = ""

    @functools.cached_property
    def author_keys(self) -> list[str]:
        return [key for _, key, _ in self.people]

    @functools.cached_property
    def key_base(self) -> str:
        """The citation key a new paper of this record starts from."""
        record = self.record
        first_author = record.authors[0] if record.authors else ""
        return make_citation_key(first_author=first_author, year=record.year, title=record.title)

    def copy(self) -> "_Plan":
        """A plan to change (notes added, an identifier dropped) leaving this one as is
        (its keys, worked out already, go with it)."""
        plan = copy.copy(self)
        plan.notes = list(self.notes)
        return plan


class _Catalog:
    """The catalog as the import sees it. Existing papers are looked up in bulk for a
    batch of records (arXiv ids, DOIs, title keys, authors and taken citation keys: a
    few queries per batch), and the papers this import writes are added as it goes, so
    that a later item finds an earlier one without asking the database again.

    While `journal` is a list, changes are recorded in it so that `undo` can take them
    back when the batch they belong to is rolled back."""

    def __init__(self):
        self.by_pk: dict[int, _Known] = {}
        self.by_arxiv: dict[str, _Known] = {}
        self.by_doi: dict[str, _Known] = {}
        self.by_title: dict[str, list[_Known]] = defaultdict(list)
        self.titles_loaded: set[str] = set()
        self.authors: dict[str, Author] = {}
        self.key_bases_loaded: set[str] = set()
        self.used_keys: set[str] = set()
        self.journal: list | None = None

    def load(self, plans: list[_Plan]) -> None:
        """The papers these (cleaned) records may match, and the authors they name."""
        arxiv_ids = {p.record.arxiv_id for p in plans if p.record.arxiv_id} - self.by_arxiv.keys()
        dois = {p.record.doi for p in plans if p.record.doi} - self.by_doi.keys()
        titles = {p.title_key for p in plans} - self.titles_loaded - {""}
        self.titles_loaded |= titles
        lookups = [
            _AnyOf(F(column), values)
            for column, values in (("arxiv_id", arxiv_ids), ("doi", dois), ("title_key", titles))
            if values
        ]
        if lookups:
            condition = functools.reduce(operator.or_, (Q(lookup) for lookup in lookups))
            found = [
                paper
                for paper in Paper.objects.filter(condition).order_by("pk")
                if paper.pk not in self.by_pk
            ]
            # Their authors' keys in order, as plain values (no Authorship or Author models).
            keys = defaultdict(list)
            if found:
                for paper_id, key in (
                    Authorship.objects.filter(_AnyOf(F("paper_id"), [paper.pk for paper in found]))
                    .order_by("paper_id", "position")
                    .values_list("paper_id", "author__key")
                ):
                    keys[paper_id].append(key)
            for paper in found:
                self.add(_Known(paper=paper, author_keys=keys[paper.pk]))
        names = {key for p in plans for key in p.author_keys} - self.authors.keys()
        if names:
            for author in Author.objects.filter(_AnyOf(F("key"), names)):
                self.authors[author.key] = author

    def load_citation_keys(self, plans: list[_Plan]) -> None:
        """Which citation keys the new papers among these records would take are taken
        (the others look theirs up when they need one: a few, after a race)."""
        self._load_citation_keys({p.key_base for p in plans} - self.key_bases_loaded)

    def _load_citation_keys(self, bases: set[str]) -> None:
        """Which of the keys `unique_citation_key` would pick for these bases are taken:
        the bases themselves, then the b-z variants of the taken ones (indexed lookups
        of the keys, not prefix searches)."""
        taken = self._taken_keys(sorted(bases))
        self._taken_keys([key for base in sorted(taken) for key in _key_candidates(base)[1:]])
        self.key_bases_loaded |= bases

    def _taken_keys(self, keys: list[str]) -> set[str]:
        taken = set()
        if keys:
            # (not "": the condition of the index on citation keys)
            taken = set(
                Paper.objects.filter(_AnyOf(F("citation_key"), keys))
                .exclude(citation_key="")
                .values_list("citation_key", flat=True)
            )
        self.used_keys |= taken
        return taken

    def reload(self, plan: _Plan) -> None:
        """Forget what is cached for this record's identifiers and ask the database
        again (after another writer won a race for the same identifier)."""
        record = plan.record
        for known in {self.by_arxiv.get(record.arxiv_id), self.by_doi.get(record.doi)}:
            if known is not None and not known.created_here:
                self.remove(known)
        self.titles_loaded.discard(plan.title_key)
        self.key_bases_loaded.clear()  # re-read the citation keys taken meanwhile
        for key in plan.author_keys:
            self.authors.pop(key, None)
        self.load([plan])

    def add(self, known: _Known) -> None:
        paper = known.paper
        if paper.pk is not None:
            self.by_pk[paper.pk] = known
        if paper.arxiv_id:
            self.by_arxiv[paper.arxiv_id] = known
        if paper.doi:
            self.by_doi[paper.doi] = known
        if known not in self.by_title[paper.title_key]:
            self.by_title[paper.title_key].append(known)

    def remove(self, known: _Known) -> None:
        paper = known.paper
        if self.by_pk.get(paper.pk) is known:
            del self.by_pk[paper.pk]
        for index, key in ((self.by_arxiv, paper.arxiv_id), (self.by_doi, paper.doi)):
            if key and index.get(key) is known:
                del index[key]
        candidates = self.by_title.get(paper.title_key, [])
        if known in candidates:
            candidates.remove(known)

    def replace(self, old: _Known | None, new: _Known) -> None:
        if old is not None:
            self.remove(old)
        self.add(new)
        if self.journal is not None:
            self.journal.append(("replace", old, new))

    def saved(self, known: _Known) -> None:
        """A paper added before it had an id has been inserted."""
        self.by_pk[known.paper.pk] = known

    def add_author(self, author: Author) -> None:
        self.authors[author.key] = author
        if self.journal is not None:
            self.journal.append(("author", author.key, None))

    def use_key(self, key: str) -> None:
        self.used_keys.add(key)
        if self.journal is not None:
            self.journal.append(("key", key, None))

    def undo(self, journal: list | None = None) -> None:
        """Take back the changes `journal` recorded (by default, the one recording now),
        and empty it: undoing it again does nothing."""
        journal = self.journal if journal is None else journal
        for action, old, new in reversed(journal or []):
            if action == "replace":
                self.remove(new)
                if old is not None:
                    self.add(old)
            elif action == "author":
                self.authors.pop(old, None)
            else:
                self.used_keys.discard(old)
        if journal:
            journal.clear()
        self.journal = None

    def unique_citation_key(self, base: str) -> str:
        """`base`, or base + b, c, ... z, then base-2, -3...: a key no paper has."""
        if base not in self.key_bases_loaded:
            self._load_citation_keys({base})
        if base not in self.used_keys:
            return base  # (most papers: no need to list the others)
        for candidate in _key_candidates(base):
            if candidate not in self.used_keys:
                return candidate
        # 26 papers share this key: look further (rare, so one prefix search is fine).
        self.used_keys |= set(
            Paper.objects.filter(citation_key__startswith=base).values_list(
                "citation_key", flat=True
            )
        )
        number = 2
        while f"{base}-{number}" in self.used_keys:
            number += 1
        return f"{base}-{number}"


def _key_candidates(base: str) -> list[str]:
    return [base] + [base + letter for letter in "bcdefghijklmnopqrstuvwxyz"]


@dataclass(eq=False)
class _Batch:
    """Items of an import matched (and written) together."""

    items: list[tuple[int, dict]]  # (item number, item) for every item, failed ones too
    entries: list[tuple[int, PaperRecord, str, int | None]]  # (number, record, input, line)
    journal: list = field(default_factory=list)  # its changes to the catalog, for undo
    results: list[ItemResult] = field(default_factory=list)  # one per entry
    rows: "_Rows | None" = None  # its inserts, when they are left for the writer

    def outcomes(self) -> list[tuple[int, ItemResult]]:
        """(number, result) for every item, in order; an item that never had a record
        fails with the error it came with."""
        written = {n: result for (n, *_), result in zip(self.entries, self.results, strict=True)}
        return [
            (
                n,
                written.get(n)
                or ItemResult(
                    input=item["input"],
                    outcome=FAILED,
                    reason=item.get("error", ""),
                    line=item.get("line"),
                ),
            )
            for n, item in self.items
        ]


@dataclass(eq=False)
class _Rows:
    """A batch's inserts: new authors, new papers (with the authors to link), flags."""

    authors: list[Author]
    papers: list[_Known]
    flags: list[tuple[Paper, Paper, str]]
    job: ImportJob | None


class _Importer:
    """Writes records into the catalog.

    A batch is first written in one transaction with bulk inserts (the fast path). If
    the database refuses anything in it (a row another writer saved meanwhile, say),
    the batch is rolled back and written again one item per transaction, so that a bad
    item never aborts the others and never leaves half a paper. Whatever can be
    checked before writing (lengths, names, URLs) fails its item alone on either path.

    With a `writer` (see `_import_batches`), a batch's inserts may be left for it to
    write while the next batch is matched; anything this connection writes waits for
    the writer first (`_before_writing_here`).
    """

    def __init__(self, *, added_by=None, job: ImportJob | None = None):
        self.catalog = _Catalog()
        self.added_by = added_by
        self.job = job
        self.bulk = False  # inside the fast path: new papers wait in `pending`
        self.pending: list[_Known] = []
        self.pending_authors: dict[str, Author] = {}
        self.pending_flags: list[tuple[Paper, Paper, str]] = []
        self.cleaned: dict[int, tuple[PaperRecord, _Plan]] = {}  # by id(raw record)
        self.writer: WriteBehind | None = None
        self.wrote_here = False  # the batch being matched wrote on this connection

    def load(self, records: list[PaperRecord]) -> None:
        """Look up, in a few queries, what the catalog holds for these records."""
        self.cleaned = {}
        for record in records:
            try:
                self.cleaned[id(record)] = (record, _clean(record))
            except _ItemFailed:
                continue
        plans = [plan for _, plan in self.cleaned.values()]
        self.catalog.load(plans)
        self.catalog.load_citation_keys([plan for plan in plans if self._probably_new(plan)])

    def _probably_new(self, plan: _Plan) -> bool:
        """Whether the record will make a new paper, as far as the catalog tells before
        the batch is written (so that it needs a citation key)."""
        catalog, record = self.catalog, plan.record
        if record.arxiv_id in catalog.by_arxiv or record.doi in catalog.by_doi:
            return False
        if record.arxiv_id or record.doi:
            return True
        return not any(
            known.paper.arxiv_id is None
            and known.paper.doi is None
            and known.paper.year == record.year
            and known.author_keys == plan.author_keys
            for known in catalog.by_title.get(plan.title_key, ())
        )

    def import_batch(self, entries: list[tuple[int, PaperRecord, str, int | None]]):
        """Import (number, record, input, line) entries; returns their ItemResults."""
        batch = _Batch(items=[], entries=entries)
        self.run_batch(batch)
        return batch.results

    def run_batch(self, batch: _Batch, *, write_behind: bool = False) -> None:
        """Import the batch's entries into `batch.results`, its changes to the catalog
        recorded in `batch.journal`. With `write_behind`, its inserts are left in
        `batch.rows` for the writer, unless an item had to write here (an update): then,
        as without, they are written here.

        Raises EarlierBatchRefused, with nothing of this batch written, when an item
        had to write here and the writer's batch in flight turned out refused."""
        catalog = self.catalog
        catalog.journal = batch.journal
        self.bulk, self.wrote_here = True, False
        results = None
        try:
            with transaction.atomic():
                results = [self._checked(record, number=n) for n, record, _, _ in batch.entries]
                take = write_behind and not self.wrote_here
                if not take:
                    self._flush()
            if take:
                # (After the transaction, which then had nothing to do: the ids are drawn
                # from sequences, which no transaction holds.)
                batch.rows = self._take_rows()
        except DatabaseError:
            logger.info("import batch refused by the database: retrying item by item")
            catalog.undo(batch.journal)
            results, batch.rows = None, None
        finally:
            self.bulk = False
            self.pending, self.pending_authors, self.pending_flags = [], {}, []
            catalog.journal = None
        if results is None:
            results = self.import_items(batch.entries)
        for (_, _, text, line), result in zip(batch.entries, results, strict=True):
            result.input, result.line = text, line
        batch.results = results

    def import_items(self, entries: list[tuple[int, PaperRecord, str, int | None]]):
        """Import (number, record, input, line) entries one transaction each."""
        return [
            self.import_record(record, number=n, input=text, line=line)
            for n, record, text, line in entries
        ]

    def import_record(self, record: PaperRecord, *, number: int, input: str, line=None):
        """Write one record in its own transaction; never raises for a bad item."""
        self._before_writing_here()
        for attempt in (1, 2):
            self.catalog.journal = []
            try:
                with transaction.atomic():
                    result = self._checked(record, number=number)
            except IntegrityError:
                self.catalog.undo()
                # Another writer saved the same identifier (or citation key, or author)
                # between our lookup and our insert: look again once, then give up.
                if attempt == 1:
                    self.catalog.reload(_clean(record))
                    continue
                logger.warning("import item %s: integrity error twice", input, exc_info=True)
                result = ItemResult(
                    input=input,
                    outcome=FAILED,
                    reason="conflicts with a paper saved at the same time; import it again",
                )
            except DatabaseError as exc:
                self.catalog.undo()
                logger.warning("import item %s: database error", input, exc_info=True)
                result = ItemResult(
                    input=input, outcome=FAILED, reason=f"the database refused it: {exc}"
                )
            self.catalog.journal = None
            result.input = input
            result.line = line
            return result
        raise AssertionError("unreachable")

    def _checked(self, record: PaperRecord, *, number: int) -> ItemResult:
        """One item; what fails before anything is written fails this item alone."""
        try:
            return self._write(record, number=number)
        except _ItemFailed as exc:
            return ItemResult(input="", outcome=FAILED, reason=str(exc))

    # -- one item -----------------------------------------------------------------

    def _write(self, raw: PaperRecord, *, number: int) -> ItemResult:
        known = self.cleaned.get(id(raw))
        plan = (known[1] if known is not None and known[0] is raw else _clean(raw)).copy()
        record = plan.record
        catalog = self.catalog
        by_arxiv = catalog.by_arxiv.get(record.arxiv_id) if record.arxiv_id else None
        by_doi = catalog.by_doi.get(record.doi) if record.doi else None
        if record.source not in _FETCHED:
            # An identifier typed into a file may be wrong (a course page linking the
            # wrong preprint): one held by a paper of an unrelated title is not trusted.
            if by_arxiv is not None and not _related_titles(by_arxiv.paper, record):
                plan.notes.append(_untrusted("arXiv id", record.arxiv_id, by_arxiv.paper))
                record = plan.record = dataclasses.replace(record, arxiv_id=None)
                by_arxiv = None
            if by_doi is not None and not _related_titles(by_doi.paper, record):
                plan.notes.append(_untrusted("DOI", record.doi, by_doi.paper))
                record = plan.record = dataclasses.replace(record, doi=None)
                by_doi = None
        if by_arxiv is not None and by_doi is not None and by_arxiv is not by_doi:
            return self._conflict(plan, arxiv=by_arxiv, published=by_doi, number=number)
        match = by_arxiv or by_doi or self._same_entry(plan)
        if match is not None:
            return self._update(plan, match, number=number)
        return self._create(plan, number=number)

    def _same_entry(self, plan: _Plan) -> _Known | None:
        record = plan.record
        if record.arxiv_id or record.doi:
            return None
        for known in self.catalog.by_title.get(plan.title_key, []):
            paper = known.paper
            if (
                paper.arxiv_id is None
                and paper.doi is None
                and paper.year == record.year
                and known.author_keys == plan.author_keys
            ):
                return known
        return None

    def _possible_duplicate(self, plan: _Plan) -> _Known | None:
        record = plan.record
        if not plan.author_keys or record.year is None:
            return None
        for known in self.catalog.by_title.get(plan.title_key, []):
            other = known.paper
            if (
                other.year is not None
                and abs(other.year - record.year) <= 1
                and known.author_keys[:1] == plan.author_keys[:1]
            ):
                return known
        return None

    def _create(self, plan: _Plan, *, number: int) -> ItemResult:
        record = plan.record
        paper = _new(
            Paper,
            title=record.title,
            title_key=plan.title_key,
            more_authors=record.more_authors,
            abstract=record.abstract,
            year=record.year,
            venue=record.venue,
            entry_type=record.entry_type,
            arxiv_id=record.arxiv_id,
            arxiv_version=record.arxiv_version,
            arxiv_primary_category=record.arxiv_primary_category,
            arxiv_comment=record.arxiv_comment,
            journal_ref=record.journal_ref,
            published_on=record.published_on,
            revised_on=record.revised_on,
            doi=record.doi,
            url=record.url,
            pdf_url=record.pdf_url,
            citation_key=self.catalog.unique_citation_key(plan.key_base),
            source_bibtex=record.source_bibtex,
            source=record.source,
            metadata_incomplete=False,
            added_by_id=self.added_by.pk if self.added_by is not None else None,
        )
        _check_lengths(paper)
        authors = self._authors(plan)
        candidate = self._possible_duplicate(plan)
        known = _Known(paper=paper, author_keys=plan.author_keys, item=number, created_item=number)
        if self.bulk:
            self.pending.append(known)
            known.link = authors
            if candidate is not None:
                self.pending_flags.append((paper, candidate.paper, _SIMILAR))
        else:
            paper.save()
            self._save_authorships(paper, authors)
            if candidate is not None:
                self._flag(paper, candidate.paper, reason=_SIMILAR)
        self.catalog.replace(None, known)
        self.catalog.use_key(paper.citation_key)
        if candidate is not None:
            reason = (
                f"same title, year and first author as #{candidate.paper.pk} "
                f"“{candidate.paper.title}”: flagged for an admin"
            )
            return ItemResult(
                input="",
                outcome=POSSIBLE_DUPLICATE,
                paper=paper,
                other=candidate.paper,
                reason=_join([reason, *plan.notes]),
            )
        return ItemResult(input="", outcome=CREATED, paper=paper, reason=_join(plan.notes))

    def _update(self, plan: _Plan, match: _Known, *, number: int) -> ItemResult:
        paper = match.paper
        repeat = match.item is not None  # an earlier item of this import wrote or met it
        changes, authors, notes = _changes(paper, match.author_keys, plan, repeat=repeat)
        if not changes and authors is None:
            if repeat:
                return ItemResult(
                    input="",
                    outcome=DUPLICATE,
                    paper=paper,
                    same_as_item=match.item,
                    reason=_join([f"same paper as item {match.item}", *plan.notes]),
                )
            # A later item meeting this paper is a repeat of this one (see _changes).
            met = dataclasses.replace(match, item=number)
            self.catalog.replace(match, met)
            return ItemResult(
                input="",
                outcome=UNCHANGED,
                paper=paper,
                reason=_join(["already in the catalog", *plan.notes]),
            )
        self._flush()  # the paper (or authors it shares) may still wait to be inserted
        paper = copy.copy(paper)  # the catalog's copy stays as it is if this item fails
        for name, value in changes.items():
            setattr(paper, name, value)
        _check_lengths(paper)
        new_authors = self._authors(plan) if authors is not None else None
        paper.save(update_fields=[*changes, "updated_at"])
        author_keys = match.author_keys
        if new_authors is not None:
            paper.authorships.all().delete()
            self._save_authorships(paper, new_authors)
            paper._prefetched_objects_cache = {}
            author_keys = plan.author_keys
        known = _Known(
            paper=paper, author_keys=author_keys, item=number, created_item=match.created_item
        )
        self.catalog.replace(match, known)
        return ItemResult(
            input="", outcome=UPDATED, paper=paper, reason=_join([*notes, *plan.notes])
        )

    def _conflict(self, plan: _Plan, *, arxiv: _Known, published: _Known, number: int):
        """The record's arXiv id is one paper and its DOI another: both are the same
        work, but merging two existing papers is an admin's decision. Flag the pair and
        update the arXiv paper with the rest of the record."""
        reason = (
            f"arXiv {plan.record.arxiv_id} is #{arxiv.paper.pk} and its published DOI "
            f"{plan.record.doi} is #{published.paper.pk}: flagged for an admin to merge"
        )
        plan.record = dataclasses.replace(plan.record, doi=None)
        result = self._update(plan, arxiv, number=number)
        self._flush()
        self._flag(arxiv.paper, published.paper, reason="preprint and published version")
        result.outcome = POSSIBLE_DUPLICATE
        result.other = published.paper
        result.same_as_item = None
        result.reason = _join([reason, result.reason])
        return result

    def _flag(self, paper: Paper, other: Paper, *, reason: str) -> None:
        self._before_writing_here()
        first, second = sorted([paper.pk, other.pk])
        PossibleDuplicate.objects.get_or_create(
            paper_a_id=first, paper_b_id=second, defaults={"reason": reason, "job": self.job}
        )

    def _authors(self, plan: _Plan) -> list[Author]:
        """The record's authors in order, each once: known ones from the catalog, new
        ones checked (not yet saved)."""
        authors, new = [], {}
        known, pending = self.catalog.authors, self.pending_authors
        for number, (name, key, is_organisation) in enumerate(plan.people, start=1):
            author = known.get(key) or pending.get(key)
            if author is None:
                if len(name) > _AUTHOR_NAME_MAX:
                    raise _ItemFailed(
                        f"author {number} ({name[:40]}…): name: Ensure this value has at "
                        f"most {_AUTHOR_NAME_MAX} characters (it has {len(name)})."
                    )
                author = new[key] = _new(
                    Author, name=name, key=key, is_organisation=is_organisation
                )
            authors.append(author)
        if self.bulk:
            self.pending_authors.update(new)
        return authors

    def _save_authorships(self, paper: Paper, authors: list[Author]) -> None:
        for author in authors:
            if author.pk is None:
                author.save()
                self.catalog.add_author(author)
        Authorship.objects.bulk_create(
            Authorship(paper=paper, author=author, position=position)
            for position, author in enumerate(authors)
        )

    def _before_writing_here(self) -> None:
        """What this connection writes comes after the writer's batch in flight: wait
        for it (EarlierBatchRefused if the database refused it)."""
        self.wrote_here = True
        if self.writer is not None:
            self.writer.drain()

    def _flush(self) -> None:
        """Insert the papers waiting in the fast path, with their authors and flags."""
        self._before_writing_here()
        rows = self._pending_rows()
        if rows is not None:
            _write_rows(rows)
            self._written(rows)

    def _take_rows(self) -> "_Rows | None":
        """The inserts waiting in the fast path, for the writer: their ids drawn here,
        the catalog told they are in (the writer's failure is undone with the batch)."""
        rows = self._pending_rows()
        if rows is not None:
            _draw_ids((Author, rows.authors), (Paper, [known.paper for known in rows.papers]))
            self._written(rows)
        return rows

    def _pending_rows(self) -> "_Rows | None":
        if not self.pending:
            return None
        rows = _Rows(
            authors=[a for a in self.pending_authors.values() if a.pk is None],
            papers=self.pending,
            flags=self.pending_flags,
            job=self.job,
        )
        self.pending, self.pending_authors, self.pending_flags = [], {}, []
        return rows

    def _written(self, rows: "_Rows") -> None:
        for author in rows.authors:
            self.catalog.add_author(author)
        for known in rows.papers:
            self.catalog.saved(known)


def _write_rows(rows: _Rows) -> None:
    """Insert a batch's new authors, papers, authorships and flags (on the connection
    of the thread that runs it)."""
    _insert_new(Author, rows.authors)
    _insert_new(Paper, [known.paper for known in rows.papers])
    _insert_rows(
        Authorship,
        ["paper_id", "author_id", "position"],
        [
            (known.paper.id, author.id, position)
            for known in rows.papers
            for position, author in enumerate(known.link)
        ],
    )
    PossibleDuplicate.objects.bulk_create(
        PossibleDuplicate(
            paper_a_id=min(paper.pk, other.pk),
            paper_b_id=max(paper.pk, other.pk),
            reason=reason,
            job=rows.job,
        )
        for paper, other, reason in rows.flags
    )


@functools.cache
def _concrete_fields(model: type[models.Model]) -> list[tuple[str, models.Field]]:
    return [(f.attname, f) for f in model._meta.concrete_fields]


def _new(model: type[models.Model], **values) -> models.Model:
    """model(**values) for a model of plain fields (values by attname: `added_by_id`),
    a field not given having its default: what Model.__init__ makes, in a fifth of its
    time (an import makes tens of thousands). Model.__init__ sends pre_init and
    post_init and sets every field through its descriptor; with no receiver of either
    signal, and no descriptor that does more than store the value (none on these
    models: `_fast_init_fields` checks), its result is the instance's __dict__ filled
    in and a fresh ModelState, which is what this does. Otherwise Model.__init__."""
    defaults = _fast_init_fields(model)
    if defaults is None or pre_init.receivers or post_init.receivers:
        return model(
            *[
                values[name] if name in values else f.get_default()
                for name, f in _concrete_fields(model)
            ]
        )
    constants, per_instance = defaults
    obj = model.__new__(model)
    state = obj.__dict__
    state.update(constants)
    for name, f in per_instance:
        state[name] = f.get_default()
    state.update(values)
    state["_state"] = ModelState()
    return obj


@functools.cache
def _fast_init_fields(model: type[models.Model]):
    """(defaults that are constants, fields whose default is called per instance), or
    None when a field's attribute is set through a descriptor that does more than
    store it (a file, a related object's cache...): the model is then built the usual
    way. Only foreign keys' `_id` attributes have a setter here, which on a new
    instance (nothing cached) just stores the value."""
    constants, per_instance = {}, []
    for name, f in _concrete_fields(model):
        descriptor = model.__dict__.get(name)
        if hasattr(descriptor, "__set__") and not (
            isinstance(descriptor, ForeignKeyDeferredAttribute) and f.attname == name
        ):
            return None
        if f.has_default() and callable(f.default):
            per_instance.append((name, f))
        else:
            constants[name] = f.get_default()
    return constants, per_instance


def _insert_new(model: type[models.Model], objs: list[models.Model]) -> None:
    """Insert new model instances and set their ids, as bulk_create does. On PostgreSQL,
    with COPY (a fraction of the time for thousands of rows), the ids drawn from the
    table's sequence first (unless they were drawn already: `_draw_ids`); the
    instances' pre_save (auto_now) runs as it would."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs)
        return
    if objs[0].pk is None:
        _draw_ids((model, objs))
    meta = model._meta
    fields, values, special, stamped = _copy_fields(model)
    now = timezone.now()
    for obj in objs:
        for f in stamped:
            setattr(obj, f.attname, now)

    def rows():
        for obj in objs:
            row = [obj.pk, *values(obj)]
            for index, f in special:
                row[index] = f.pre_save(obj, True)
            yield row

    rows = rows() if special else ((obj.pk, *values(obj)) for obj in objs)
    with connection.wrap_database_errors, connection.cursor() as cursor:
        columns = [meta.pk.column, *[f.column for f in fields]]
        _copy(cursor, meta.db_table, columns, rows, types=_column_types(model))
    alias = connection.alias  # (a lookup in the connection handler's thread locals)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias


_DRAW_IDS = (
    "(WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq) "
    "SELECT %s::integer, nextval(s.seq) FROM s, generate_series(1, %s))"
)


def _draw_ids(*groups: tuple[type[models.Model], list[models.Model]]) -> None:
    """Give new instances, (model, instances) group by group, the ids an insert would,
    from their tables' sequences (PostgreSQL), before they are inserted: one query."""
    groups = tuple((model, objs) for model, objs in groups if objs)
    if not groups:
        return
    quote = connection.ops.quote_name
    # (Each sequence's name looked up once, not once per id: a tenth of the time.)
    sql = " UNION ALL ".join([_DRAW_IDS] * len(groups))
    params = [
        value
        for index, (model, objs) in enumerate(groups)
        for value in (quote(model._meta.db_table), model._meta.pk.column, index, len(objs))
    ]
    with connection.wrap_database_errors, connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [[] for _ in groups]
        for index, pk in cursor.fetchall():
            ids[index].append(pk)
    for (_, objs), drawn in zip(groups, ids, strict=True):
        for obj, pk in zip(objs, drawn, strict=True):
            obj.pk = pk


@functools.cache
def _copy_fields(model: type[models.Model]):
    """The fields an insert writes (all but the id); a function that reads their
    values off an instance at once; (position in the row, field) for those whose
    pre_save does more than read the value, other than auto_now timestamps: what each
    field's pre_save(obj, add=True) gives, as Model.save and bulk_create take it; and
    the auto_now timestamps, which take the time of the insert (one time for the rows
    inserted together). A date without auto_now reads its value, as a plain field."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    special, stamped = [], []
    for index, f in enumerate(fields, start=1):
        pre_save = type(f).pre_save
        if pre_save is models.Field.pre_save:
            continue
        if pre_save in (models.DateField.pre_save, models.DateTimeField.pre_save):
            if not (f.auto_now or f.auto_now_add):
                continue
            if pre_save is models.DateTimeField.pre_save:
                stamped.append(f)
                continue
        special.append((index, f))
    values = operator.attrgetter(*[f.attname for f in fields])
    if len(fields) == 1:
        values = lambda obj, get=values: (get(obj),)  # noqa: E731
    return fields, values, special, stamped


@functools.cache
def _column_types(model: type[models.Model]) -> list[str]:
    """The PostgreSQL type of each column `_insert_new` writes (the id first), for a
    binary COPY: `varchar(500)` is `varchar`."""
    fields = [model._meta.pk, *_copy_fields(model)[0]]
    return [re.sub(r"\(.*\)", "", f.db_type(connection)) for f in fields]


def _insert_rows(model: type[models.Model], columns: list[str], rows: list[tuple]) -> None:
    """Insert rows of integers (no model instances, no ids wanted back)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(model(**dict(zip(columns, row, strict=True))) for row in rows)
        return
    # Integers need no quoting in COPY's text format: the rows are written as one text,
    # in a tenth of the time psycopg takes to format them one by one.
    line = "\t".join(["%d"] * len(columns)) + "\n"
    text = "".join([line % row for row in rows])
    with connection.wrap_database_errors, connection.cursor() as cursor:
        _copy(cursor, model._meta.db_table, columns, text=text)


def _copy(cursor, table: str, columns: list[str], rows: Iterable = (), *, text="", types=None):
    """COPY the rows (values psycopg formats) or the text (in COPY's text format).
    With the columns' `types`, the rows are sent in COPY's binary format: values as
    they are, not written out as text and escaped (a third of the time, for rows of
    long texts such as papers)."""
    quote = connection.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    if types:
        sql += " (FORMAT BINARY)"
    with cursor.cursor.copy(sql) as copy:  # psycopg's cursor under Django's wrapper
        if types:
            copy.set_types(types)
        if text:
            copy.write(text)
        for row in rows:
            copy.write_row(row)


class _AnyOf(In):
    """`column IN (values)`, which PostgreSQL receives as `column IN (SELECT
    unnest(%s::type[]))`: one array parameter rather than thousands, each quoted by the
    client, and a join in any plan (a prepared statement's generic plan for
    `= ANY(%s)` compares each row with each element). Strings are sent as one text
    the server splits into the array."""

    def get_prep_lookup(self):
        return list(self.rhs)  # values the import made plain: no per-value preparing

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        array = f"{self.lhs.output_field.cast_db_type(connection)}[]"
        values = list(self.rhs)
        if all(type(value) is str and value for value in values):
            text = _SEPARATOR.join(values)
            if text.count(_SEPARATOR) == len(values) - 1:  # (no value holds it)
                # Strings as one text the server splits: psycopg quotes an array's
                # elements one by one, in Python (a tenth of an import's lookups).
                sql = f"{lhs} IN (SELECT unnest(string_to_array(%s, %s)::{array}))"
                return sql, (*lhs_params, text, _SEPARATOR)
        return f"{lhs} IN (SELECT unnest(%s::{array}))", (*lhs_params, values)


_SEPARATOR = "\x1f"  # (ASCII's unit separator: no key, DOI or identifier holds it)


_SIMILAR = "same title, year and first author"
_MAX_ARXIV_VERSION = 32767  # (the column's largest value)
_AUTHOR_NAME_MAX = Author._meta.get_field("name").max_length
_LIMITED_FIELDS = [
    field
    for field in Paper._meta.concrete_fields
    if isinstance(field, models.CharField) and field.max_length
]


def _check_lengths(paper: Paper) -> None:
    """What the columns would refuse, said the way a form says it (full_clean is ten
    times slower and checks what `_clean` already made right)."""
    errors = []
    for column in _LIMITED_FIELDS:
        value = getattr(paper, column.attname)
        if value is not None and len(value) > column.max_length:
            errors.append(
                f"{column.name.replace('_', ' ')}: Ensure this value has at most "
                f"{column.max_length} characters (it has {len(value)})."
            )
    if errors:
        raise _ItemFailed("; ".join(errors))


def _related_titles(paper: Paper, record: PaperRecord) -> bool:
    """Whether two titles may name the same work: equal keys, one the other's beginning
    ("TVM" / "TVM: an automated end-to-end ..."), or at least half their words shared."""
    a, b = paper.title_key, _title_key(record.title)
    if not a or not b or a == b or a.startswith(b + " ") or b.startswith(a + " "):
        return True
    words_a, words_b = set(a.split()), set(b.split())
    return len(words_a & words_b) * 2 >= min(len(words_a), len(words_b))


def _untrusted(label: str, value: str | None, holder: Paper) -> str:
    return f"ignored the {label} {value}: it is #{holder.pk} “{holder.title}”, another title"


def _clean(record: PaperRecord) -> _Plan:
    """The record in the catalog's normal form, notes on what was dropped, its keys."""
    notes = []
    changes = {}  # what differs from the record (most of a BibTeX file: nothing)
    if record.source not in _SOURCES:
        changes["source"] = Paper.Source.BIBTEX
    title = _single_spaced(record.title)
    if not title:
        raise _ItemFailed("the entry has no title")
    arxiv_id, version = record.arxiv_id, record.arxiv_version
    if arxiv_id:
        parsed = parse_arxiv_id(arxiv_id)
        if parsed is None:
            notes.append(f"ignored the malformed arXiv id {arxiv_id!r}")
            arxiv_id = None
        else:
            arxiv_id, version = parsed[0], version or parsed[1]
    doi = record.doi
    if doi:
        doi = normalize_doi(doi)
        if doi is None:
            notes.append(f"ignored the malformed DOI {record.doi!r}")
        elif doi.startswith(_ARXIV_DOI_PREFIX):
            # arXiv's DataCite DOI names the preprint: an arXiv id, not a published DOI.
            parsed = parse_arxiv_id(doi[len(_ARXIV_DOI_PREFIX) :])
            arxiv_id = arxiv_id or (parsed[0] if parsed else None)
            doi = None
            if record.source == Paper.Source.DOI:
                changes["source"] = Paper.Source.ARXIV
    if version is not None and not 1 <= version <= _MAX_ARXIV_VERSION:
        notes.append(f"ignored the implausible arXiv version {version}")
        version = None
    year = record.year
    if year is not None and not 1800 <= year <= 2200:
        notes.append(f"ignored the implausible year {year}")
        year = None
    for name in ("url", "pdf_url"):
        value = original = getattr(record, name)
        if value:
            value = value.strip()
            if value and not _valid_url(value):
                notes.append(f"ignored the malformed {name.replace('_', ' ')} {value[:80]!r}")
                value = ""
            if value != original:
                changes[name] = value
    if record.entry_type not in _ENTRY_TYPES:
        changes["entry_type"] = "misc"
    # A name with no letter or digit ("?", "-") has no key to match it by: dropped.
    authors, organisations, people, keys = [], set(), [], set()
    for index, name in enumerate(record.authors):
        name = _single_spaced(name)
        key = _author_key(name) if name else ""
        if not key:
            if name:
                notes.append(f"ignored the author {name[:40]!r}: a name needs a letter or digit")
            continue
        is_organisation = index in record.organisations
        if is_organisation:
            organisations.add(len(authors))
        authors.append(name)
        if key not in keys:
            keys.add(key)
            people.append((name, key, is_organisation))
    if len(people) < len(authors):
        notes.append("an author listed twice was kept once")
    if authors != record.authors:
        changes["authors"] = authors
    if organisations != record.organisations:
        changes["organisations"] = organisations
    if not arxiv_id:
        version = None
    venue = _single_spaced(record.venue)
    for name, value in (
        ("title", title),
        ("arxiv_id", arxiv_id),
        ("arxiv_version", version),
        ("doi", doi),
        ("year", year),
        ("venue", venue),
    ):
        if getattr(record, name) != value:
            changes[name] = value
    # A record already in normal form is not copied.
    cleaned = dataclasses.replace(record, **changes) if changes else record
    return _Plan(record=cleaned, notes=notes, people=people, title_key=_title_key(title))


def _single_spaced(text: str) -> str:
    """The text with its whitespace runs made single spaces, ends stripped."""
    return " ".join(text.split())


def _valid_url(value: str) -> bool:
    """What URLField's validator says of `value`. Most URLs are plain http(s) URLs of
    an ASCII host name (<https://doi.org/10.1145/...>), which the validator accepts
    (the pattern is a narrower form of its own): they are recognised by this one
    pattern, in a tenth of the time; the others go through the validator."""
    match = _PLAIN_URL.fullmatch(value)
    if match and len(value) <= MAX_URL_LENGTH and len(match.group(1)) <= 253:
        return True
    try:
        _url_validator(value)
    except ValidationError:
        return False
    return True


def _paper_rank(paper: Paper) -> int:
    return 0 if paper.metadata_incomplete else _SOURCE_RANK.get(paper.source, 4)


def _changes(paper: Paper, author_keys: list[str], plan: _Plan, *, repeat=False):
    """What the plan's record changes on `paper`: (field values, new author list or
    None, notes for the report). Never erases a value, never overwrites an identifier. With
    `repeat` (an earlier item of the same import wrote or met the paper), a record of
    the same rank only fills empty fields unless it is a newer arXiv version."""
    record = plan.record
    rank = _SOURCE_RANK.get(record.source, 2)
    older = bool(
        record.arxiv_version and paper.arxiv_version and record.arxiv_version < paper.arxiv_version
    )
    newer = bool(
        record.arxiv_version and paper.arxiv_version and record.arxiv_version > paper.arxiv_version
    )
    is_arxiv = record.source == Paper.Source.ARXIV
    authoritative = rank >= _paper_rank(paper) and not (is_arxiv and older)
    if repeat and rank == _paper_rank(paper) and not newer:
        authoritative = False
    fresh_arxiv = is_arxiv and not older
    changes: dict = {}
    notes: list[str] = []

    def put(name, value, *, replace, empty=("", None)):
        if value in empty:
            return
        current = getattr(paper, name)
        if current != value and (replace or current in empty):
            changes[name] = value

    put("title", record.title, replace=authoritative)
    if "title" in changes:
        changes["title_key"] = plan.title_key
    put("year", record.year, replace=authoritative)
    put("venue", record.venue, replace=authoritative)
    put("entry_type", record.entry_type, replace=authoritative, empty=("", None, "misc"))
    put("url", record.url, replace=authoritative)
    put("abstract", record.abstract, replace=authoritative)
    put("source_bibtex", record.source_bibtex, replace=authoritative)
    for name in _ARXIV_DETAILS:
        put(name, getattr(record, name), replace=fresh_arxiv)
    put("pdf_url", record.pdf_url, replace=fresh_arxiv and "arxiv.org/" in paper.pdf_url)
    put("arxiv_id", record.arxiv_id, replace=False)
    put("doi", record.doi, replace=False)

    authors = None
    wanted = plan.author_keys
    if wanted and wanted != author_keys and (authoritative or not author_keys):
        authors = record.authors
        if record.more_authors != paper.more_authors:
            changes["more_authors"] = record.more_authors
    if paper.metadata_incomplete and (authors or author_keys):
        changes["metadata_incomplete"] = False
    upgraded = rank > _paper_rank(paper) and authoritative and record.source != paper.source
    if (changes or authors is not None) and upgraded:
        changes["source"] = record.source

    if "arxiv_version" in changes and paper.arxiv_version:
        notes.append(f"updated to v{changes['arxiv_version']}")
    if "arxiv_id" in changes:
        notes.append(f"added arXiv id {changes['arxiv_id']}")
    if "doi" in changes:
        notes.append(f"added DOI {changes['doi']}")
    if "venue" in changes and paper.venue:
        notes.append(f"venue upgraded to “{changes['venue']}”")
    elif "venue" in changes:
        notes.append(f"venue set to “{changes['venue']}”")
    if record.doi and paper.doi and record.doi != paper.doi:
        notes.append(f"kept DOI {paper.doi} (the record says {record.doi})")
    described = {"arxiv_version", "arxiv_id", "doi", "venue", "title_key", "source"}
    others = [name.replace("_", " ") for name in changes if name not in described]
    if authors is not None:
        others.append("authors")
    if others:
        notes.append("updated " + ", ".join(others))
    return changes, authors, notes


def _join(parts: Iterable[str]) -> str:
    return "; ".join(part for part in parts if part)


# -- jobs ---------------------------------------------------------------------------


def create_identifier_job(
    *, text: str, created_by=None, kind: str = ImportJob.Kind.IDENTIFIERS
) -> ImportJob:
    """An import job for the identifiers in `text`, ready for its preview. Unrecognised
    tokens become failed items."""
    items = []
    for identifier in parse_identifiers(text=text):
        item = {"input": identifier.input, "line": identifier.line, "kind": identifier.kind}
        if identifier.kind:
            item.update(id=identifier.value, version=identifier.version)
        else:
            item["error"] = "not an arXiv id or URL, nor a DOI"
        items.append(item)
    return _new_job(kind=kind, input_text=text, items=items, created_by=created_by)


def create_bibtex_job(
    *,
    records: list[PaperRecord],
    errors: list[ItemError],
    text: str = "",
    filename: str = "",
    created_by=None,
) -> ImportJob:
    """An import job for parsed BibTeX: one item per entry, then one per block the
    parser could not read (with its line and excerpt). The job row keeps the records
    (as JSON, about twice the file's size) for the preview -> confirm flow, which runs
    them in a later request or task."""
    items = [_record_item(record, record_to_json(record)) for record in records]
    items += [_error_item(error) for error in errors]
    return _new_job(
        kind=ImportJob.Kind.BIBTEX,
        input_text=text,
        filename=filename,
        items=items,
        created_by=created_by,
    )


def create_bibtex_run(*, parsed: bibtex_import.ParsedBibtex, filename: str = "") -> ImportJob:
    """An import job for a parsed BibTeX file that is run at once in this process
    (`import_now`, without a preview: the command). Its items are only in memory, the
    row stores none (its report is stored as usual), and each entry is read into its
    record when the import reaches its batch: the reading of one batch overlaps the
    writing of the one before (see `_import_batches`), and the entries and the records
    are never all held at once. An entry without a title fails where it is; then come
    the blocks the parser could not read."""
    items: list[dict] = [
        {"input": entry.key, "line": None, "kind": "bibtex", "entry": entry}
        for entry in parsed.entries
    ]
    items += [_error_item(error) for error in parsed.errors]
    return _new_job(
        kind=ImportJob.Kind.BIBTEX,
        input_text="",
        filename=filename,
        items=items,
        created_by=None,
        store_items=False,
    )


def _record_item(record: PaperRecord, value: dict | PaperRecord) -> dict:
    """A BibTeX job's item for a record (`value`: the record, or its JSON to store)."""
    return {
        "input": record.citation_key or record.title[:80],
        "line": None,
        "kind": "bibtex",
        "record": value,
    }


def _error_item(error: ItemError) -> dict:
    excerpt = f" ({error.excerpt.strip()[:80]})" if error.excerpt.strip() else ""
    return {
        "input": error.input or (f"line {error.line}" if error.line else "?"),
        "line": error.line,
        "kind": "bibtex",
        "error": f"{error.reason}{excerpt}",
    }


def _read_entries(items: list[dict]) -> None:
    """Read the BibTeX entries these items hold (see create_bibtex_run) into their
    records, or their errors."""
    for item in items:
        if "entry" in item:
            read = bibtex_import.read_entry(item.pop("entry"))
            is_record = isinstance(read, PaperRecord)
            item.update(_record_item(read, read) if is_record else _error_item(read))


def _new_job(*, kind, input_text, items, created_by, filename="", store_items=True) -> ImportJob:
    stream = store_items and _streamed(items)
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            status=ImportJob.Status.PREPARING,
            input_text=input_text,
            filename=filename[:255],
            items=items if store_items and not stream else [],
            total=len(items),
            created_by=created_by,
        )
        if stream:
            _stream_json(job, "items", items)
    job.items = items
    return job


def _streamed(values: list) -> bool:
    return connection.vendor == "postgresql" and len(values) > _STREAMED_ITEMS


def _save_job(job: ImportJob, fields: list[str]) -> None:
    """job.save(update_fields=fields), except that on PostgreSQL a long list of items
    is sent with COPY: see _stream_json. (A preview or report, a few hundred bytes an
    item, is sent as one document: in half the time, for a tenth of the memory the
    parse of its file takes.)"""
    streamed = [name for name in fields if name == "items" and _streamed(job.items)]
    with transaction.atomic():
        if rest := [name for name in fields if name not in streamed]:
            job.save(update_fields=rest)
        for name in streamed:
            _stream_json(job, name, getattr(job, name))


def _stream_json(job: ImportJob, name: str, values: list) -> None:
    """Write a long JSON list into the job's column `name` with COPY, one row per
    element into a temporary table, gathered into one value by the server. Sent as
    one parameter, the document (the items of a BibTeX file are twice its size) would
    be held by the client several times over on its way (encoded, quoted, inside the
    query): more memory than the parsed file itself."""
    from psycopg.types.json import Jsonb

    quote = connection.ops.quote_name
    table, column = quote("papers_importjob_values"), quote(ImportJob._meta.get_field(name).column)
    with connection.wrap_database_errors, connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {table} (n integer, value jsonb)")
        _copy(cursor, "papers_importjob_values", ["n", "value"], enumerate(map(Jsonb, values)))
        cursor.execute(
            f"UPDATE {quote(ImportJob._meta.db_table)} SET {column} = "  # noqa: S608 (names)
            f"coalesce((SELECT jsonb_agg(value ORDER BY n) FROM {table}), '[]') WHERE id = %s",
            [job.pk],
        )
        cursor.execute(f"DROP TABLE {table}")


def start_preview(*, job: ImportJob) -> None:
    """Prepare the job's preview: inline for a small job that has nothing to fetch (a
    BibTeX file), else as a task. Fetching, even a few identifiers, may wait on
    arXiv's pace, timeouts and retries longer than a web request may take; the job
    page shows its progress meanwhile."""
    if job.total <= inline_max_items() and not _to_fetch(job):
        preview_import(job=job)
        return
    from papers.tasks import preview_import_task

    transaction.on_commit(lambda: preview_import_task.enqueue(job.pk))


def confirm_import(*, job: ImportJob) -> bool:
    """Run a previewed job: inline when small, else queued as a task. False when the
    job is not waiting for confirmation (already confirmed, say by a second click)."""
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEW).update(
        status=ImportJob.Status.QUEUED
    )
    if not claimed:
        return False
    job.status = ImportJob.Status.QUEUED
    if job.total <= inline_max_items():
        run_import(job=job)
    else:
        from papers.tasks import run_import_task

        transaction.on_commit(lambda: run_import_task.enqueue(job.pk))
    return True


def import_now(*, job: ImportJob, dry_run: bool = False) -> ImportJob:
    """Run the job here and now whatever its size (the management commands), without
    a preview; with `dry_run`, only the preview, and the job waits for confirmation."""
    if dry_run:
        return preview_import(job=job)
    job.status = ImportJob.Status.QUEUED
    job.save(update_fields=["status"])
    return run_import(job=job)


def failed_items(job: ImportJob) -> int:
    """How many items failed (in the report, or in the preview before a run)."""
    return count_outcomes(job.report or job.preview)[FAILED]


def preview_import(*, job: ImportJob) -> ImportJob:
    """Fetch what the job's items need, then dry-run the import (inside a transaction
    rolled back at the end) to record what each item would become."""
    with _job_guard(job):
        job.status = ImportJob.Status.PREPARING
        job.processed = 0
        job.save(update_fields=["status", "processed"])
        _fetch_items(job)
        with transaction.atomic():
            entries = _run_items(job, dry_run=True)
            transaction.set_rollback(True)
        job.preview = entries
        job.status = ImportJob.Status.PREVIEW
        job.processed = job.total
        _save_job(job, ["preview", "status", "processed"])
    return job


def run_import(*, job: ImportJob) -> ImportJob:
    """Write the job's items into the catalog (see _import_batches), saving progress
    at most every half second and the report every few seconds and at the end."""
    with _job_guard(job):
        job.status = ImportJob.Status.RUNNING
        job.started_at = timezone.now()
        job.processed = 0
        job.report = []
        job.save(update_fields=["status", "started_at", "processed", "report"])
        if _to_fetch(job):
            _fetch_items(job)  # a job run without a preview (the commands)
            job.processed = 0
        _run_items(job, dry_run=False)
        job.status = ImportJob.Status.DONE
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at"])
    return job


class _job_guard:
    """Turn an unexpected error into a failed job (with the reason) instead of a job
    left running forever; the traceback goes to the log."""

    def __init__(self, job: ImportJob):
        self.job = job

    def __enter__(self):
        return self.job

    def __exit__(self, exc_type, exc, tb):
        if not isinstance(exc, Exception):  # none, or an interrupt or exit: let it go
            return False
        logger.exception("import job %s failed", self.job.pk, exc_info=(exc_type, exc, tb))
        self.job.status = ImportJob.Status.FAILED
        self.job.error = f"Unexpected error: {exc_type.__name__}: {exc}"[:2000]
        self.job.finished_at = timezone.now()
        self.job.processed = min(self.job.processed, self.job.total)
        # The report and counts of the items done so far (a run saves its report every
        # few seconds, its counts every half second).
        self.job.save(update_fields=["status", "error", "finished_at", *_PROGRESS_FIELDS])
        return True


def _to_fetch(job: ImportJob) -> list[int]:
    """The indexes of the identifier items that still need fetching (neither record nor
    error)."""
    return [
        i
        for i, item in enumerate(job.items)
        if item["kind"] in _FETCHED_KINDS and "record" not in item and "error" not in item
    ]


_FETCHED_KINDS = frozenset({"arxiv", "doi"})


def _fetch_items(job: ImportJob) -> None:
    """Fetch the record of every identifier item that has neither record nor error,
    batching arXiv ids; progress is saved after each request, the items (with what
    was fetched) once at the end: rewriting them all after each DOI would grow with
    the square of their number."""
    items = job.items
    pending = _to_fetch(job)
    done = job.total - len(pending)
    arxiv = [i for i in pending if items[i]["kind"] == "arxiv"]
    dois = [i for i in pending if items[i]["kind"] == "doi"]
    for start in range(0, len(arxiv), _ARXIV_BATCH):
        batch = arxiv[start : start + _ARXIV_BATCH]
        _fetch_arxiv_batch([items[i] for i in batch])
        done += len(batch)
        _save_progress(job, done)
    fetched: dict[str, dict] = {}
    for i in dois:
        doi = items[i]["id"]
        if doi not in fetched:
            fetched[doi] = _fetch_doi(doi)
        items[i].update(fetched[doi])
        done += 1
        _save_progress(job, done)
    if pending:
        _save_job(job, ["items"])


def _save_progress(job: ImportJob, done: int) -> None:
    job.processed = min(done, job.total)
    job.save(update_fields=["processed"])


def _fetch_arxiv_batch(items: list[dict]) -> None:
    queries = list(dict.fromkeys(_arxiv_query(item) for item in items))
    try:
        result = fetch_arxiv(ids=queries)
    except FetchError as exc:
        for item in items:
            item["error"] = str(exc)
        return
    reasons = {}
    for error in result.errors:
        reasons[error.input] = error.reason
        parsed = parse_arxiv_id(error.input)
        if parsed:
            reasons.setdefault(parsed[0], error.reason)
    for item in items:
        record = result.records.get(item["id"])
        if record is not None:
            item["record"] = record_to_json(record)
        else:
            item["error"] = (
                reasons.get(_arxiv_query(item))
                or reasons.get(item["id"])
                or f"arXiv has no paper {_arxiv_query(item)}"
            )


def _arxiv_query(item: dict) -> str:
    return f"{item['id']}v{item['version']}" if item.get("version") else item["id"]


def _fetch_doi(doi: str) -> dict:
    try:
        return {"record": record_to_json(fetch_doi(doi=doi))}
    except FetchError as exc:
        return {"error": str(exc)}


def _run_items(job: ImportJob, *, dry_run: bool) -> list[dict]:
    """Import the job's items; in a real run, save progress and counts after a batch at
    most every half second, the report so far every few seconds, and both at the end
    (rewriting a report of thousands of entries after every batch would cost more than
    the import). Returns the report entries."""
    importer = _Importer(added_by=job.created_by, job=None if dry_run else job)
    entries: list[dict] = []
    saved = progressed = time.monotonic()
    reported = 0

    def report(outcomes: list[tuple[int, ItemResult]]) -> None:
        nonlocal saved, progressed, reported
        for n, result in outcomes:
            entries.append(_report_entry(n, result, importer.catalog, dry_run=dry_run))
        if not dry_run:
            now = time.monotonic()
            with_report = now - saved >= _REPORT_EVERY
            if with_report or now - progressed >= _PROGRESS_EVERY:
                _save_report(job, entries, with_report=with_report)
                progressed = now
            else:
                _tally(job, entries)  # (in memory, for _job_guard if the run fails)
            if with_report:
                saved, reported = now, len(entries)

    with bibtex_import.gc_paused():  # (see there)
        _import_batches(importer, job.items, report)
        if not dry_run and reported < len(entries):
            _save_report(job, entries, with_report=True)
    return entries


def _import_batches(importer: _Importer, items: list[dict], report, *, batch_size=None):
    """Import items given as {"input", "line", and "record" (JSON or a PaperRecord),
    "error", or "entry" (a parsed BibTeX entry, read when its batch comes: see
    create_bibtex_run)} batch by batch, each matched against the catalog with one set
    of queries; call
    `report([(item number, ItemResult)...])` for each batch, in order, once it is in
    the database.

    On PostgreSQL, outside a transaction, a batch's inserts are written behind (see
    papers.write_behind) while the next batch is matched. When the database refuses
    the batch in flight, what it and the batch matched since did to the catalog is
    undone; the refused batch is written again item by item, the next matched again."""
    batch_size = batch_size or _BATCH
    writer = None
    # (Not inside a transaction: the writer's connection could not see what it holds.)
    in_transaction = connection.in_atomic_block
    if len(items) > batch_size and connection.vendor == "postgresql" and not in_transaction:
        writer = importer.writer = WriteBehind()
    inflight: _Batch | None = None  # the batch the writer is writing

    try:
        for start, end in _batch_bounds(len(items), batch_size, quarters=writer is not None):
            _read_entries(items[start:end])
            numbered = list(enumerate(items[start:end], start=start + 1))
            records = {
                n: record_from_json(item["record"]) for n, item in numbered if "record" in item
            }
            importer.load(list(records.values()))
            entries = [
                (n, records[n], item["input"], item.get("line"))
                for n, item in numbered
                if n in records
            ]
            while True:
                batch = _Batch(items=numbered, entries=entries)
                try:
                    importer.run_batch(batch, write_behind=writer is not None)
                    refused = writer is not None and not writer.wait()
                except EarlierBatchRefused:
                    refused = not writer.wait()
                if not refused:
                    break
                logger.info("import batch refused by the database: retrying item by item")
                importer.catalog.undo(batch.journal)
                importer.catalog.undo(inflight.journal)
                done, inflight = inflight, None
                done.results = importer.import_items(done.entries)
                report(done.outcomes())
            if inflight is not None:
                done, inflight = inflight, None
                report(done.outcomes())
            if batch.rows is not None:
                writer.submit(_write_rows, batch.rows)
                inflight = batch
            else:
                report(batch.outcomes())
        if inflight is not None:
            done, inflight = inflight, None
            if not writer.wait():
                logger.info("import batch refused by the database: retrying item by item")
                importer.catalog.undo(done.journal)
                done.results = importer.import_items(done.entries)
            report(done.outcomes())
    finally:
        if writer is not None:
            importer.writer = None
            try:
                # (only after an error here: what the writer committed is reported)
                if inflight is not None and writer.wait():
                    report(inflight.outcomes())
            finally:
                writer.close()


def _batch_bounds(count: int, size: int, *, quarters: bool) -> list[tuple[int, int]]:
    """(start, end) of each batch of `count` items. With `quarters` (written behind),
    the first batch and the last are a quarter of the others: the first is matched
    while nothing is being written yet, the last written while nothing is left to
    match."""
    edge = size // 4 if quarters and count > 2 * size else 0
    bounds = [(0, edge)] if edge else []
    middle_end = count - edge
    bounds += [(s, min(s + size, middle_end)) for s in range(edge, middle_end, size)]
    return bounds + ([(middle_end, count)] if edge else [])


def import_records(
    *, records: list[PaperRecord], added_by=None, dry_run: bool = False, batch_size=None
) -> list[ItemResult]:
    """Import records (already fetched or parsed) without a job: one ItemResult per
    record, in order. With `dry_run`, nothing is kept (the writes are rolled back).
    `batch_size`: how many records are matched and inserted together."""
    importer = _Importer(added_by=added_by)
    items = [
        {"input": r.citation_key or r.arxiv_id or r.doi or r.title[:80], "record": r}
        for r in records
    ]
    results: list[ItemResult] = []

    def report(outcomes: list[tuple[int, ItemResult]]) -> None:
        results.extend(result for _, result in outcomes)

    with transaction.atomic() if dry_run else contextlib.nullcontext():
        _import_batches(importer, items, report, batch_size=batch_size)
        if dry_run:
            transaction.set_rollback(True)
    return results


def _report_entry(n: int, result: ItemResult, catalog: _Catalog, *, dry_run: bool) -> dict:
    paper, other = result.paper, result.other
    entry = {
        "n": n,
        "input": result.input,
        "line": result.line,
        "outcome": result.outcome,
        "paper_id": None,
        "title": paper.title if paper is not None else "",
        "other_id": None,
        "other_item": None,
        "same_as_item": result.same_as_item,
        "reason": result.reason,
    }
    if paper is not None:
        known = catalog.by_pk.get(paper.pk)
        if dry_run and known is not None and known.created_here:
            # A paper this dry run created has no id that will last: name its item.
            if known.created_item != n:
                entry["paper_item"] = known.created_item
        else:
            entry["paper_id"] = paper.pk
    if other is not None:
        entry["other_title"] = other.title
        known = catalog.by_pk.get(other.pk)
        if dry_run and known is not None and known.created_here:
            entry["other_item"] = known.created_item
        else:
            entry["other_id"] = other.pk
    return entry


def _save_report(job: ImportJob, entries: list[dict], *, with_report: bool) -> None:
    """Save the counts and progress, and with `with_report` the report itself (the job
    keeps it in memory in any case, for _job_guard to save if the run fails)."""
    _tally(job, entries)
    _save_job(job, [name for name in _PROGRESS_FIELDS if with_report or name != "report"])


_PROGRESS_FIELDS = (
    "report",
    "processed",
    "created_count",
    "updated_count",
    "unchanged_count",
    "duplicate_count",
    "possible_duplicate_count",
    "failed_count",
)


def _tally(job: ImportJob, entries: list[dict]) -> None:
    """The job's report, progress and counts (in memory) from the report entries."""
    counts = count_outcomes(entries)
    job.report = entries
    job.processed = len(entries)
    job.created_count = counts[CREATED]
    job.updated_count = counts[UPDATED]
    job.unchanged_count = counts[UNCHANGED]
    job.duplicate_count = counts[DUPLICATE]
    job.possible_duplicate_count = counts[POSSIBLE_DUPLICATE]
    job.failed_count = counts[FAILED]


def report_rows(*, job: ImportJob) -> list[dict]:
    """The entries the job page and the CSV show: the report once the job has run, the
    preview before; each with its one-line outcome (`describe`)."""
    ran = bool(job.report)
    entries = job.report if ran else job.preview
    return [{**entry, "label": describe(entry, preview=not ran)} for entry in entries]


BibtexRefused = bibtex_import.BibtexRefused


def read_bibtex_upload(*, data: bytes, filename: str = "") -> bibtex_import.BibtexResult:
    """Parse uploaded or pasted BibTeX. Raises BibtexRefused (too large, undecodable)
    for input refused as a whole; blocks it could not parse are in `errors`."""
    return bibtex_import.read_bibtex(data=data, filename=filename)


def parse_bibtex_upload(*, data: bytes, filename: str = "") -> bibtex_import.ParsedBibtex:
    """Like read_bibtex_upload, with the entries not yet read into records: for
    `create_bibtex_run`."""
    return bibtex_import.parse_bibtex(data=data, filename=filename)


# -- one item, for the "add a reading by pasting" feature -----------------------------


def import_single(*, text: str, added_by) -> ItemResult:
    """Import ONE arXiv id or URL, DOI, or BibTeX entry and return the matched or
    created paper. Never raises for bad input: the result says why it failed.

    When the source cannot be reached but the paper is already in the catalog, the
    existing paper is returned ("unchanged", with the reason it was not refreshed).
    """
    text = text.strip()
    if text.startswith("@"):
        record, failure = _single_bibtex(text)
        label = (record.citation_key or record.title[:80]) if record else text[:80]
    else:
        identifiers = parse_identifiers(text=text)
        if len(identifiers) != 1 or not identifiers[0].kind:
            return ItemResult(
                input=text[:200],
                outcome=FAILED,
                reason="enter one arXiv id or URL, one DOI, or one BibTeX entry",
            )
        identifier = identifiers[0]
        label = identifier.input
        record, failure = _single_fetch(identifier)
        if record is None:
            existing = _existing(identifier)
            if existing is not None:
                return ItemResult(
                    input=label,
                    outcome=UNCHANGED,
                    paper=existing,
                    reason=f"already in the catalog (not refreshed: {failure})",
                )
    if record is None:
        return ItemResult(input=label, outcome=FAILED, reason=failure)
    importer = _Importer(added_by=added_by)
    importer.load([record])
    return importer.import_record(record, number=1, input=label)


def _single_bibtex(text: str) -> tuple[PaperRecord | None, str]:
    try:
        result = read_bibtex_upload(data=text.encode("utf-8"))
    except BibtexRefused as exc:
        return None, str(exc)
    if result.errors:
        error = result.errors[0]
        where = f" at line {error.line}" if error.line else ""
        return None, f"the BibTeX could not be read{where}: {error.reason}"
    if len(result.records) != 1:
        return None, f"paste one BibTeX entry ({len(result.records)} found)"
    return result.records[0], ""


def _single_fetch(identifier: Identifier) -> tuple[PaperRecord | None, str]:
    item = {"input": identifier.input, "id": identifier.value, "version": identifier.version}
    if identifier.kind == "arxiv":
        _fetch_arxiv_batch([item])
    else:
        item.update(_fetch_doi(identifier.value))
    if "record" in item:
        return record_from_json(item["record"]), ""
    return None, item.get("error", "")


def _existing(identifier: Identifier) -> Paper | None:
    lookup = {"arxiv_id" if identifier.kind == "arxiv" else "doi": identifier.value}
    return Paper.objects.filter(**lookup).first()


# -- duplicates and merging -----------------------------------------------------------


def dismiss_duplicate(*, a: Paper, b: Paper, by) -> PossibleDuplicate:
    """Record that a and b are not the same paper, so the pair is not flagged again."""
    if a.pk == b.pk:
        raise ValueError("a paper is not a duplicate of itself")
    first, second = sorted([a.pk, b.pk])
    pair, _ = PossibleDuplicate.objects.update_or_create(
        paper_a_id=first,
        paper_b_id=second,
        defaults={
            "status": PossibleDuplicate.Status.NOT_DUPLICATE,
            "decided_by": by,
            "decided_at": timezone.now(),
        },
    )
    return pair


def flag_possible_duplicates(*, papers=None) -> int:
    """Look for pairs with the same title key, years within one and the same first
    author (among the catalog, for the given papers or all of them); flag the pairs not
    flagged or dismissed before. Returns how many pairs were newly flagged."""
    keys = (
        Paper.objects.exclude(title_key="")
        .values("title_key")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list("title_key", flat=True)
    )
    if papers is not None:
        keys = keys.filter(title_key__in=papers.values("title_key"))
    groups = defaultdict(list)
    for paper in Paper.objects.filter(title_key__in=keys).with_authors().order_by("pk"):
        groups[paper.title_key].append(paper)
    existing = set(PossibleDuplicate.objects.values_list("paper_a_id", "paper_b_id"))
    new = []
    for papers in groups.values():
        for i, first in enumerate(papers):
            for second in papers[i + 1 :]:
                if (first.pk, second.pk) in existing or not _similar(first, second):
                    continue
                new.append(PossibleDuplicate(paper_a=first, paper_b=second, reason=_SIMILAR))
    PossibleDuplicate.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def _similar(a: Paper, b: Paper) -> bool:
    first_a = [author.key for author in a.ordered_authors[:1]]
    first_b = [author.key for author in b.ordered_authors[:1]]
    return bool(
        first_a
        and first_a == first_b
        and a.year is not None
        and b.year is not None
        and abs(a.year - b.year) <= 1
    )


# Fields the merge form offers; a choice of "arxiv" takes all the arXiv fields together.
MERGE_FIELDS = {
    "title": ["title", "title_key"],
    "authors": ["more_authors"],
    "year": ["year"],
    "venue": ["venue"],
    "entry_type": ["entry_type"],
    "abstract": ["abstract"],
    "arxiv": ["arxiv_id", *_ARXIV_DETAILS],
    "doi": ["doi"],
    "url": ["url"],
    "pdf_url": ["pdf_url"],
    "citation_key": ["citation_key"],
    "source_bibtex": ["source_bibtex"],
}
_PROGRESS_ORDER = {"to_read": 0, "reading": 1, "read": 2}
MERGE_MARKER = "Merged from a second review of the same paper"


class MergeError(Exception):
    """The two papers cannot be merged; the message says why."""


def merge_papers(*, keep: Paper, other: Paper, fields: dict[str, str], by) -> Paper:
    """Merge `other` into `keep` and delete `other`; nothing is lost.

    `fields` maps a MERGE_FIELDS name to "keep" or "other": whose value survives. A
    field not named keeps `keep`'s value, or takes `other`'s when `keep` has none.
    Topics and tags are united. Readings, reading progress and reviews move to `keep`:

    * a lecture assigning both keeps one reading (required if either was; both notes);
    * a user with progress on both keeps the more advanced status, the earliest start,
      the latest finish and both notes;
    * an author with a review of each keeps the submitted one (both submitted, or both
      drafts: the most recent), and the other review's answers are appended to it,
      section by section, under a marker naming where they come from, so no text is
      lost; its ratings are written into that marker.
    """
    if keep.pk == other.pk:
        raise MergeError("a paper cannot be merged with itself")
    unknown = set(fields) - set(MERGE_FIELDS)
    bad = {value for value in fields.values()} - {"keep", "other"}
    if unknown or bad:
        raise MergeError(f"unknown merge choices: {sorted(unknown | bad)}")
    with transaction.atomic():
        keep = Paper.objects.select_for_update().get(pk=keep.pk)
        other = Paper.objects.select_for_update().get(pk=other.pk)
        values, take_authors = _merged_values(keep, other, fields)
        other_authorships = list(other.authorships.order_by("position"))
        _move_rows("Reading", "lecture_id", keep, other, _merge_readings)
        _move_rows("ReadingProgress", "user_id", keep, other, _merge_progress)
        _move_rows("Review", "author_id", keep, other, _merge_reviews)
        keep.topics.add(*other.topics.all())
        keep.tags.add(*other.tags.all())
        _move_duplicate_flags(keep, other)
        other_label = f"#{other.pk} “{other.title}”"
        LogEntry.objects.log_actions(
            user_id=by.pk,
            queryset=[other],
            action_flag=DELETION,
            change_message=f"Merged into #{keep.pk}",
            single_object=True,
        )
        other.delete()
        for name, value in values.items():
            setattr(keep, name, value)
        keep.save()
        if take_authors:
            keep.authorships.all().delete()
            Authorship.objects.bulk_create(
                Authorship(paper=keep, author_id=a.author_id, position=a.position)
                for a in other_authorships
            )
        LogEntry.objects.log_actions(
            user_id=by.pk,
            queryset=[keep],
            action_flag=CHANGE,
            change_message=f"Merged {other_label} into this paper",
            single_object=True,
        )
    return keep


def _merged_values(keep: Paper, other: Paper, fields: dict[str, str]):
    values = {}
    take_authors = False
    for choice, names in MERGE_FIELDS.items():
        if choice == "authors":
            keep_empty = not keep.authorships.exists()
            take = fields.get(choice) == "other" or (choice not in fields and keep_empty)
            if take:
                take_authors = True
                values["more_authors"] = other.more_authors
            continue
        primary = names[0]
        # "Preprint or other" is the type a record has when nothing better is known.
        empty = ("", None, Paper.EntryType.MISC) if choice == "entry_type" else ("", None)
        keep_empty = getattr(keep, primary) in empty
        take = fields.get(choice) == "other" or (choice not in fields and keep_empty)
        if take:
            for name in names:
                values[name] = getattr(other, name)
    return values, take_authors


def _move_rows(model_name: str, owner: str, keep: Paper, other: Paper, merge) -> None:
    """Move the rows of a courses model from `other` to `keep`; where `keep` already
    has one for the same owner (lecture, user, author), `merge(survivor, row)` makes
    one of the two."""
    model = apps.get_model("courses", model_name)
    kept = {getattr(row, owner): row for row in model.objects.filter(paper=keep)}
    for row in model.objects.filter(paper=other):
        survivor = kept.get(getattr(row, owner))
        if survivor is None:
            row.paper = keep
            row.save(update_fields=["paper", "updated_at"])
        else:
            merge(survivor, row, keep=keep, other=other)


def _merge_readings(survivor, reading, *, keep: Paper, other: Paper) -> None:
    survivor.required = survivor.required or reading.required
    survivor.note = _concatenate(survivor.note, reading.note)
    survivor.section = survivor.section or reading.section
    survivor.save(update_fields=["required", "note", "section", "updated_at"])
    reading.delete()


def _merge_progress(survivor, progress, *, keep: Paper, other: Paper) -> None:
    if _PROGRESS_ORDER[progress.status] > _PROGRESS_ORDER[survivor.status]:
        survivor.status = progress.status
    survivor.note = _concatenate(survivor.note, progress.note)
    starts = [d for d in (survivor.started_at, progress.started_at) if d]
    ends = [d for d in (survivor.finished_at, progress.finished_at) if d]
    survivor.started_at = min(starts) if starts else None
    survivor.finished_at = max(ends) if ends and survivor.status == "read" else None
    survivor.save()
    progress.delete()


def _merge_reviews(mine, review, *, keep: Paper, other: Paper) -> None:
    survivor, loser = _review_survivor(mine, review)
    survivor.answers = _appended_answers(survivor, loser, other=other)
    survivor.paper = keep
    survivor.version += 1
    loser.delete()
    survivor.save()


def _review_survivor(a, b):
    """(survivor, loser): the submitted review; both submitted or both drafts, the
    most recent (by submission, then by last change)."""

    def rank(review):
        submitted = review.status == "submitted"
        moment = review.submitted_at if submitted else review.updated_at
        return (submitted, moment, review.pk)

    return (a, b) if rank(a) >= rank(b) else (b, a)


def _appended_answers(survivor, loser, *, other: Paper) -> dict:
    answers = dict(survivor.answers or {})
    texts = {key: text for key, text in (loser.answers or {}).items() if str(text).strip()}
    ratings = [
        f"{label} {value}"
        for label, value in (
            ("evaluation", loser.evaluation_rating),
            ("impact", loser.impact_rating),
            ("overall", loser.overall_rating),
            ("confidence", loser.confidence),
        )
        if value is not None
    ]
    moment = loser.submitted_at or loser.updated_at
    header = (
        f"**{MERGE_MARKER}** ({loser.get_status_display().lower()}, "
        f"{moment:%Y-%m-%d}, written for paper #{other.pk} “{other.title}”"
        + (f"; ratings: {', '.join(ratings)}" if ratings else "")
        + "):"
    )
    first = True
    for key, text in texts.items():
        if str(answers.get(key, "")).strip() == str(text).strip():
            continue  # the same answer in both: nothing to keep twice
        marker = header if first else f"**{MERGE_MARKER}:**"
        first = False
        answers[key] = _concatenate(str(answers.get(key, "")), f"{marker}\n\n{text}")
    if first and ratings:  # no new text, but the ratings are still worth keeping
        key = next(iter(answers), "high_level_idea")
        answers[key] = _concatenate(str(answers.get(key, "")), header)
    return answers


def _concatenate(first: str, second: str) -> str:
    first, second = (first or "").strip(), (second or "").strip()
    if not second or second == first:
        return first
    if not first:
        return second
    return f"{first}\n\n---\n\n{second}"


def _move_duplicate_flags(keep: Paper, other: Paper) -> None:
    """Flags and "not a duplicate" records about `other` now concern `keep`."""
    pairs = PossibleDuplicate.objects.filter(Q(paper_a=other) | Q(paper_b=other))
    taken = set(
        PossibleDuplicate.objects.filter(Q(paper_a=keep) | Q(paper_b=keep)).values_list(
            "paper_a_id", "paper_b_id"
        )
    )
    for pair in pairs:
        third = pair.paper_b_id if pair.paper_a_id == other.pk else pair.paper_a_id
        if third == keep.pk:
            continue  # the pair being merged: deleted with `other`
        first, second = sorted([keep.pk, third])
        if (first, second) in taken:
            continue
        PossibleDuplicate.objects.filter(pk=pair.pk).update(paper_a_id=first, paper_b_id=second)
        taken.add((first, second))
