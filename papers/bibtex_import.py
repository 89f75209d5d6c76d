"""BibTeX files (uploaded or pasted) read into PaperRecord values with bibtexparser 2.

bibtexparser splits the text into blocks. Two middlewares over its model follow: one
(`ReadFields`) keeps the fields a record uses, their names lower-cased, with @string and
month macros and `#` concatenation resolved (which bibtexparser 2.1 leaves undone) and
the enclosing braces/quotes removed by bibtexparser's RemoveEnclosingMiddleware; the
other (`InheritCrossref`) does `crossref` inheritance. The author list is split into
names here (as bibtexparser's own functions split it), each distinct name parsed and
decoded once, rather than by a middleware over every name field of every entry. A file
can be read whole (`read_bibtex`) or parsed first and its entries read into records as
they are needed (`parse_bibtex`, `read_entry`).

LaTeX is decoded to Unicode with bibtexparser's LatexDecodingMiddleware, but only for
the fields we display or search (title, names, venue, abstract), only where there is
LaTeX, and once per distinct string: decoding every field of every entry costs about
twenty times the parse itself. Within a long text (an abstract) only the words that
hold LaTeX go through the decoder, each distinct one once; the decoder's time grows with
the length of what it reads. The entry's original text is kept as `source_bibtex`.
"""

