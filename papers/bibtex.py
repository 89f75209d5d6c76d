"""BibTeX written from our own records with bibtexparser (never by string pasting).

The stored `source_bibtex` is a reference copy only: exports are generated here so that
every paper has the same, predictable shape (stable key, protected capitals, LaTeX-safe
text, arXiv eprint fields, DOI).
"""

import re

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.middlewares.names import parse_single_name_into_parts
from bibtexparser.model import Entry, Field
from pylatexenc.latexencode import unicode_to_latex

from papers.normalize import fold

_HAS_CAPITAL = re.compile(r"[A-Z]")


def latex(text: str) -> str:
    """Unicode to LaTeX: accents become commands, &%$#_ are escaped. A straight
    double quote stays a double quote ({"}, not TeX's closing quote ''), and runs of
    hyphens stay hyphens (-{}-, not an en dash), so that reading the file back gives
    the same text."""
    encoded = '{"}'.join(
        unicode_to_latex(
            part,
            non_ascii_only=False,
            unknown_char_policy="keep",
            replacement_latex_protection="braces-all",
        )
        for part in text.split('"')
    )
    while "--" in encoded:
        encoded = encoded.replace("--", "-{}-")
    return encoded


def protect_title(title: str) -> str:
    """Brace every word that has a capital, so bibliography styles keep 'TensorFlow'
    and 'GPU' as written instead of lower-casing them."""
    words = []
    for word in title.split():
        encoded = latex(word)
        words.append(f"{{{encoded}}}" if _HAS_CAPITAL.search(word) else encoded)
    return " ".join(words)


def bibtex_name(display_name: str, *, organisation: bool = False) -> str:
    """'Martín Abadi' -> 'Abadi, Mart{\\'\\i}n' (family name first, LaTeX-safe); an
    organisation is one braced name: '{American Psychological Association}'."""
    if organisation:
        return f"{{{latex(display_name)}}}"
    try:
        parts = parse_single_name_into_parts(display_name)
    except ValueError:
        return f"{{{latex(display_name)}}}"
    return latex(parts.merge_last_name_first)


def make_citation_key(*, first_author: str, year: int | None, title: str) -> str:
    """A readable key in the common 'family year first-word' style: dao2022flashattention."""
    author = fold(first_author)
    family = author.rpartition(" ")[2] if author else "anon"
    first = next((word for word in fold(title).split() if word not in _STOP_WORDS), "paper")
    key = f"{family}{year or ''}{first}"
    if not (key.isascii() and key.isalnum() and key.islower()):
        key = _NOT_IN_KEY.sub("", key.encode("ascii", "ignore").decode())
    return key[:60] or "paper"


_STOP_WORDS = frozenset(
    {"a", "an", "the", "on", "of", "for", "to", "in", "and", "towards", "toward"}
)
_NOT_IN_KEY = re.compile(r"[^a-z0-9]")


def paper_entry(paper) -> Entry:
    """The bibtexparser Entry for one paper; uses its prefetched authorships."""
    fields: list[tuple[str, str]] = []
    authors = [bibtex_name(a.name, organisation=a.is_organisation) for a in paper.ordered_authors]
    if paper.more_authors:
        authors.append("others")
    if authors:
        fields.append(("author", " and ".join(authors)))
    fields.append(("title", protect_title(paper.title)))
    entry_type = paper.entry_type
    if paper.venue:
        venue_field = {
            "article": "journal",
            "inproceedings": "booktitle",
            "incollection": "booktitle",
            "phdthesis": "school",
            "techreport": "institution",
            "book": "publisher",
        }.get(entry_type, "howpublished")
        fields.append((venue_field, latex(paper.venue)))
    if paper.year:
        fields.append(("year", str(paper.year)))
    if paper.doi:
        fields.append(("doi", paper.doi))
    if paper.arxiv_id:
        fields.append(("eprint", paper.arxiv_id))
        fields.append(("archiveprefix", "arXiv"))
        if paper.arxiv_primary_category:
            fields.append(("primaryclass", paper.arxiv_primary_category))
    url = paper.url or paper.arxiv_abs_url
    if url:
        fields.append(("url", url))
    key = paper.citation_key or make_citation_key(
        first_author=paper.ordered_authors[0].name if paper.ordered_authors else "",
        year=paper.year,
        title=paper.title,
    )
    return Entry(entry_type, key, [Field(k, v) for k, v in fields])


def papers_to_bibtex(papers) -> str:
    """One .bib text for the given papers (their authorships prefetched)."""
    library = Library()
    seen = set()
    for paper in papers:
        entry = paper_entry(paper)
        if entry.key in seen:
            # Two records generated the same fallback key: keep both, distinguishable.
            entry.key = f"{entry.key}-{paper.pk}"
        seen.add(entry.key)
        library.add(entry)
    format_ = bibtexparser.BibtexFormat()
    format_.indent = "  "
    format_.trailing_comma = True
    return bibtexparser.write_string(library, bibtex_format=format_)
