"""arXiv metadata from the Atom API at ARXIV_API_URL, as PaperRecord values.

arXiv's terms ask for at most one request every three seconds from all of a client's
machines together, so requests are spaced by a lock shared through the database (see
`_spaced_request`); ARXIV_MIN_INTERVAL (seconds, default 3) sets the spacing and 0
turns it off (tests). The feed is parsed with defusedxml: no DTDs, so neither external
entities nor entity-expansion bombs.
"""

import datetime
import fcntl
import logging
import threading
import time
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from dataclasses import dataclass, field

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.conf import settings
from django.db import connection

from mlsys_reader.lib import http
from papers.normalize import normalize_doi, parse_arxiv_id
from papers.records import ItemError, PaperRecord

logger = logging.getLogger(__name__)

BATCH_SIZE = 100  # ids per request; keeps the URL short and the answer small
_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
# pg_advisory_lock key shared by every process that talks to arXiv ("arXivAPI").
_LOCK_KEY = 0x6172_5869_7641_5049
_process_lock = threading.Lock()


@dataclass
class ArxivResult:
    records: dict[str, PaperRecord] = field(default_factory=dict)  # by base id
    errors: list[ItemError] = field(default_factory=list)


def fetch_arxiv(*, ids: list[str]) -> ArxivResult:
    """Fetch the metadata of arXiv papers, batching ids into few requests.

    `ids` may be in any form `parse_arxiv_id` accepts (2106.09685, 2106.09685v2,
    arXiv:..., old-style cs/0112017, abs/pdf URLs). Each input ends up either as a
    record in `records`, keyed by its base id (inputs naming the same paper share one
    record), or as exactly one ItemError whose `input` is the text as given: not an
    arXiv id, not found on arXiv (after one retry, as arXiv sometimes answers empty),
    arXiv's own error message, or why the request failed (timeout, rate limit, ...).
    A versioned id fetches that version. Never raises FetchError: a failed request
    fails only the ids it carried.
    """
    result = ArxivResult()
    wanted: dict[str, str] = {}  # base id -> the form we ask arXiv for
    inputs: dict[str, str] = {}  # base id -> the input as given
    for text in ids:
        parsed = parse_arxiv_id(text)
        if parsed is None:
            result.errors.append(ItemError(input=text, reason="not an arXiv id"))
            continue
        base, version = parsed
        if base not in wanted:
            wanted[base] = f"{base}v{version}" if version else base
            inputs[base] = text
    bases = list(wanted)
    for start in range(0, len(bases), BATCH_SIZE):
        batch = {base: wanted[base] for base in bases[start : start + BATCH_SIZE]}
        _fetch_batch(batch, inputs, result)
    return result


def _fetch_batch(pending: dict[str, str], inputs: dict[str, str], result: ArxivResult) -> None:
    def fail(base: str, reason: str) -> None:
        result.errors.append(ItemError(input=inputs[base], reason=reason))
        del pending[base]

    retried_empty = False
    while pending:
        try:
            records, messages = _parse_feed(_query(list(pending.values())))
        except http.FetchError as exc:
            for base in list(pending):
                fail(base, exc.message)
            return
        for record in records:
            if record.arxiv_id in pending:
                result.records[record.arxiv_id] = record
                del pending[record.arxiv_id]
        if messages:
            # arXiv rejects the whole request for one malformed id and names it at
            # the end of its message ("incorrect id format for 1234.12345"): fail
            # that id and ask again for the others.
            named = [
                (base, message)
                for message in messages
                for base, form in pending.items()
                if message.endswith(f" {form}")
            ]
            for base, message in named:
                fail(base, f"arXiv: {message}")
            if not named:
                for base in list(pending):
                    fail(base, f"arXiv: {'; '.join(messages)}")
            continue
        if pending and retried_empty:
            for base in list(pending):
                fail(base, "not found on arXiv")
        retried_empty = True


