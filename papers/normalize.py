"""Normal forms used to match papers and authors: pure functions, no database."""

import functools
import re
import unicodedata
from urllib.parse import SplitResult, unquote, urlsplit

# New-style arXiv ids (0704.0001 onwards; five digits after the dot since 1501).
_NEW_ARXIV = re.compile(r"^(?P<base>\d{4}\.\d{4,5})(?:v(?P<version>\d+))?$")
# Old-style ids: archive(.subject class)/YYMMNNN, e.g. cs/0112017, math.GT/0309136.
_OLD_ARXIV = re.compile(
    r"^(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.[A-Z]{2})?/(?P<number>\d{7})(?:v(?P<version>\d+))?$"
)
_ARXIV_HOSTS = {"arxiv.org", "www.arxiv.org", "export.arxiv.org"}
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_DOI_HOSTS = {"doi.org", "dx.doi.org", "www.doi.org"}


def _url_parts(value: str) -> SplitResult | None:
    """The parts of a URL; None for text without a colon (no scheme, no prefix: the
    common case, not worth parsing) and for what urlsplit refuses (`http://[x`)."""
    if ":" not in value:
        return None
    try:
        return urlsplit(value)
    except ValueError:
        return None


def parse_arxiv_id(text: str) -> tuple[str, int | None] | None:
    """Return (base id, version or None) for an arXiv id or abs/pdf URL, else None.

    The base id drops the version and, for old-style ids, the subject class:
    `math.GT/0309136v2` -> ("math/0309136", 2), as arXiv itself does.
    """
    value = text.strip()
    if not value:
        return None
    parts = _url_parts(value)
    if parts is not None and parts.scheme in {"http", "https"}:
        if (parts.hostname or "").lower() not in _ARXIV_HOSTS:
            return None
        path = unquote(parts.path)
        match = re.match(r"^/(?:abs|pdf|html|format)/(.+?)(?:\.pdf)?/?$", path)
        if not match:
            return None
        value = match.group(1)
    elif value.lower().startswith("arxiv:"):
        value = value[len("arxiv:") :].strip()
    match = _NEW_ARXIV.match(value)
    if match:
        version = match.group("version")
        return match.group("base"), int(version) if version else None
    match = _OLD_ARXIV.match(value)
    if match:
        version = match.group("version")
        base = f"{match.group('archive')}/{match.group('number')}"
        return base, int(version) if version else None
    return None


def normalize_doi(text: str) -> str | None:
    """Return the DOI in lower case without prefix or resolver URL, or None."""
    value = text.strip()
    parts = _url_parts(value)
    if parts is not None and parts.scheme in {"http", "https"}:
        if (parts.hostname or "").lower() not in _DOI_HOSTS:
            return None
        value = unquote(parts.path).lstrip("/")
    elif value.lower().startswith("doi:"):
        value = value[4:].strip()
    value = value.lower()
    return value if _DOI.match(value) else None


_WORD = re.compile(r"\w+")


@functools.lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case, accent-free, punctuation-free, single-spaced text. (Remembered: an
    import folds each title and name for its key and again for its citation key.)"""
    if text.isascii():
        # ASCII has nothing to decompose and no combining marks, and its casefold is
        # its lower case: the same words, without the character-by-character pass.
        return " ".join(_WORD.findall(text.lower()))
    stripped = unicodedata.normalize("NFKD", text).translate(_WITHOUT_COMBINING)
    return " ".join(_WORD.findall(stripped.casefold()))


class _CombiningMarks(dict):
    """A str.translate table that deletes combining characters (accents, once NFKD
    has split them from their letters) and keeps every other character: each code
    point is asked of unicodedata once, then looked up."""

    def __missing__(self, codepoint: int) -> int | None:
        value = None if unicodedata.combining(chr(codepoint)) else codepoint
        self[codepoint] = value
        return value


_WITHOUT_COMBINING = _CombiningMarks()


def title_key(title: str) -> str:
    """The key two records of the same title share, whatever their capitals,
    braces, accents or punctuation."""
    return fold(title.replace("{", "").replace("}", ""))[:500]


def author_key(name: str) -> str:
    """Match key for a person's name given as displayed ("Given Family")."""
    return fold(name)[:300]
