"""fold (title and author keys): the ASCII shortcut gives what the full pass gives."""

import re
import unicodedata
from pathlib import Path

from django.test import SimpleTestCase

from papers.bibtex import make_citation_key
from papers.bibtex_import import decode, read_bibtex
from papers.normalize import author_key, fold, title_key

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bibtex"


def reference_fold(text: str) -> str:
    """fold as it was written before its ASCII shortcut: NFKD, combining marks
    dropped, casefold, words."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.findall(r"\w+", stripped.casefold()))


def fixture_strings() -> list[str]:
    """Every line of every fixture BibTeX file, and every title, author, venue and
    abstract read from them: ASCII and not, LaTeX and not."""
    strings = []
    for path in sorted(FIXTURES.rglob("*.bib")):
        data = path.read_bytes()
        try:
            text, _ = decode(data, path.name)
        except ValueError:
            continue
        strings += text.splitlines()
        for record in read_bibtex(data=data, filename=path.name).records:
            strings += [record.title, record.venue, record.abstract, *record.authors]
    return strings


class FoldTests(SimpleTestCase):
    def test_same_as_the_full_pass_over_the_fixtures(self):
        strings = fixture_strings()
        ascii_count = sum(text.isascii() for text in strings)
        # Both paths are exercised, on thousands of strings.
        self.assertGreater(ascii_count, 5000)
        self.assertGreater(len(strings) - ascii_count, 300)
        for text in strings:
            self.assertEqual(fold(text), reference_fold(text), text)
            self.assertEqual(
                title_key(text), reference_fold(text.replace("{", "").replace("}", ""))[:500]
            )
            self.assertEqual(author_key(text), reference_fold(text)[:300])

    def test_ascii_edge_cases(self):
        for text in [
            "",
            "   ",
            "{TVM}: An Automated End-to-End Optimizing Compiler",
            "snake_case and __dunder__ words",
            "Tabs\tand\nnewlines\r\nand\x0bcontrol\x1fcharacters",
            "O(n^2) -- 10--30\\% $\\times$ ~ !@#%&*()[]<>?/|`'\"",
            "MiXeD CaSe 123abc ABC123",
            "\x7f",
        ]:
            with self.subTest(text=text):
                self.assertEqual(fold(text), reference_fold(text))

    def test_accents_ligatures_and_other_scripts_take_the_full_pass(self):
        cases = {
            "Naïve Café": "naive cafe",
            "Łukasz Kaiser": "łukasz kaiser",
            "Jürgen Schmidhuber": "jurgen schmidhuber",
            "ﬁnite Straße": "finite strasse",
            "深度学习 系统": "深度学习 系统",
        }
        for text, expected in cases.items():
            with self.subTest(text=text):
                self.assertEqual(fold(text), expected)
                self.assertEqual(fold(text), reference_fold(text))

    def test_citation_keys_unchanged(self):
        self.assertEqual(
            make_citation_key(
                first_author="Tri Dao", year=2022, title="{FlashAttention}: Fast and Exact"
            ),
            "dao2022flashattention",
        )
        self.assertEqual(
            make_citation_key(first_author="Martín Abadi", year=2016, title="The TensorFlow"),
            "abadi2016tensorflow",
        )