def _query(forms: list[str]) -> bytes:
    with _spaced_request():
        try:
            response = http.get(
                settings.ARXIV_API_URL,
                params={"id_list": ",".join(forms), "max_results": len(forms)},
            )
        except http.FetchError as exc:
            # arXiv answers 400 with an Atom error entry that says what was wrong.
            if exc.status == 400 and exc.response is not None:
                return exc.response.content
            raise
    return response.content


def _parse_feed(content: bytes) -> tuple[list[PaperRecord], list[str]]:
    """The records in an Atom feed, and the messages of arXiv's error entries."""
    try:
        root = fromstring(content, forbid_dtd=True)
    except (DefusedXmlException, ET.ParseError) as exc:
        logger.warning("unreadable arXiv response: %s", exc)
        raise http.FetchError("arXiv sent a response we could not read") from None
    records, messages = [], []
    for entry in root.iter(f"{_ATOM}entry"):
        entry_id = _text(entry, f"{_ATOM}id")
        if "/api/errors" in entry_id:
            messages.append(_text(entry, f"{_ATOM}summary") or "unknown error")
            continue
        record = _record(entry, entry_id)
        if record is not None:
            records.append(record)
    return records, messages


def _record(entry: ET.Element, entry_id: str) -> PaperRecord | None:
    parsed = parse_arxiv_id(entry_id)  # http://arxiv.org/abs/2106.09685v2
    if parsed is None:
        logger.warning("arXiv entry with an unexpected id: %r", entry_id)
        return None
    base, version = parsed
    published = _date(_text(entry, f"{_ATOM}published"))
    journal_ref = _text(entry, f"{_ARXIV}journal_ref")
    links = {
        link.get("title") or link.get("rel"): link.get("href", "")
        for link in entry.findall(f"{_ATOM}link")
    }
    primary = entry.find(f"{_ARXIV}primary_category")
    return PaperRecord(
        title=_text(entry, f"{_ATOM}title"),
        authors=[_text(author, f"{_ATOM}name") for author in entry.findall(f"{_ATOM}author")],
        year=published.year if published else None,
        venue=journal_ref or "arXiv preprint",
        entry_type="misc",
        abstract=_text(entry, f"{_ATOM}summary"),
        arxiv_id=base,
        arxiv_version=version,
        arxiv_primary_category=primary.get("term", "") if primary is not None else "",
        arxiv_comment=_text(entry, f"{_ARXIV}comment"),
        journal_ref=journal_ref,
        published_on=published,
        revised_on=_date(_text(entry, f"{_ATOM}updated")),
        doi=normalize_doi(_text(entry, f"{_ARXIV}doi")),
        url=links.get("alternate", ""),
        pdf_url=links.get("pdf", ""),
        source="arxiv",
    )


def _text(element: ET.Element, tag: str) -> str:
    # findtext, not `or`: a paper may be titled "0" (arXiv 2104.12255).
    return _squash(element.findtext(tag, default=""))


def _squash(text: str) -> str:
    """Whitespace normalised: arXiv hard-wraps titles and abstracts."""
    return " ".join(text.split())


def _date(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text[:10])
    except ValueError:
        return None


@contextmanager
def _spaced_request():
    """Run one arXiv request, starting at least ARXIV_MIN_INTERVAL after the previous
    one in any process that shares our database.

    The shared lock is held for the request and the rest of the interval, so whoever
    takes it next can start at once. Nothing is stored: no table, no shared cache.
    """
    interval = settings.ARXIV_MIN_INTERVAL
    if interval <= 0:
        yield
        return
    with _shared_lock():
        started = time.monotonic()
        try:
            yield
        finally:
            remaining = interval - (time.monotonic() - started)
            if remaining > 0:
                time.sleep(remaining)


@contextmanager
def _shared_lock():
    if connection.vendor == "postgresql":
        # Web and worker processes (even on other machines) share the database;
        # a session-level advisory lock serialises them without a table.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [_LOCK_KEY])
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])
    elif connection.vendor == "sqlite" and not connection.is_in_memory_db():
        # Processes sharing an SQLite file are on one machine: lock a file beside it.
        with open(f"{connection.settings_dict['NAME']}.arxiv-lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    else:
        # An in-memory database lives in one process: a thread lock is enough.
        with _process_lock:
            yield
