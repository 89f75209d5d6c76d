"""read_bibtex on real-world BibTeX files (tests/fixtures/bibtex, see README)."""

from collections import Counter

import bibtexparser
from bibtexparser.middlewares.names import (
    InvalidNameError,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from django.test import SimpleTestCase, override_settings

from papers import bibtex_import
from papers.bibtex_import import FileTooLarge, UndecodableFile, read_bibtex
from papers.records import ItemError, PaperRecord
from tests.lib import fixture_bytes


def read(name: str):
    return read_bibtex(data=fixture_bytes(f"bibtex/{name}"), filename=name.rsplit("/")[-1])


def by_key(result) -> dict[str, PaperRecord]:
    return {record.citation_key: record for record in result.records}


class RealBibliographyTests(SimpleTestCase):
    def test_d2l_every_entry_with_et_al_and_latex_names(self):
        result = read("d2l.bib")
        self.assertEqual((len(result.records), result.errors), (488, []))
        self.assertEqual(
            Counter(record.entry_type for record in result.records),
            Counter(
                article=266,
                inproceedings=150,
                book=50,
                incollection=17,
                phdthesis=2,
                techreport=2,
                misc=1,
            ),
        )
        self.assertEqual(sum(record.more_authors for record in result.records), 43)
        records = by_key(result)
        tensorflow = records["Abadi.Barham.Chen.ea.2016"]
        self.assertEqual(tensorflow.title, "TensorFlow: A system for large-scale machine learning")
        self.assertEqual(
            tensorflow.authors,
            [
                "Martín Abadi",
                "Paul Barham",
                "Jianmin Chen",
                "Zhifeng Chen",
                "Andy Davis",
                "Jeffrey Dean",
                "Matthieu Devin",
                "Sanjay Ghemawat",
                "Geoffrey Irving",
                "Michael Isard",
            ],
        )
        self.assertTrue(tensorflow.more_authors)  # "and et al." is not an author
        self.assertEqual(
            (tensorflow.year, tensorflow.entry_type, tensorflow.venue),
            (
                2016,
                "inproceedings",
                "12th USENIX Symposium on Operating Systems Design and Implementation (OSDI 16)",
            ),
        )
        # The original entry, LaTeX and layout included, is kept for reference.
        self.assertTrue(
            tensorflow.source_bibtex.startswith(
                "@InProceedings{\t  Abadi.Barham.Chen.ea.2016,\n  title\t\t= {Tensor{F}low: A"
            )
        )
        self.assertTrue(tensorflow.source_bibtex.endswith("}"))
        cajal = records["Cajal.Azoulay.1894"]  # "Ram{\'o}n y {C}ajal, Santiago," (trailing comma)
        self.assertEqual(cajal.authors, ["Santiago Ramón y Cajal", "L. Azoulay"])
        self.assertEqual(
            cajal.title,
            "Les Nouvelles Idées sur la Structure du Système Nerveux chez l'Homme et chez les "
            "Vertébrés",
        )
        self.assertEqual(
            records["jenatton-icml17a"].authors,
            ["R. Jenatton", "C. Archambeau", "J. González", "M. Seeger"],
        )

    def test_tinytorch_biblatex_dates_corr_arxiv_and_escaped_dois(self):
        result = read("tinytorch-references.bib")
        self.assertEqual((len(result.records), result.errors), (60, []))
        self.assertEqual(sum(record.doi is not None for record in result.records), 26)
        self.assertEqual(sum(record.arxiv_id is not None for record in result.records), 11)
        records = by_key(result)
        dive = records["zhang2021dive"]  # journal = {CoRR}, volume = {abs/2106.11342}
        self.assertEqual(
            (dive.title, dive.year, dive.arxiv_id, dive.arxiv_version),
            ("Dive into Deep Learning", 2021, "2106.11342", None),
        )
        self.assertEqual(
            dive.authors, ["Aston Zhang", "Zachary C. Lipton", "Mu Li", "Alexander J. Smola"]
        )
        sweller = records["sweller1988cognitive"]
        self.assertEqual((sweller.doi, sweller.year), ("10.1207/s15516709cog1202_4", 1988))
        self.assertEqual(sweller.url, "https://doi.org/10.1207/s15516709cog1202_4")
        adam = records["kingma2014adam"]
        self.assertEqual((adam.arxiv_id, adam.arxiv_version), ("1412.6980", 9))
        tinygrad = records["hotz2023tinygrad"]  # "Hotz, George and contributors"
        self.assertEqual((tinygrad.authors, tinygrad.more_authors), (["George Hotz"], True))

    def test_acl_template_corporate_author_and_capitalised_fields(self):
        result = read("acl-custom.bib")
        self.assertEqual(
            [record.citation_key for record in result.records],
            [
                "Aho:72",
                "APA:83",
                "Chandra:81",
                "andrew2007scalable",
                "Gusfield:97",
                "rasooli-tetrault-2015",
                "Ando2005",
            ],
        )
        self.assertEqual(result.errors, [])
        records = by_key(result)
        apa = records["APA:83"]
        self.assertEqual(
            (apa.authors, apa.organisations, apa.title, apa.year, apa.entry_type),
            (["American Psychological Association"], {0}, "Publications Manual", 1983, "book"),
        )
        self.assertEqual(records["Chandra:81"].doi, "10.1145/322234.322243")
        self.assertEqual(records["rasooli-tetrault-2015"].arxiv_id, "1503.06733")
        ando = records["Ando2005"]  # Author =, Title =, Month = dec, Issue_Date = ...
        self.assertEqual(ando.authors, ["Rie Kubota Ando", "Tong Zhang"])
        self.assertEqual((ando.year, ando.venue), (2005, "Journal of Machine Learning Research"))
        self.assertEqual(
            records["andrew2007scalable"].title,
            "Scalable training of L1-regularized log-linear models",
        )

    def test_jabref_dois_stored_as_urls_strings_and_comments(self):
        result = read("complex.bib")
        self.assertEqual((len(result.records), result.errors), (20, []))
        self.assertEqual(
            [(record.citation_key, record.doi) for record in result.records[1:7]],
            [
                ("1102917", "10.1007/s00779-005-0347-6"),  # http://dx.doi.org/...
                ("1137631", "10.1145/1137627.1137631"),  # http://doi.acm.org/...
                ("1132768", "10.1145/1132736.1132768"),
                ("1137628", "10.1145/1137627.1137628"),
                ("1373163", "10.1109/mic.2008.67"),
                ("820136", "10.1145/820127.820136"),
            ],
        )
        xp = by_key(result)["1137631"]
        self.assertEqual(
            xp.authors,
            [
                "Gustav Boström",
                "Jaana Wäyrynen",
                "Marine Bodén",
                "Konstantin Beznosov",
                "Churchill Philippe Kruchten",  # "Philippe Kruchten, Churchill": Last, First
            ],
        )
        self.assertEqual(
            by_key(result)["10250999"].authors,
            [
                "Eric von Hippel",
                "Joseph M. Reagle, Jr.",
                "Jr. Sherry, John F.",
                "Johan A van den Huevel, Jr.",
            ],
        )

    def test_thuthesis_chinese_names_and_others(self):
        result = read("thuthesis-refs.bib")
        self.assertEqual((len(result.records), result.errors), (34, []))
        zhang = by_key(result)["zhangkun1994"]
        self.assertEqual(
            (zhang.title, zhang.authors, zhang.more_authors, zhang.year, zhang.venue),
            (
                "机器人柔性手腕的球面齿轮设计研究",
                ["张昆", "冯立群", "余昌钰"],
                True,
                1994,
                "清华大学学报: 自然科学版",
            ),
        )
        self.assertEqual(sum(record.more_authors for record in result.records), 2)

    def test_tugboat_large_file_concatenation_and_corporate_authors(self):
        # 2.7 MB, 3644 entries, every one with `#` (its speed is bench/import_bibtex.py's
        # business, not a test's).
        result = read("tugboat.bib")
        self.assertEqual((len(result.records), result.errors), (3644, []))
        records = by_key(result)
        structure = records["Structure:TB16-4-401"]
        self.assertEqual(
            (structure.title, structure.authors, structure.organisations, structure.venue),
            (
                "A directory structure for TeX files (Version 0.999)",
                ["TUG Working Group on a TeX Directory Structure"],
                {0},
                "TUGboat",  # journal = j-TUGboat, an @string
            ),
        )
        self.assertEqual(records["Knappen:TB14-2-104"].authors, ["Jörg Knappen"])  # J{{\"o}}rg
        self.assertEqual(records["Anonymous:TB12-2-119-2"].title, "TUG")  # {\TUG}: a macro
        self.assertEqual(sum(bool(record.organisations) for record in result.records), 28)


class MacroAndCrossrefTests(SimpleTestCase):
    def test_biber_examples_concatenation_and_duplicate_key(self):
        result = read("examples.bib")
        self.assertEqual((len(result.records), len(result.errors)), (101, 31))
        duplicate = [error for error in result.errors if error.input == "tmn4"]
        self.assertEqual(
            duplicate,
            [
                ItemError(
                    input="tmn4",
                    reason="duplicate key 'tmn4' (first used on line 1539)",
                    line=1547,
                    excerpt="@UNPUBLISHED{tmn4, AUTHOR = {ZZZ} }",
                )
            ],
        )
        self.assertEqual(
            Counter(error.reason for error in result.errors),
            Counter({"no title": 30, "duplicate key 'tmn4' (first used on line 1539)": 1}),
        )
        records = by_key(result)
        # publisher = dtv # { and Walter de Gruyter}, with @STRING{dtv = {Deutscher ...}}
        self.assertEqual(
            records["nietzsche:ksa"].venue, "Deutscher Taschenbuch-Verlag and Walter de Gruyter"
        )
        self.assertEqual(
            records["t1"].title, "10% of [100] and 90% of $Normal_2$ | & # things $^{3}$"
        )

    def test_chained_strings_and_concatenation(self):
        result = read("features2.bib")
        self.assertEqual(
            result.records,
            [
                PaperRecord(
                    title="Cool Stuff",  # mytitle = cool # " " # stuff
                    authors=["John Doe"],  # "John " # mynamE
                    year=2014,
                    venue="My International Conference",  # "My "#int#" Conference"
                    entry_type="inproceedings",
                    source_bibtex=fixture_bytes("bibtex/features2.bib")
                    .decode()
                    .split("\n\n")[-1]
                    .strip(),
                    citation_key="mykey",
                    source="bibtex",
                )
            ],
        )

    def test_crossref_inheritance(self):
        result = read("crossrefs.bib")
        self.assertEqual((len(result.records), len(result.errors)), (31, 15))
        records = by_key(result)
        chapter = records["cr1"]  # @INBOOK crossref = {cr_m}, a @BOOK of 1974
        self.assertEqual(
            (chapter.title, chapter.year, chapter.venue, chapter.entry_type),
            ("Great and Good Graphs", 1974, "Graphs of the Continent", "incollection"),
        )
        own = records["cr6"]  # its own booktitle wins over the parent's
        self.assertEqual((own.venue, own.year), ("Manual booktitle", 2009))
        self.assertEqual((records["cr7"].venue, records["cr7"].year), ("Book Title", 2010))

    def test_field_names_in_any_case_and_unread_fields_kept_in_the_source(self):
        text = (
            "@Article{k1,\n"
            "  TITLE = {First Title},\n"
            "  Author = {Doe, Jane},\n"
            "  title = {Second Title},\n"
            "  PAGES = {1--10 # {, and more}},\n"
            "  Journal = {J. Tests},\n"
            "  YEAR = 2021,\n"
            "}"
        )
        [record] = read_bibtex(data=text.encode()).records
        # Of two names that differ only in case the last wins, as in bibtexparser's
        # NormalizeFieldKeys; fields no record reads (pages) stay in the entry's text.
        self.assertEqual(
            (record.title, record.authors, record.venue, record.year),
            ("Second Title", ["Jane Doe"], "J. Tests", 2021),
        )
        self.assertEqual(record.source_bibtex, text)

    def test_crossref_cycle_terminates(self):
        result = read("crossref_cascading_cycle.bib")
        self.assertEqual(result.records, [])
        self.assertEqual(
            [(error.input, error.reason, error.line) for error in result.errors],
            [("circ1", "no title", 6), ("circ2", "no title", 11)],
        )


class BrokenInputTests(SimpleTestCase):
    def setUp(self):
        self.acl = fixture_bytes("bibtex/acl-custom.bib")  # 70 lines, 7 good entries

    def test_missing_closing_brace_is_reported_and_the_rest_imported(self):
        snippet = fixture_bytes("bibtex/issue_snippets/jbibtex_issue22_acm_dl_unclosed_entry.bib")
        result = read_bibtex(data=self.acl + b"\n" + snippet)
        self.assertEqual(len(result.records), 7)
        self.assertEqual(
            result.errors,
            [
                ItemError(
                    input="Liu:2018:STS:3238147.3240728",
                    reason="BibTeX syntax error: Unexpectedly reached end of file.",
                    line=72,
                    excerpt="@inproceedings{Liu:2018:STS:3238147.3240728, author = {Liu, Han and "
                    "Liu, Chao and Zhao, Wenqi and Jiang, Yu and Sun, Ji…",
                )
            ],
        )

    def test_unclosed_entry_before_good_ones(self):
        snippet = fixture_bytes("bibtex/issue_snippets/jbibtex_issue22_acm_dl_unclosed_entry.bib")
        result = read_bibtex(data=snippet + b"\n" + self.acl)
        self.assertEqual(len(result.records), 7)
        self.assertEqual(
            [(error.input, error.line, error.reason) for error in result.errors],
            [
                (
                    "Liu:2018:STS:3238147.3240728",
                    1,
                    "BibTeX syntax error: Unexpected block start: `@book`. Was still looking "
                    "for field-value closing `,` or `}`",
                )
            ],
        )

    def test_duplicate_field_with_unbalanced_escaped_brace(self):
        snippet = fixture_bytes(
            "bibtex/issue_snippets/citeproc-py_issue53_mods2bib_escaped_brace_duplicate_note.bib"
        )
        result = read_bibtex(data=self.acl + b"\n" + snippet)
        self.assertEqual(len(result.records), 7)
        self.assertEqual(
            [(error.input, error.line, error.reason) for error in result.errors],
            [("pes:5137", 73, "field given more than once: note")],
        )

    def test_entry_without_title_after_zotero_escaped_brace(self):
        snippet = fixture_bytes(
            "bibtex/issue_snippets/python-bibtexparser_issue347_zotero_unclosed_escaped_brace.bib"
        )
        result = read_bibtex(data=self.acl + b"\n" + snippet)
        self.assertEqual(len(result.records), 7)
        self.assertEqual(
            [(error.input, error.line, error.reason) for error in result.errors],
            [("rajeswara_opportunities_2012", 72, "no title")],
        )

    def test_empty_input_gives_an_empty_result(self):
        result = read_bibtex(data=b"")
        self.assertEqual((result.records, result.errors, result.encoding), ([], [], "utf-8"))

    @override_settings(BIBTEX_MAX_BYTES=1024 * 1024)
    def test_files_over_the_limit_are_refused(self):
        with self.assertRaisesMessage(FileTooLarge, "tugboat.bib is 2.6 MB; the limit is 1.0 MB"):
            read("tugboat.bib")


class EncodingTests(SimpleTestCase):
    def test_utf8_with_bom(self):
        result = read("encoding/article_start_with_bom.bib")
        self.assertEqual(result.encoding, "utf-8-sig")
        (record,) = result.records
        self.assertEqual(
            (record.title, record.authors, record.year, record.citation_key),
            ("An amazing title", ["Jean César"], 2013, "Cesar2013"),
        )
        self.assertTrue(record.source_bibtex.startswith("@ARTICLE{Cesar2013,"))

    def test_utf8_jabref_file_with_protected_letters(self):
        result = read("utf8-bom.bib")
        self.assertEqual(result.encoding, "utf-8")
        (record,) = result.records
        self.assertEqual(
            record.title,
            "Pi Calculus Versus Petri Nets: Let Us Eat Humble Pie Rather Than Further Inflate "
            "the Pi Hype",
        )
        self.assertEqual(record.authors, ["W.M.P. van der Aalst"])
        self.assertEqual(result.errors[0].input, "Hsu1993")  # a @Collection with no title
        self.assertEqual((result.errors[0].reason, result.errors[0].line), ("no title", 16))

    def test_utf16_big_endian_with_bom_and_cr_line_endings(self):
        result = read("encoding/encoding-utf-16BE-with-header.bib")
        self.assertEqual(result.encoding, "utf-16-be")
        self.assertEqual([record.title for record in result.records], ["Ü ist ein Umlaut"])

    def test_utf16_with_bom_and_a_string_macro(self):
        result = read("encoding/tiny-BE-withBOM.bib")
        self.assertEqual(result.encoding, "utf-16-be")
        (record,) = result.records
        self.assertEqual(
            record.title,
            "Investigation of the best suture pattern to close a stuffed Christmas turkey",
        )
        self.assertEqual(record.authors, ["D. Verwilghen", "V. Busoni", "G. van Galen", "M. Wilke"])
        self.assertEqual(
            (record.year, record.venue, record.doi), (2011, "Veterinary Record", "10.1136/vr.d6221")
        )

    def test_windows_1252_without_header(self):
        result = read("encoding/encoding-windows-1252-without-header.bib")
        self.assertEqual(result.encoding, "cp1252")
        self.assertEqual(
            result.errors,
            [
                ItemError(
                    input="line 3",
                    reason="no title",
                    line=3,
                    excerpt="@Article{, abstract = {25° C}, }",
                )
            ],
        )

    def test_windows_1252_declared_as_utf8(self):
        result = read("encoding/encoding-windows-1252-but-utf-8-declared--decoding-fails.bib")
        self.assertEqual(result.encoding, "cp1252")
        self.assertEqual(result.errors[0].excerpt, "@Article{, author = {Test I. Last}, }")

    def test_latin9_declared_by_an_emacs_cookie(self):
        result = read("encoding/encoding1.bib")
        self.assertEqual(result.encoding, "iso8859-15")
        (record,) = result.records
        self.assertEqual((record.title, record.citation_key), ("Šome title", "testŠ"))

    def test_utf16_without_bom_is_refused(self):
        with self.assertRaisesMessage(
            UndecodableFile,
            "tiny-LE-noBOM.bib looks like UTF-16 without a byte-order mark; save it as UTF-8",
        ):
            read("encoding/tiny-LE-noBOM.bib")

    def test_binary_data_is_refused(self):
        png_header = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00"
        with self.assertRaisesMessage(
            UndecodableFile, "paper.png contains NUL bytes; it does not look like a text file"
        ):
            read_bibtex(data=png_header, filename="paper.png")


class ShortcutTests(SimpleTestCase):
    """What read_bibtex does faster than the general path gives what that path gives."""

    def test_latex_decoded_word_by_word_as_the_whole_text(self):
        texts = [
            "We get 10--30% faster on $n \\times n$ matrices with {\\em Mart{\\'\\i}n}'s "
            "\\LaTeX{} trick, ``quoted'' and \\'etude",
            "A \\LaTeX is followed by its argument; so is \\' e and \\textbf {bold}",
            "\\href{https://example.org/a_b} {text} and \\cite [p. 3]{key} here",
            "\\' \\ \\ss {bold} a~b \\emph{x} Word",  # a control space after an accent
            "\\v $x$ \\aa",  # not well formed: pylatexenc's recovery spans words
            "--- \\c $a $a '' $\\alpha$",
            "50\\% of R\\&D, \\$5 and \\{braces\\} \\o a-b",
            "Display $$x + y$$ math and \\begin{em}an environment\\end{em}",
            "unbalanced {brace and } closing",
            "a line \\\\ break",
            # Whitespace other than single spaces, and a piece that decodes to nothing.
            "  two  spaces\n and a \\relax  macro\tthat {\\relax} vanishes ",
            "a\u00a0non-breaking space before \\'e and after\u2003 \\relax",
            "well-known trade-offs -- pages 3--5, a---b and $x$-y \\'e-mail",
        ]
        # And every text field of a LaTeX-heavy real file (all its fields: the import
        # reads fewer).
        text, _ = bibtex_import.decode(fixture_bytes("bibtex/examples.bib"))
        for entry in bibtexparser.parse_string(text).entries:
            texts += [f.value for f in entry.fields if isinstance(f.value, str) and "\\" in f.value]
        pieced = 0
        for text in texts:
            with self.subTest(text=text):
                escaped = bibtex_import._BARE_SPECIAL.sub(r"\\\g<0>", text)
                in_pieces = bibtex_import._decode_in_pieces(escaped)
                if in_pieces is not None:
                    pieced += 1
                    at_once = bibtex_import._decode_at_once(escaped)
                    self.assertEqual(in_pieces, " ".join(at_once.split()))
        self.assertGreater(pieced, len(texts) // 2)
        self.assertEqual(
            bibtex_import._decode_latex(texts[0]),
            "We get 10–30% faster on $n \\times n$ matrices with Martín's LaTeX trick, "
            "“quoted” and étude",
        )

    def test_names_split_as_bibtexparser_splits_them(self):
        def parts(name):
            try:
                split = parse_single_name_into_parts(name)
            except InvalidNameError:
                split = parse_single_name_into_parts(name, strict=False)
            return tuple(split.first), tuple(split.von), tuple(split.last), tuple(split.jr)

        names = [
            "Tri Dao",
            "Dao, Tri",
            "Edward J. Hu",
            "Hu,  Edward J.",
            "Jean-Pierre Dupont",
            "O'Brien, Pat",
            "Émile Zola",
            "ǅemal Bijedić",  # a title-case letter: not "upper"
            "Ludwig van Beethoven",
            "van der Maaten, Laurens",
            "King, Jr., Martin Luther",
            "Martin Luther King, Jr.",
            "Ram{\\'o}n y {C}ajal, Santiago,",
            "{IEEE}",
            "Li\tWei",
            "J.~R. R. Tolkien",
            "Plato",
            "3M Research",
            "Smith,",
            ", John",
        ]
        for name in names:
            with self.subTest(name=name):
                self.assertEqual(bibtex_import._name_parts(name), parts(name))

    def test_plain_names_displayed_as_the_general_path_displays_them(self):
        names = [
            "Ada Lovelace",
            "Lovelace, Ada",
            "Van Rossum, Guido",
            "De La Cruz, Juan Carlos",
            "Lovelace,Ada",
            "Ada  Lovelace",
            "Plato",
            "Ludwig van Beethoven",
            "King, Jr., Martin",
            "McDonald, Ronald",
        ]
        for name in names:
            with self.subTest(name=name):
                self.assertEqual(
                    bibtex_import._person(name),
                    bibtex_import._display_name(*bibtex_import._name_parts(name)),
                )

    def test_author_lists_split_as_bibtexparser_splits_them(self):
        lists = [
            "A and B",
            "A AND B and\nC",
            "A and and B",
            "Alexander Anderson and Sandy Band",
            "and A",
            "A and",
            "  A   and\tB  ",
            "A~and B",
            "{Simon and Schuster} and Ann",
            "A and\\ B",
            "",
            # Braces and escapes: split by the same rule when the braces pair up in
            # each name, by bibtexparser's scan otherwise.
            'Mart{\\\'\\i}n Abadi and {Google Brain Team} and J{\\"o}rg M{\\"u}ller',
            "{\\L}ukasz Kaiser and Ji{\\v{r}}{\\'\\i} Matas and {{OpenAI}}",
            "A{ and }B and C",
            "}A{ and B",
            "A and {B and C} and {D} and{E}",
            "A and \\'Etienne and B",
            "A\\ and B and C\\{ and D\\} and E\\\\ and F",
            "Jos\\'e and Ren\\'e",
            "x \\'and y and z\n\\band w and a\\'nd b",  # escapes joining an "and"
            "A and \\' B",
        ]
        for value in lists:
            with self.subTest(value=value):
                self.assertEqual(
                    bibtex_import._split_names(value), split_multiple_persons_names(value)
                )