import codecs
import contextlib
import functools
import gc
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.middlewares import (
    LatexDecodingMiddleware,
    LibraryMiddleware,
    RemoveEnclosingMiddleware,
)
from bibtexparser.middlewares.names import (
    InvalidNameError,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import (
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    Field,
    MiddlewareErrorBlock,
    ParsingFailedBlock,
    String,
)
from django.conf import settings
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from papers.normalize import normalize_doi, parse_arxiv_id
from papers.records import ItemError, PaperRecord

ENTRY_TYPES = {
    "article": "article",
    "inproceedings": "inproceedings",
    "conference": "inproceedings",
    "incollection": "incollection",
    "inbook": "incollection",
    "book": "book",
    "phdthesis": "phdthesis",
    "thesis": "phdthesis",
    "techreport": "techreport",
    "report": "techreport",
}
VENUE_FIELDS = ("journal", "journaltitle", "booktitle", "school", "institution")
VENUE_FIELDS_LAST = ("publisher", "howpublished")
# Fields a child entry takes from the entry its `crossref` names, when it lacks them.
# (Of those a record reads: ReadFields has dropped the others by then.)
INHERITED_FIELDS = ("booktitle", "year", "date", "publisher", "volume", "journal", "journaltitle")
COLLECTION_TYPES = {"proceedings", "mvproceedings", "book", "mvbook", "collection", "mvcollection"}
MONTH_MACROS = {
    "jan": "January",
    "feb": "February",
    "mar": "March",
    "apr": "April",
    "may": "May",
    "jun": "June",
    "jul": "July",
    "aug": "August",
    "sep": "September",
    "oct": "October",
    "nov": "November",
    "dec": "December",
}
# The fields a record is made of (see _record), and `crossref`, which may bring them.
READ_FIELDS = frozenset(
    {
        "author",
        "title",
        "abstract",
        "year",
        "date",
        "doi",
        "url",
        "eprint",
        "archiveprefix",
        "eprinttype",
        "volume",
        "crossref",
        *VENUE_FIELDS,
        *VENUE_FIELDS_LAST,
    }
)
MORE_AUTHORS = {"others", "et al", "et al.", "etal", "et. al.", "contributors"}
_YEAR = re.compile(r"\b(1[89]\d\d|2[01]\d\d|2200)\b")
_ARXIV_IN_TEXT = re.compile(r"\barxiv:\s*(\S+)", re.IGNORECASE)
_DECLARED_ENCODING = re.compile(r"(?:coding[:=]|% Encoding:)\s*([-\w.]+)", re.IGNORECASE)
# Words of letters, digits and . ' - (the first a letter), between BibTeX's spaces.
_CAPITALISED = re.compile(r"[ \t\n\r]*[^\W\d_][\w.'-]*(?:[ \t\n\r]+[^\W\d_][\w.'-]*)*[ \t\n\r]*")
# "Ada Lovelace", "Lovelace, Ada", "Van Rossum, Guido": capitalised ASCII words, single
# spaces, no von part (a lower-case word), no LaTeX: their display form at once.
_PLAIN_NAME = re.compile(
    r"(?P<family>[A-Z][a-z]+(?: [A-Z][a-z]+)*), (?P<given>[A-Z][a-z]+(?: [A-Z][a-z]+)*)"
    r"|(?P<whole>[A-Z][a-z]+(?: [A-Z][a-z]+)+)"
)
_AND = re.compile(r"[ \t\n\r]+[aA][nN][dD][ \t\n\r]+")
# An escaped blank, brace or backslash (which may change where an author list splits),
# and a braced group holding no other.
_ESCAPED_STRUCTURE = re.compile(r"\\[ \t\n\r{}\\]")
_BRACE_GROUP = re.compile(r"\{[^{}]*\}")
_ENTRY_HEAD = re.compile(r"@\s*\w+\s*[{(]\s*([^,\s]+)")
# (Patterns searched through long texts are single character classes, a "--" looked
# for apart: an alternative in the pattern makes the search ten times slower.)
_LATEX_CHARS = ("\\", "{", "}", "$", "~", "--")
# Text whose only LaTeX is grouping braces, ties and dashes is decoded without a parser.
_NEEDS_PARSER = re.compile(r"[\\$`']")
# (The character first, then what precedes it: found in a tenth of the time.)
_BARE_SPECIAL = re.compile(r"[%&](?<!\\[%&])")
# What makes a word one the decoder may change (others are copied as is), and LaTeX
# whose meaning spans words in ways `_decode_in_pieces` does not follow (the whole text
# is then decoded at once).
_LATEX_IN_WORD = re.compile(r"""[-\\{}$~'`"%&#^_]""")  # ("-" only as "--")
_NO_SEGMENTS = re.compile(r"\\(?:[(\[\\]|begin|verb)")  # (and "$$")
_OTHER_SPACE = frozenset(char for char in map(chr, range(0x3001)) if char.isspace()) - {" "}
_NEXT_CHAR = re.compile(r"\s*(\S?)")
# A word ending in a control sequence (`\LaTeX`, `\'`, `\`) may take the next as argument;
# the escaped specials (`\%`, `\&`...) take none.
_ENDS_IN_CONTROL = re.compile(r"\\(?:[A-Za-z@]*|[^%&_#${}])$")


class BibtexRefused(ValueError):
    """The whole input is refused; the message says why, for the user."""


class UndecodableFile(BibtexRefused):
    pass


class FileTooLarge(BibtexRefused):
    pass


@dataclass
class BibtexResult:
    records: list[PaperRecord] = field(default_factory=list)  # in file order
    errors: list[ItemError] = field(default_factory=list)  # in line order
    encoding: str = "utf-8"


@dataclass
class ParsedBibtex:
    """A BibTeX file parsed, its entries not yet read into records (see `read_entry`)."""

    entries: list[Entry] = field(default_factory=list)  # in file order
    errors: list[ItemError] = field(default_factory=list)  # blocks not parsed, in line order
    encoding: str = "utf-8"


def read_bibtex(*, data: bytes, filename: str = "") -> BibtexResult:
    """Read a BibTeX file into one record per entry with a title.

    Every block bibtexparser could not parse (unbalanced braces, a missing comma or
    closing brace, a duplicate key, a field given twice) and every entry without a title
    becomes an ItemError with the line where it starts (1-based) and a short excerpt;
    the other entries are still read. `encoding` names how the bytes were decoded:
    UTF-8 (with or without BOM), UTF-16 with BOM, else the 8-bit encoding the file
    declares (Emacs/JabRef header), else cp1252, else Latin-1.

    Raises FileTooLarge above BIBTEX_MAX_BYTES and UndecodableFile for
    bytes that are not text in those encodings (e.g. UTF-16 without a BOM); both are
    BibtexRefused with a message naming the problem.
    """
    with gc_paused():
        parsed = parse_bibtex(data=data, filename=filename)
        result = BibtexResult(errors=parsed.errors, encoding=parsed.encoding)
        # Each entry is let go once it is a record: the parsed file and the records are
        # never both held in full (peak memory is the parse's, not the parse's and more).
        entries = parsed.entries
        del parsed
        entries.reverse()
        while entries:
            read = read_entry(entries.pop())
            if isinstance(read, PaperRecord):
                result.records.append(read)
            else:
                result.errors.append(read)
    result.errors.sort(key=lambda error: error.line or 0)
    return result


def parse_bibtex(*, data: bytes, filename: str = "") -> ParsedBibtex:
    """The first half of `read_bibtex` (which see): decode and parse the file. Its
    entries are read into records by `read_entry`, all at once or as they are needed."""
    name = filename or "the file"
    limit = settings.BIBTEX_MAX_BYTES
    if len(data) > limit:
        raise FileTooLarge(f"{name} is {_size(len(data))}; the limit is {_size(limit)}")
    with gc_paused():
        return _parse(*decode(data, name))  # (no name left holding the text: see _parse)


def _parse(text: str, encoding: str) -> ParsedBibtex:
    library = bibtexparser.parse_string(text, parse_stack=_parse_stack())
    del text  # the blocks hold their own text
    errors = [_failed_block_error(block) for block in library.failed_blocks]
    return ParsedBibtex(entries=library.entries, errors=errors, encoding=encoding)


def read_entry(entry: Entry) -> PaperRecord | ItemError:
    """The entry's record, or the error saying that it has no title."""
    record = _record(entry)
    return record if record.title else _error(entry, entry.key, "no title")


_gc_lock = threading.Lock()
_gc_pauses = 0  # how many gc_paused blocks are running (in any thread)
_gc_was_enabled = False


@contextlib.contextmanager
def gc_paused():
    """Run the block with Python's cyclic garbage collector paused (and restored as it
    was once the last such block, in any thread, ends).

    Reading a large file, then importing it, creates hundreds of thousands of objects
    that live until the end; each of the collector's passes scans the young ones and
    now and then all of them, for about a tenth of the time spent. What they create
    holds almost no reference cycles (a few thousand objects for a 10,000-entry file,
    collected after): reference counting frees the rest as it goes."""
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


def decode(data: bytes, name: str = "the file") -> tuple[str, str]:
    """Text and the encoding it was read with; line endings normalised to \\n."""
    if data.startswith(codecs.BOM_UTF8):
        text, encoding = _strict(data[3:], "utf-8", name), "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16-le" if data.startswith(codecs.BOM_UTF16_LE) else "utf-16-be"
        text = _strict(data[2:], encoding, name)
    elif b"\x00" in data[:4096]:
        head = data[:4096]
        # ASCII text in UTF-16 has a NUL in every other byte.
        if max(head[0::2].count(0), head[1::2].count(0)) > len(head) // 4:
            raise UndecodableFile(
                f"{name} looks like UTF-16 without a byte-order mark; save it as UTF-8"
            )
        raise UndecodableFile(f"{name} contains NUL bytes; it does not look like a text file")
    else:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = _decode_legacy(data)
    if "\x00" in text:
        raise UndecodableFile(f"{name} contains NUL characters; it does not look like BibTeX")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, encoding


def _decode_legacy(data: bytes) -> tuple[str, str]:
    """Bytes that are not UTF-8: the encoding the file declares in its first lines
    (Emacs `-*- coding: latin-9 -*-`, JabRef `% Encoding: ...`) if that decodes them,
    else Windows' western code page, else Latin-1 (which decodes anything)."""
    head = data[:300].decode("ascii", errors="replace")
    declared = _DECLARED_ENCODING.search(head)
    candidates = []
    name = declared.group(1).lower().removesuffix("-unix").removesuffix("-dos") if declared else ""
    # A wide encoding "decodes" any even number of bytes into garbage: never guess one.
    if name and not name.startswith(("utf-16", "utf16", "utf-32", "utf32")):
        candidates = [name, name.replace("-", "")]  # Emacs says latin-9, Python latin9
    for encoding in [*candidates, "cp1252"]:
        try:
            return data.decode(encoding), codecs.lookup(encoding).name
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1"), "latin-1"


def _strict(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise UndecodableFile(
            f"{name} starts with a {encoding.upper()} byte-order mark but is not valid "
            f"{encoding.upper()} (byte {exc.start}); save it as UTF-8"
        ) from None


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MB"


def _parse_stack():
    # Every middleware works in place (no copies of the library); the author list is
    # split in `_people`, month macros are not needed (a record has no month).
    return [ReadFields(), InheritCrossref()]


class ReadFields(LibraryMiddleware):
    """The fields a record reads, as text: in one pass over each entry,

    * field names lower-cased (`AUTHOR` is `author`; of two names that differ only in
      case the last is kept, as bibtexparser's NormalizeFieldKeys does), and only the
      fields a record reads kept: the third of a bibliography's fields nobody reads here
      (pages, dblp's timestamps...) are not worked on. The entry's text, which export
      keeps, is not changed;
    * `a # " and " # {b}` concatenations and macros resolved: bibtexparser 2.1
      substitutes a value that is exactly one macro name, with the macro's raw text,
      and leaves anything with `#` as written. Here every value that is not a single
      braced or quoted literal is split at its top-level `#` and each piece resolved:
      literal, number, @string (names case-insensitive; a macro's own value resolved
      where it is defined) or month macro;
    * the enclosing braces or quotes removed, by bibtexparser's RemoveEnclosingMiddleware
      (entry by entry: run over the library, it would also build the library anew)."""

    def __init__(self):
        super().__init__(allow_inplace_modification=True)

    def transform(self, library: Library) -> Library:
        strings: dict[str, str] = {}
        for string in library.strings:
            strings[string.key.lower()] = self._resolve(string.value, strings)
        enclosing = RemoveEnclosingMiddleware(allow_inplace_modification=True)
        for entry in library.entries:
            kept: dict[str, Field] = {}
            for entry_field in entry.fields:
                key = entry_field.key.lower()
                if key not in READ_FIELDS:
                    continue
                entry_field.key = key
                value = entry_field.value
                if isinstance(value, str) and ("#" in value or value[:1] not in ("{", '"')):
                    entry_field.value = "{" + self._resolve(value, strings) + "}"
                kept[key] = entry_field
            entry.fields = list(kept.values())
            enclosing.transform_entry(entry, library)
        return library

    @staticmethod
    def _resolve(value: str, strings: dict[str, str]) -> str:
        pieces = []
        for piece in _split_concatenation(value):
            if (piece[:1], piece[-1:]) in (("{", "}"), ('"', '"')):
                pieces.append(piece[1:-1])
            else:
                key = piece.lower()
                pieces.append(strings.get(key, MONTH_MACROS.get(key, piece)))
        return "".join(pieces)


def _split_concatenation(value: str) -> list[str]:
    """Split a field value at the `#` outside braces and quotes."""
    pieces, start, depth, quoted = [], 0, 0, False
    for index, char in enumerate(value):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0:
            quoted = not quoted
        elif char == "#" and depth == 0 and not quoted:
            pieces.append(value[start:index].strip())
            start = index + 1
    pieces.append(value[start:].strip())
    return [piece for piece in pieces if piece]


class InheritCrossref(LibraryMiddleware):
    """Copy the fields an entry lacks from the entry its `crossref` field names
    (chains followed, cycles ignored); a @proceedings or @book parent's title becomes
    the child's booktitle."""

    def __init__(self):
        super().__init__(allow_inplace_modification=True)

    def transform(self, library: Library) -> Library:
        by_key = {entry.key.lower(): entry for entry in library.entries}
        done: set[str] = set()
        for entry in library.entries:
            self._inherit(entry, by_key, done, set())
        return library

    def _inherit(self, entry: Entry, by_key: dict, done: set, visiting: set) -> None:
        key = entry.key.lower()
        crossref = entry.get("crossref")
        if key in done or key in visiting or crossref is None:
            return
        parent = by_key.get(str(crossref.value).strip().lower())
        if parent is None:
            return
        visiting.add(key)
        self._inherit(parent, by_key, done, visiting)
        for name in INHERITED_FIELDS:
            if name not in entry and name in parent:
                entry.set_field(Field(name, parent[name]))
        is_collection = parent.entry_type.lower() in COLLECTION_TYPES
        if is_collection and "booktitle" not in entry and "title" in parent:
            entry.set_field(Field("booktitle", parent["title"]))
        done.add(key)


def _record(entry: Entry) -> PaperRecord:
    # Each field's text, whitespace normalised (the author list is split as written).
    fields = {item.key: _text(item.value) for item in entry.fields if item.key != "author"}
    author = entry.get("author")
    names, organisations, more = _people(author.value if author is not None else None)
    url = _url(fields)
    arxiv = _arxiv_id(fields, url)
    return PaperRecord(
        title=_latex(fields.get("title", "")),
        authors=names,
        organisations=organisations,
        more_authors=more,
        year=_year(fields),
        venue=_latex(_venue(fields)),
        entry_type=ENTRY_TYPES.get(entry.entry_type.lower(), "misc"),
        abstract=_decode_latex(fields.get("abstract", "")),
        arxiv_id=arxiv[0] if arxiv else None,
        arxiv_version=arxiv[1] if arxiv else None,
        doi=_doi(fields.get("doi", "")),
        url=url,
        source_bibtex=entry.raw or "",
        citation_key=entry.key,
        source="bibtex",
    )


def _people(value) -> tuple[list[str], set[int], bool]:
    """Display names in order, the indexes of corporate authors, and whether the list
    ends in "and others"."""
    names: list[str] = []
    organisations: set[int] = set()
    more = False
    for one in _split_names(value) if isinstance(value, str) else []:
        name, is_organisation = _person(one)
        if name.lower() in MORE_AUTHORS:
            more = True
        elif name:
            if is_organisation:
                organisations.add(len(names))
            names.append(name)
    return names, organisations, more


@functools.lru_cache(maxsize=65536)
def _person(text: str) -> tuple[str, bool]:
    """One name of an author list, as BibTeX writes it, to its display form. A name
    bibtexparser's strict mode refuses (a trailing comma: `Ram{\\'o}n y {C}ajal,
    Santiago,`) is split leniently instead of failing its entry."""
    if plain := _PLAIN_NAME.fullmatch(text):  # (most names: given names, then family)
        return (plain["whole"] or f"{plain['given']} {plain['family']}"), False
    parts = _name_parts(text)
    if any(chars in text for chars in _LATEX_CHARS):
        return _display_name(*parts)
    return _joined(*parts), False  # (no LaTeX to decode, no braces for an organisation)


def _split_names(value: str) -> list[str]:
    """The names of an author list: bibtexparser's split_multiple_persons_names, whose
    character-by-character scan is only needed where braces or escapes change where
    it splits. An escape (a backslash and the character after it) is invisible to
    that scan, and "and" inside braces does not split: a list whose names, split at
    every "and", each have their braces paired up and their escapes inside them
    (`Mart{\\'\\i}n`, `{Google Brain}`), is split where the scan splits it."""
    stripped = value.strip(" \r\n\t")
    names = _AND.split(stripped) if stripped else []
    if ("{" in value or "}" in value or "\\" in value) and (
        _ESCAPED_STRUCTURE.search(value) or not all(map(_plain_outside_braces, names))
    ):
        return split_multiple_persons_names(value)
    return names


def _plain_outside_braces(name: str) -> bool:
    """Whether each brace of the name is closed after it opens, within the name, and
    its escapes are all inside braces."""
    if "{" in name or "}" in name:
        count = 1
        while count:
            name, count = _BRACE_GROUP.subn("", name)
    return not ("{" in name or "}" in name or "\\" in name)


def _name_parts(text: str) -> tuple[tuple[str, ...], ...]:
    """(first, von, last, jr) as bibtexparser splits them. Most names are capitalised
    words (`Tri Dao`, `Dao, Tri`), whose parts BibTeX's rules give at once: no von
    part, the family name last or before the comma."""
    head, comma, tail = text.partition(",")
    if _CAPITALISED.fullmatch(head) and (not comma or _CAPITALISED.fullmatch(tail)):
        words = head.split()
        if all(word[0].isupper() for word in words):
            if not comma:
                return tuple(words[:-1]), (), (words[-1],), ()
            given = tail.split()
            if all(word[0].isupper() for word in given):
                return tuple(given), (), tuple(words), ()
    try:
        parts = parse_single_name_into_parts(text)
    except InvalidNameError:
        parts = parse_single_name_into_parts(text, strict=False)
    return tuple(parts.first), tuple(parts.von), tuple(parts.last), tuple(parts.jr)


@functools.lru_cache(maxsize=65536)
def _display_name(first, von, last, jr) -> tuple[str, bool]:
    """ "Given von Family, Jr" in Unicode; a name that is one braced group
    ({American Psychological Association}, {{IEEE}}) is an organisation, kept whole."""
    if not (first or von or jr) and len(last) == 1 and _is_one_group(last[0]):
        return _latex(last[0]), True
    return _latex(_joined(first, von, last, jr)), False


def _joined(first, von, last, jr) -> str:
    """ "Given von Family, Jr", as written."""
    name = " ".join(part for part in (*first, *von, *last) if part)
    return f"{name}, {' '.join(jr)}" if jr else name


def _is_one_group(text: str) -> bool:
    if not (text.startswith("{") and text.endswith("}")):
        return False
    depth = 0
    for index, char in enumerate(text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0:
            return index == len(text) - 1
    return False


def _year(fields: dict[str, str]) -> int | None:
    for name in ("year", "date"):  # biblatex gives `date = {2021-06-21}`
        match = _YEAR.search(fields.get(name, ""))
        if match:
            return int(match.group(1))
    return None


def _venue(fields: dict[str, str]) -> str:
    for name in VENUE_FIELDS + VENUE_FIELDS_LAST:
        value = fields.get(name)
        if value:
            return value
    return ""


def _arxiv_id(fields: dict[str, str], url: str) -> tuple[str, int | None] | None:
    eprint = fields.get("eprint")
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "").lower()
    if eprint and prefix == "arxiv":
        return parse_arxiv_id(eprint)
    volume = fields.get("volume", "")
    # dblp: journal = {CoRR}, volume = {abs/2106.11342}
    if fields.get("journal", "").lower() == "corr" and volume.startswith("abs/"):
        return parse_arxiv_id(volume[4:])
    # (an arXiv URL names arxiv.org: no need to parse the others)
    if "arxiv" in url.lower() and (parsed := parse_arxiv_id(url)):
        return parsed
    # journal = {arXiv preprint arXiv:1412.6980}, volume = {arXiv:1503.06733}
    for name in ("journal", "volume"):
        match = _ARXIV_IN_TEXT.search(fields.get(name, ""))
        if match and (parsed := parse_arxiv_id(match.group(1))):
            return parsed
    return None


def _doi(value: str) -> str | None:
    """The field is declared a DOI: also take one from any resolver's URL
    (http://doi.acm.org/10.1145/1137627.1137631), not only doi.org's."""
    value = _unescape(value)
    if doi := normalize_doi(value):
        return doi
    try:
        parts = urlsplit(value)
    except ValueError:  # `http://[x`: not a URL after all
        return None
    if parts.scheme in ("http", "https"):
        return normalize_doi(unquote(parts.path).lstrip("/"))
    return None


def _url(fields: dict[str, str]) -> str:
    url = _unescape(fields.get("url", ""))
    if url.startswith("\\url{") and url.endswith("}"):
        url = url[5:-1]
    return url if url.startswith(("http://", "https://")) and len(url) <= 1000 else ""


def _text(value) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _unescape(text: str) -> str:
    """DOIs and URLs are often written with TeX escapes: 10.1207/s15516709cog1202\\_4."""
    return text.replace("\\_", "_").replace("\\%", "%").replace("\\&", "&").strip("{} ")


def _latex_decoder() -> LatexNodes2Text:
    """bibtexparser's decoder (braces dropped, math kept verbatim, \\url{x} as x), also
    knowing the TeX logos, silent about font switches, and writing an unknown macro
    ({\\TUG}) as its name rather than dropping it."""
    context = get_default_latex_context_db()
    logos = {"TeX": "TeX", "LaTeX": "LaTeX", "LaTeXe": "LaTeX2e", "BibTeX": "BibTeX"}
    silent = (
        *("tt", "bf", "it", "sc", "sf", "sl", "rm", "em", "sltt", "ttfamily", "bfseries"),
        *("itshape", "scshape", "normalfont", "small", "large", "Large", "footnotesize"),
        *("char", "relax", "protect"),
    )
    context.add_context_category(
        "mlsys-reader",
        prepend=True,
        macros=[
            MacroTextSpec("url", simplify_repl="%s"),
            *(MacroTextSpec(name, simplify_repl=text) for name, text in logos.items()),
            *(MacroTextSpec(name, simplify_repl="") for name in silent),
        ],
    )
    context.set_unknown_macro_spec(
        MacroTextSpec("", simplify_repl=lambda node, l2tobj=None: node.macroname)
    )
    return LatexNodes2Text(latex_context=context, keep_braced_groups=False, math_mode="verbatim")


_text_decoder = _latex_decoder()
_decoder = LatexDecodingMiddleware(decoder=_text_decoder)


def _decode_latex(text: str) -> str:
    """LaTeX to Unicode (accents, braces, ~, --), whitespace normalised; text without
    LaTeX is returned as is, unparsed."""
    if not any(chars in text for chars in _LATEX_CHARS):
        return text
    if not _NEEDS_PARSER.search(text):
        # What pylatexenc does to these, in a fraction of the time ({T}ensor{F}low).
        # Dashes before braces: "-{}-" is how BibTeX writes two hyphens, not a dash.
        plain = text.replace("---", "\u2014").replace("--", "\u2013")
        plain = plain.replace("{", "").replace("}", "").replace("~", " ")
        return " ".join(plain.split())
    # In a field, % and & are text (BibTeX does not typeset), not a comment or a tab.
    escaped = _BARE_SPECIAL.sub(r"\\\g<0>", text)
    value = _decode_in_pieces(escaped)
    if value is None:
        value = " ".join(_decode_at_once(escaped).split())
    if not value:
        # A title that is only a macro ({\TUG}) decodes to nothing: keep its source.
        value = " ".join(text.replace("{", "").replace("}", "").split())
    return value


def _decode_at_once(text: str) -> str:
    """pylatexenc's reading of the whole text ("" when it fails)."""
    decoded = _decoder.transform_string(String("value", text), library=None)
    return decoded.value if isinstance(decoded, String) else ""


def _decode_in_pieces(text: str) -> str | None:
    """Decode only the words of `text` that hold LaTeX (each distinct piece once), and
    copy the others: what decoding the whole text gives, in a fraction of the time for
    a long text (pylatexenc's time grows with the length of what it reads).

    Words are grouped into pieces that decode alone as they do in the whole: a piece
    ends at a space outside braces and math, not after a control sequence (which may
    take what follows as its argument) nor before a `{` or `[`. None when the text
    has LaTeX this does not follow (display math, environments, unbalanced braces) or
    a piece is not well-formed: the caller then decodes the whole text at once."""
    if "$$" in text or _NO_SEGMENTS.search(text):
        return None
    if not _is_single_spaced(text):
        text = " ".join(text.split())  # (the result is single-spaced in any case)
    parts: list[str] = []
    copied = 0  # text[:copied] is in parts
    start = end = -1  # the piece being built is text[start:end]
    depth, math, last = 0, False, ""
    for word_start, word_end in _latex_words(text):
        if start >= 0:
            follows = _NEXT_CHAR.match(text, end)
            if (
                depth == 0
                and not math
                and not _ENDS_IN_CONTROL.search(last)
                and follows.group(1) not in "{["
            ):
                decoded = _decode_segment(text[start:end])
                if decoded is None:
                    return None
                parts.append(decoded)
                copied, start = end, -1
        if start < 0:
            parts.append(text[copied:word_start])
            start = word_start
        last, end = text[word_start:word_end], word_end
        index = 0
        while index < len(last):
            char = last[index]
            if char == "\\":
                index += 1  # an escaped character is not structure
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth < 0:
                    return None
            elif char == "$":
                math = not math
            index += 1
    if depth or math:
        return None
    if start >= 0:
        if _ENDS_IN_CONTROL.search(last) or _NEXT_CHAR.match(text, end).group(1) == "[":
            end = len(text)  # what follows may be an argument: decode it with the piece
        decoded = _decode_segment(text[start:end])
        if decoded is None:
            return None
        parts.append(decoded)
        copied = end
    parts.append(text[copied:])
    # The text between the pieces keeps its single spaces, unless a piece decoded to
    # nothing (`\relax`).
    value = "".join(parts)
    return value if _is_single_spaced(value) else " ".join(value.split())


def _is_single_spaced(text: str) -> bool:
    """Whether the text's only whitespace is single spaces between words. (Checked at
    the speed of a search for a character, not of a split and join.)"""
    return not (
        "  " in text
        or text[:1] == " "
        or text[-1:] == " "
        or (not text.isprintable() and any(char in text for char in _OTHER_SPACE))
    )


def _latex_words(text: str) -> Iterator[tuple[int, int]]:
    """Where the words of `text` (single-spaced) that hold LaTeX start and end."""
    position = 0
    while match := _LATEX_IN_WORD.search(text, position):
        if match.group() == "-" and text[match.end() : match.end() + 1] != "-":
            position = match.end()  # a hyphen, not a dash
            continue
        start = text.rfind(" ", 0, match.start()) + 1
        position = text.find(" ", match.end())
        if position < 0:
            position = len(text)
        yield start, position


@functools.lru_cache(maxsize=65536)
def _decode_segment(text: str) -> str | None:
    """pylatexenc's reading of `text` (whitespace normalised), None when it is not
    well-formed LaTeX: the parser's error recovery may then depend on what follows, so
    the whole text is decoded at once instead."""
    try:
        value = _text_decoder.latex_to_text(text, tolerant_parsing=False)
    except Exception:  # pylatexenc's parse errors, and whatever else it may raise
        return None
    return " ".join(value.split())


@functools.lru_cache(maxsize=65536)
def _latex(text: str) -> str:
    # Titles, venues and names repeat across a bibliography: decode each once.
    return _decode_latex(text)


def _failed_block_error(block: ParsingFailedBlock) -> ItemError:
    if isinstance(block, DuplicateBlockKeyBlock):
        first = block.previous_block.start_line
        where = f" (first used on line {first + 1})" if first is not None else ""
        return _error(block, block.key, f"duplicate key {block.key!r}{where}")
    entry = block.ignore_error_block
    key = entry.key if isinstance(entry, Entry) else _head_key(block.raw)
    if isinstance(block, DuplicateFieldKeyBlock):
        names = ", ".join(sorted(block.duplicate_keys))
        return _error(block, key, f"field given more than once: {names}")
    if isinstance(block, MiddlewareErrorBlock):
        return _error(block, key, f"could not read the entry: {block.error}")
    cause = getattr(block.error, "abort_reason", "") or str(block.error) or "unreadable"
    return _error(block, key, f"BibTeX syntax error: {' '.join(cause.split())}")


def _head_key(raw: str | None) -> str:
    match = _ENTRY_HEAD.match(raw or "")
    return match.group(1) if match else ""


def _error(block, key: str, reason: str) -> ItemError:
    line = block.start_line + 1 if block.start_line is not None else None
    label = key or (f"line {line}" if line else "BibTeX")
    return ItemError(input=label, reason=reason, line=line, excerpt=_excerpt(block.raw))


def _excerpt(raw: str | None, limit: int = 120) -> str:
    text = " ".join((raw or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
