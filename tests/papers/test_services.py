"""The import service over PaperRecord values: identifiers, matching, idempotence,
per-item transactions, jobs with their preview and report."""

import dataclasses
import datetime
from unittest import mock

import responses
from django.db import connection, models
from django.test import SimpleTestCase, TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from responses import matchers

from papers import services
from papers.bibtex import make_citation_key
from papers.models import Author, Authorship, Paper, PossibleDuplicate
from papers.records import ItemError, PaperRecord
from papers.services import Identifier, parse_identifiers
from tests.factories import make_paper, make_user
from tests.lib import fixture_bytes

LORA = PaperRecord(
    title="LoRA: Low-Rank Adaptation of Large Language Models",
    authors=["Edward J. Hu", "Yelong Shen", "Phillip Wallis"],
    year=2021,
    venue="arXiv preprint",
    entry_type="misc",
    abstract="We propose Low-Rank Adaptation, or LoRA.",
    arxiv_id="2106.09685",
    arxiv_version=2,
    arxiv_primary_category="cs.CL",
    arxiv_comment="Draft V2 includes better baselines",
    published_on=datetime.date(2021, 6, 17),
    revised_on=datetime.date(2021, 10, 16),
    url="https://arxiv.org/abs/2106.09685v2",
    pdf_url="https://arxiv.org/pdf/2106.09685v2",
    source_bibtex="@misc{hu2021lora, title={LoRA}}",
    source="arxiv",
)
# The published version, as a DOI (Crossref) record would describe it.
LORA_PUBLISHED = PaperRecord(
    title="LoRA: Low-Rank Adaptation of Large Language Models",
    authors=["Edward J. Hu", "Yelong Shen", "Phillip Wallis"],
    year=2022,
    venue="ICLR 2022",
    entry_type="inproceedings",
    doi="10.48550/iclr.2022.lora",
    url="https://openreview.net/forum?id=nZeVKeeFYf9",
    source="doi",
)
FLASH = PaperRecord(
    title="FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness",
    authors=["Tri Dao", "Daniel Y. Fu", "Stefano Ermon", "Atri Rudra", "Christopher Ré"],
    year=2022,
    venue="NeurIPS 2022",
    entry_type="inproceedings",
    doi="10.52202/068431-1189",
    source="bibtex",
    citation_key="dao2022",
)


def snapshot():
    """Every row the import writes, in full."""
    return {
        "papers": list(Paper.objects.order_by("pk").values()),
        "authors": list(Author.objects.order_by("pk").values()),
        "authorships": list(Authorship.objects.order_by("pk").values()),
        "flags": list(PossibleDuplicate.objects.order_by("pk").values()),
    }


def outcomes(results):
    return [(r.outcome, r.reason) for r in results]


class ParseIdentifiersTests(SimpleTestCase):
    def test_any_mix_several_per_line(self):
        text = (
            "2106.09685  arXiv:2205.14135v2, https://arxiv.org/pdf/1408.5093.pdf\n"
            "doi:10.1145/3620665.3640366;  https://doi.org/10.1109/ICSTW55395.2022.00035\n"
            "\n"
            "cs/0112017 math.GT/0309136v1 arXiv: 2302.03287 hello\n"
            "10.48550/arXiv.2104.12255, dx.doi.org/10.5121/vlsic.2012.3205.\n"
        )
        self.assertEqual(
            parse_identifiers(text=text),
            [
                Identifier("2106.09685", "arxiv", "2106.09685", None, 1),
                Identifier("arXiv:2205.14135v2,", "arxiv", "2205.14135", 2, 1),
                Identifier("https://arxiv.org/pdf/1408.5093.pdf", "arxiv", "1408.5093", None, 1),
                Identifier(
                    "doi:10.1145/3620665.3640366;", "doi", "10.1145/3620665.3640366", None, 2
                ),
                Identifier(
                    "https://doi.org/10.1109/ICSTW55395.2022.00035",
                    "doi",
                    "10.1109/icstw55395.2022.00035",
                    None,
                    2,
                ),
                Identifier("cs/0112017", "arxiv", "cs/0112017", None, 4),
                Identifier("math.GT/0309136v1", "arxiv", "math/0309136", 1, 4),
                Identifier("arXiv:2302.03287", "arxiv", "2302.03287", None, 4),
                Identifier("hello", "", "", None, 4),
                Identifier("10.48550/arXiv.2104.12255,", "arxiv", "2104.12255", None, 5),
                Identifier(
                    "dx.doi.org/10.5121/vlsic.2012.3205.", "doi", "10.5121/vlsic.2012.3205", None, 5
                ),
            ],
        )

    def test_comma_separated_without_spaces(self):
        self.assertEqual(
            [(i.kind, i.value) for i in parse_identifiers(text="2106.09685,10.1145/1234.5678")],
            [("arxiv", "2106.09685"), ("doi", "10.1145/1234.5678")],
        )

    def test_nothing_is_guessed(self):
        text = "https://evil.example/abs/2106.09685 2106.096 doi: 11.1/x https://dl.acm.org/doi/10.1145/1 arXiv:"
        self.assertEqual(
            [(i.input, i.kind) for i in parse_identifiers(text=text)],
            [
                ("https://evil.example/abs/2106.09685", ""),
                ("2106.096", ""),
                ("doi:11.1/x", ""),
                ("https://dl.acm.org/doi/10.1145/1", ""),
                ("arXiv:", ""),
            ],
        )


class ImportRecordsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.admin = make_user("admin@example.org", is_staff=True)

    def test_new_arxiv_record_becomes_a_complete_paper(self):
        [result] = services.import_records(records=[LORA], added_by=self.admin)
        self.assertEqual((result.outcome, result.reason), ("created", ""))
        paper = Paper.objects.with_authors().get()
        self.assertEqual(result.paper, paper)
        self.assertEqual(
            Paper.objects.values(
                "title",
                "title_key",
                "year",
                "venue",
                "entry_type",
                "arxiv_id",
                "arxiv_version",
                "arxiv_primary_category",
                "doi",
                "url",
                "pdf_url",
                "citation_key",
                "source_bibtex",
                "source",
                "added_by",
            ).get(),
            {
                "title": "LoRA: Low-Rank Adaptation of Large Language Models",
                "title_key": "lora low rank adaptation of large language models",
                "year": 2021,
                "venue": "arXiv preprint",
                "entry_type": "misc",
                "arxiv_id": "2106.09685",
                "arxiv_version": 2,
                "arxiv_primary_category": "cs.CL",
                "doi": None,
                "url": "https://arxiv.org/abs/2106.09685v2",
                "pdf_url": "https://arxiv.org/pdf/2106.09685v2",
                "citation_key": "hu2021lora",
                "source_bibtex": "@misc{hu2021lora, title={LoRA}}",
                "source": "arxiv",
                "added_by": self.admin.pk,
            },
        )
        self.assertEqual(
            [a.name for a in paper.ordered_authors],
            ["Edward J. Hu", "Yelong Shen", "Phillip Wallis"],
        )

    def test_reimporting_the_same_records_changes_nothing(self):
        records = [LORA, FLASH, dataclasses.replace(FLASH, doi=None, title="No identifier at all")]
        first = services.import_records(records=records, added_by=self.admin)
        self.assertEqual([r.outcome for r in first], ["created", "created", "created"])
        before = snapshot()
        second = services.import_records(records=records, added_by=self.admin)
        self.assertEqual(
            outcomes(second),
            [("unchanged", "already in the catalog")] * 3,
        )
        self.assertEqual([r.paper for r in second], [r.paper for r in first])
        self.assertEqual(snapshot(), before)

    def test_newer_arxiv_version_updates_the_record_and_says_so(self):
        services.import_records(records=[LORA])
        v3 = dataclasses.replace(
            LORA,
            arxiv_version=3,
            title="LoRA: Low-Rank Adaptation of Large Language Models (v3)",
            revised_on=datetime.date(2022, 1, 1),
            url="https://arxiv.org/abs/2106.09685v3",
            pdf_url="https://arxiv.org/pdf/2106.09685v3",
        )
        [result] = services.import_records(records=[v3])
        self.assertEqual(
            (result.outcome, result.reason),
            ("updated", "updated to v3; updated title, url, revised on, pdf url"),
        )
        paper = Paper.objects.get()
        self.assertEqual(
            (paper.arxiv_version, paper.title_key, paper.revised_on, paper.citation_key),
            (
                3,
                "lora low rank adaptation of large language models v3",
                datetime.date(2022, 1, 1),
                "hu2021lora",
            ),
        )

    def test_a_newer_version_later_in_the_same_import_updates_the_new_paper(self):
        v3 = dataclasses.replace(
            LORA, arxiv_version=3, pdf_url="https://arxiv.org/pdf/2106.09685v3"
        )
        results = services.import_records(records=[LORA, FLASH, v3])
        self.assertEqual(
            outcomes(results),
            [("created", ""), ("created", ""), ("updated", "updated to v3; updated pdf url")],
        )
        self.assertEqual(results[2].paper.pk, results[0].paper.pk)
        self.assertEqual(
            list(
                Paper.objects.filter(arxiv_id="2106.09685").values_list("arxiv_version", "pdf_url")
            ),
            [(3, "https://arxiv.org/pdf/2106.09685v3")],
        )

    def test_an_older_arxiv_version_does_not_downgrade(self):
        services.import_records(records=[LORA])
        before = snapshot()
        v1 = dataclasses.replace(LORA, arxiv_version=1, title="LoRA (first draft)")
        [result] = services.import_records(records=[v1])
        self.assertEqual((result.outcome, result.reason), ("unchanged", "already in the catalog"))
        self.assertEqual(snapshot(), before)

    def test_published_version_upgrades_the_preprint_into_one_paper(self):
        services.import_records(records=[dataclasses.replace(LORA, doi=LORA_PUBLISHED.doi)])
        [result] = services.import_records(records=[LORA_PUBLISHED])
        self.assertEqual(
            (result.outcome, result.reason),
            ("updated", "venue upgraded to “ICLR 2022”; updated year, entry type, url"),
        )
        paper = Paper.objects.get()
        self.assertEqual(
            (paper.arxiv_id, paper.doi, paper.venue, paper.year, paper.entry_type, paper.source),
            ("2106.09685", "10.48550/iclr.2022.lora", "ICLR 2022", 2022, "inproceedings", "doi"),
        )
        # The preprint again: it may not undo the published metadata.
        before = snapshot()
        [again] = services.import_records(
            records=[dataclasses.replace(LORA, doi=LORA_PUBLISHED.doi)]
        )
        self.assertEqual(again.outcome, "unchanged")
        self.assertEqual(snapshot(), before)

    def test_arxiv_record_carrying_a_known_doi_joins_the_published_paper(self):
        published = make_paper(
            "LoRA: Low-Rank Adaptation of Large Language Models",
            authors=["Edward J. Hu", "Yelong Shen", "Phillip Wallis"],
            year=2022,
            venue="ICLR 2022",
            entry_type="inproceedings",
            doi="10.48550/iclr.2022.lora",
            source="doi",
        )
        [result] = services.import_records(
            records=[dataclasses.replace(LORA, doi="10.48550/ICLR.2022.LoRA")]
        )
        self.assertEqual(result.outcome, "updated")
        self.assertEqual(
            result.reason,
            "added arXiv id 2106.09685; updated url, abstract, source bibtex, "
            "arxiv primary category, arxiv comment, published on, revised on, pdf url",
        )
        published.refresh_from_db()
        self.assertEqual(
            (Paper.objects.count(), published.arxiv_id, published.arxiv_version, published.venue),
            (1, "2106.09685", 2, "ICLR 2022"),
        )

    def test_arxiv_datacite_doi_is_the_arxiv_paper(self):
        services.import_records(records=[LORA])
        record = dataclasses.replace(LORA, arxiv_id=None, doi="10.48550/arXiv.2106.09685")
        [result] = services.import_records(records=[record])
        self.assertEqual(result.outcome, "unchanged")
        self.assertEqual(Paper.objects.get().doi, None)

    def test_preprint_and_published_papers_already_apart_are_flagged_not_merged(self):
        preprint = make_paper(arxiv_id="2106.09685", source="arxiv", year=2021)
        published = make_paper(doi="10.48550/iclr.2022.lora", source="doi", year=2022)
        record = dataclasses.replace(LORA, doi="10.48550/iclr.2022.lora")
        [result] = services.import_records(records=[record])
        self.assertEqual(result.outcome, "possible_duplicate")
        self.assertEqual((result.paper, result.other), (preprint, published))
        self.assertTrue(
            result.reason.startswith(
                f"arXiv 2106.09685 is #{preprint.pk} and its published DOI "
                f"10.48550/iclr.2022.lora is #{published.pk}: flagged for an admin to merge; "
            )
        )
        self.assertEqual(
            list(PossibleDuplicate.objects.values_list("paper_a", "paper_b", "status")),
            [(preprint.pk, published.pk, "open")],
        )
        self.assertEqual(Paper.objects.count(), 2)
        preprint.refresh_from_db()
        self.assertEqual(preprint.doi, None)

    def test_an_identifier_in_a_file_held_by_an_unrelated_title_is_not_trusted(self):
        horizon = make_paper(
            "Horizon: Facebook's Open Source Applied Reinforcement Learning Platform",
            arxiv_id="1811.00260",
        )
        record = PaperRecord(
            title="PCC Vivace: Online-Learning Congestion Control",
            arxiv_id="1811.00260",
            url="https://arxiv.org/abs/1811.00260",
            source="bibtex",
        )
        [result] = services.import_records(records=[record])
        self.assertEqual(result.outcome, "created")
        self.assertEqual(
            result.reason,
            f"ignored the arXiv id 1811.00260: it is #{horizon.pk} “Horizon: Facebook's Open "
            "Source Applied Reinforcement Learning Platform”, another title",
        )
        self.assertEqual(
            (result.paper.arxiv_id, result.paper.url), (None, "https://arxiv.org/abs/1811.00260")
        )
        horizon.refresh_from_db()
        self.assertEqual(
            horizon.title_key,
            "horizon facebook s open source applied reinforcement learning platform",
        )
        [again] = services.import_records(records=[record])
        self.assertEqual((again.outcome, again.paper), ("unchanged", result.paper))

    def test_same_title_year_and_first_author_is_only_a_possible_duplicate(self):
        existing = make_paper(
            "LoRA - low-rank adaptation of large language models!",
            authors=["Edward J. Hu", "Someone Else"],
            year=2022,
        )
        [result] = services.import_records(records=[LORA])
        self.assertEqual(result.outcome, "possible_duplicate")
        self.assertEqual(
            result.reason,
            f"same title, year and first author as #{existing.pk} "
            "“LoRA - low-rank adaptation of large language models!”: flagged for an admin",
        )
        self.assertEqual(result.other, existing)
        self.assertEqual(Paper.objects.count(), 2)
        pair = PossibleDuplicate.objects.get()
        self.assertEqual(
            (pair.paper_a, pair.paper_b, pair.status), (existing, result.paper, "open")
        )

    def test_no_possible_duplicate_two_years_apart_or_with_another_first_author(self):
        make_paper(LORA.title, authors=["Edward J. Hu"], year=2019)
        make_paper(LORA.title, authors=["Yelong Shen", "Edward J. Hu"], year=2021)
        [result] = services.import_records(records=[LORA])
        self.assertEqual(result.outcome, "created")
        self.assertEqual(PossibleDuplicate.objects.count(), 0)

    def test_same_paper_twice_in_one_import_is_a_duplicate_of_the_first_item(self):
        results = services.import_records(records=[LORA, FLASH, dataclasses.replace(LORA)])
        self.assertEqual(
            [(r.outcome, r.same_as_item, r.reason) for r in results],
            [
                ("created", None, ""),
                ("created", None, ""),
                ("duplicate", 1, "same paper as item 1"),
            ],
        )
        self.assertEqual(results[2].paper, results[0].paper)

    def test_a_paper_listed_twice_in_a_file_imports_the_same_way_every_time(self):
        # A merged bibliography: the same paper under two keys, with two venues. The
        # later entry only fills what the first left empty, so a second import finds
        # nothing to change (were it to win, each import would flip the venue back).
        first = dataclasses.replace(FLASH, citation_key="dao2022a", source_bibtex="@a")
        second = dataclasses.replace(
            FLASH,
            venue="Advances in Neural Information Processing Systems 35",
            abstract="Transformers are slow and memory-hungry on long sequences.",
            citation_key="dao2022b",
            source_bibtex="@b",
        )
        results = services.import_records(records=[first, second])
        self.assertEqual(
            [(r.outcome, r.reason) for r in results],
            [("created", ""), ("updated", "updated abstract")],
        )
        paper = Paper.objects.get()
        self.assertEqual(
            (paper.venue, paper.abstract, paper.source_bibtex),
            ("NeurIPS 2022", second.abstract, "@a"),
        )
        before = snapshot()
        again = services.import_records(records=[first, second])
        self.assertEqual(
            [(r.outcome, r.same_as_item, r.reason) for r in again],
            [
                ("unchanged", None, "already in the catalog"),
                ("duplicate", 1, "same paper as item 1"),
            ],
        )
        self.assertEqual(snapshot(), before)

    def test_a_better_source_later_in_the_same_import_still_wins(self):
        # An arXiv id and its published DOI in one identifiers box: the published
        # version upgrades the preprint the first item created, and does so every time.
        records = [dataclasses.replace(LORA, doi=LORA_PUBLISHED.doi), LORA_PUBLISHED]
        results = services.import_records(records=records)
        self.assertEqual([r.outcome for r in results], ["created", "updated"])
        self.assertEqual(Paper.objects.get().venue, "ICLR 2022")
        before = snapshot()
        again = services.import_records(records=records)
        self.assertEqual([r.outcome for r in again], ["unchanged", "duplicate"])
        self.assertEqual(snapshot(), before)

    def test_new_papers_are_inserted_with_their_ids_timestamps_and_authors(self):
        records = [
            LORA,
            FLASH,
            dataclasses.replace(FLASH, title="Another", doi=None, authors=["Tri Dao", "A. New"]),
        ]
        results = services.import_records(records=records, added_by=self.admin)
        stored = {paper.pk: paper for paper in Paper.objects.with_authors()}
        for record, result in zip(records, results, strict=True):
            paper = stored[result.paper.pk]
            self.assertEqual(paper.title, record.title)
            self.assertEqual([a.name for a in paper.ordered_authors], record.authors)
            self.assertEqual(
                (paper.created_at, paper.updated_at, paper.added_by_id),
                (result.paper.created_at, result.paper.updated_at, self.admin.pk),
            )
            self.assertIsNotNone(paper.created_at)
        self.assertEqual(Author.objects.filter(key="tri dao").count(), 1)

    def test_matching_takes_the_same_few_queries_for_any_number_of_records(self):
        def records(numbers):
            return [
                dataclasses.replace(
                    FLASH,
                    title=f"Paper {n}",
                    doi=f"10.1000/{n}",
                    authors=[f"Author {n}", "Tri Dao"],
                )
                for n in numbers
            ]

        few, many = records(range(3)), records(range(3, 43))
        services.import_records(records=few + many)
        with CaptureQueriesContext(connection) as for_few:
            services.import_records(records=few)
        with CaptureQueriesContext(connection) as for_many:
            results = services.import_records(records=many)
        self.assertEqual({r.outcome for r in results}, {"unchanged"})
        # The papers, their authors' keys, the authors; and the batch's savepoint.
        self.assertEqual(len(for_many), len(for_few))
        self.assertLessEqual(len(for_few), 5)

    def test_a_bad_item_fails_alone_and_leaves_nothing_half_written(self):
        # The paper row and its first author are written before the second author's
        # name turns out too long for its column: the whole item is rolled back.
        bad = dataclasses.replace(
            FLASH,
            title="A paper whose second author is not a name",
            doi="10.1000/bad",
            authors=["Fresh Firstauthor", "x" * 301],
        )
        results = services.import_records(records=[LORA, bad, FLASH])
        self.assertEqual(
            outcomes(results),
            [
                ("created", ""),
                (
                    "failed",
                    "author 2 (xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…): name: Ensure this "
                    "value has at most 300 characters (it has 301).",
                ),
                ("created", ""),
            ],
        )
        self.assertEqual(
            sorted(Paper.objects.values_list("title", flat=True)), sorted([LORA.title, FLASH.title])
        )
        self.assertFalse(Author.objects.filter(key="fresh firstauthor").exists())
        self.assertEqual(Authorship.objects.count(), 8)

    def test_rows_saved_meanwhile_by_another_writer_are_met_item_by_item(self):
        importer = services._Importer()
        importer.load([LORA, FLASH])
        # Between our lookup and our insert, another writer saves FlashAttention's DOI
        # and one of LoRA's authors: the batch insert fails, and so does LoRA's own
        # transaction half-way (its paper row is in before the author clashes). Each
        # item is rolled back and written again against what the database now holds.
        theirs = make_paper(FLASH.title, authors=["Tri Dao"], doi=FLASH.doi, source="doi")
        shen = Author.objects.create(name="Yelong Shen", key="yelong shen")
        results = importer.import_batch([(1, LORA, "lora", None), (2, FLASH, "flash", 7)])
        self.assertEqual(
            [(r.input, r.line, r.outcome, r.reason) for r in results],
            [
                ("lora", None, "created", ""),
                ("flash", 7, "updated", "venue set to “NeurIPS 2022”; updated year, entry type"),
            ],
        )
        lora = Paper.objects.with_authors().get(arxiv_id="2106.09685")
        self.assertEqual(
            [(a.pk, a.name) for a in lora.ordered_authors][1], (shen.pk, "Yelong Shen")
        )
        self.assertEqual(
            sorted(Paper.objects.values_list("pk", flat=True)), sorted([theirs.pk, lora.pk])
        )
        self.assertEqual(Author.objects.filter(key="edward j hu").count(), 1)

    def test_records_without_title_fail_with_a_reason(self):
        [result] = services.import_records(records=[dataclasses.replace(FLASH, title="  ")])
        self.assertEqual((result.outcome, result.reason), ("failed", "the entry has no title"))
        self.assertEqual(Paper.objects.count(), 0)

    def test_implausible_values_are_dropped_and_reported(self):
        record = dataclasses.replace(
            FLASH, year=20222, url="www.example.org/paper", doi="not a doi", entry_type="patent"
        )
        [result] = services.import_records(records=[record])
        self.assertEqual(result.outcome, "created")
        self.assertEqual(
            result.reason,
            "ignored the malformed DOI 'not a doi'; ignored the implausible year 20222; "
            "ignored the malformed url 'www.example.org/paper'",
        )
        paper = Paper.objects.get()
        self.assertEqual(
            (paper.year, paper.url, paper.doi, paper.entry_type), (None, "", None, "misc")
        )

    def test_an_arxiv_version_past_the_column_is_dropped_and_reported(self):
        [result] = services.import_records(records=[dataclasses.replace(LORA, arxiv_version=99999)])
        self.assertEqual(
            (result.outcome, result.reason),
            ("created", "ignored the implausible arXiv version 99999"),
        )
        self.assertEqual(Paper.objects.get().arxiv_version, None)

    def test_names_without_a_letter_or_digit_are_dropped_not_shared(self):
        records = [
            PaperRecord(title="First", authors=["?", "Jane Doe"], source="bibtex"),
            PaperRecord(
                title="Second",
                authors=["-", "{IEEE}", "John Roe"],
                organisations={1},
                source="bibtex",
            ),
        ]
        results = services.import_records(records=records)
        self.assertEqual(
            outcomes(results),
            [
                ("created", "ignored the author '?': a name needs a letter or digit"),
                ("created", "ignored the author '-': a name needs a letter or digit"),
            ],
        )
        papers = {p.title: p for p in Paper.objects.with_authors()}
        self.assertEqual([a.name for a in papers["First"].ordered_authors], ["Jane Doe"])
        self.assertEqual(
            [(a.name, a.is_organisation) for a in papers["Second"].ordered_authors],
            [("{IEEE}", True), ("John Roe", False)],
        )
        self.assertFalse(Author.objects.filter(key="").exists())
        # Importing them again changes nothing (no clash on an empty key).
        self.assertEqual(
            [r.outcome for r in services.import_records(records=records)],
            ["unchanged", "unchanged"],
        )

    def test_too_long_title_fails_with_the_limit(self):
        [result] = services.import_records(records=[dataclasses.replace(FLASH, title="t" * 1001)])
        self.assertEqual(
            (result.outcome, result.reason),
            ("failed", "title: Ensure this value has at most 1000 characters (it has 1001)."),
        )

    def test_citation_keys_are_generated_and_made_unique(self):
        base = make_citation_key(first_author="Tri Dao", year=2022, title=FLASH.title)
        make_paper("Taken", citation_key=base)
        first = dataclasses.replace(FLASH, doi="10.1000/one")
        second = dataclasses.replace(FLASH, doi="10.1000/two", year=2025)
        third = dataclasses.replace(FLASH, doi="10.1000/three")
        results = services.import_records(records=[first, second, third])
        self.assertEqual(
            [r.paper.citation_key for r in results],
            ["dao2022flashattentionb", "dao2025flashattention", "dao2022flashattentionc"],
        )

    def test_corporate_authors_are_marked(self):
        record = dataclasses.replace(
            FLASH, authors=["Tri Dao", "MLSys Working Group"], organisations={1}
        )
        services.import_records(records=[record])
        self.assertEqual(
            list(Author.objects.order_by("name").values_list("name", "is_organisation")),
            [("MLSys Working Group", True), ("Tri Dao", False)],
        )

    def test_incomplete_title_only_entry_is_completed(self):
        entry = Paper.objects.create(
            title=LORA.title,
            title_key="lora low rank adaptation of large language models",
            arxiv_id="2106.09685",
            source="demo",
            metadata_incomplete=True,
        )
        [result] = services.import_records(records=[LORA])
        self.assertEqual(result.outcome, "updated")
        entry.refresh_from_db()
        self.assertEqual(
            (entry.metadata_incomplete, entry.source, entry.year, entry.arxiv_version),
            (False, "arxiv", 2021, 2),
        )
        self.assertEqual(entry.authors.count(), 3)

    def test_dry_run_writes_nothing(self):
        make_paper(FLASH.title, doi=FLASH.doi)
        before = snapshot()
        results = services.import_records(records=[LORA, FLASH], dry_run=True)
        self.assertEqual([r.outcome for r in results], ["created", "updated"])
        self.assertEqual(snapshot(), before)


class BatchBoundsTests(SimpleTestCase):
    def test_batches_cover_every_item_once_with_quarter_edges_when_written_behind(self):
        self.assertEqual(
            services._batch_bounds(2600, 1000, quarters=True),
            [(0, 250), (250, 1250), (1250, 2250), (2250, 2350), (2350, 2600)],
        )
        self.assertEqual(
            services._batch_bounds(2600, 1000, quarters=False),
            [(0, 1000), (1000, 2000), (2000, 2600)],
        )
        # Small imports, and small batches, are cut in equal batches.
        self.assertEqual(
            services._batch_bounds(1500, 1000, quarters=True), [(0, 1000), (1000, 1500)]
        )
        self.assertEqual(
            services._batch_bounds(7, 2, quarters=True), [(0, 2), (2, 4), (4, 6), (6, 7)]
        )
        self.assertEqual(services._batch_bounds(0, 1000, quarters=True), [])


class AnyOfTests(TestCase):
    """The import's bulk lookup (`column IN` a list sent as one parameter)."""

    def test_finds_each_value_whatever_it_holds(self):
        values = ["plain", 'with,comma and {braces} "quotes"', "unit\x1fseparator", ""]
        papers = {
            value: make_paper(f"Paper {n}", citation_key=value) for n, value in enumerate(values)
        }
        others = make_paper("Another paper", citation_key="another")

        def found(wanted):
            lookup = services._AnyOf(models.F("citation_key"), wanted)
            return set(Paper.objects.filter(lookup).values_list("pk", flat=True))

        self.assertEqual(found(values[:2]), {papers[v].pk for v in values[:2]})
        # A value holding the separator, or an empty one, is sent as an array instead.
        self.assertEqual(found(values), {papers[v].pk for v in values})
        self.assertEqual(found(["unit"]), set())
        self.assertNotIn(others.pk, found(values))
        self.assertEqual(found([]), set())


class DismissTests(TestCase):
    def test_not_a_duplicate_is_never_flagged_again(self):
        admin = make_user(is_staff=True)
        a = make_paper("Same Title", authors=["Ada Lovelace"], year=2020)
        b = make_paper("Same title.", authors=["Ada Lovelace"], year=2021)
        self.assertEqual(services.flag_possible_duplicates(), 1)
        services.dismiss_duplicate(a=b, b=a, by=admin)
        self.assertEqual(services.flag_possible_duplicates(), 0)
        self.assertEqual(
            list(
                PossibleDuplicate.objects.values_list("paper_a", "paper_b", "status", "decided_by")
            ),
            [(a.pk, b.pk, "not_duplicate", admin.pk)],
        )


class JobTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.admin = make_user(is_staff=True)

    def bibtex_job(self, records, errors=()):
        return services.create_bibtex_job(
            records=records, errors=list(errors), filename="refs.bib", created_by=self.admin
        )

    def test_preview_says_what_each_item_would_become_and_writes_nothing(self):
        existing = make_paper(LORA.title, authors=LORA.authors, arxiv_id="2106.09685", year=2021)
        similar = make_paper(FLASH.title, authors=["Tri Dao"], year=2022)
        same_as_before = make_paper(
            "Unchanged", authors=[], doi="10.1000/unchanged", venue="", entry_type="misc"
        )
        before = snapshot()
        job = self.bibtex_job(
            [
                LORA,
                FLASH,
                PaperRecord(title="Unchanged", doi="10.1000/unchanged", source="bibtex"),
                PaperRecord(title="Brand new", source="bibtex", citation_key="new1"),
                PaperRecord(title="Brand new", source="bibtex", citation_key="new1-again"),
            ],
            [ItemError(input="broken", reason="unbalanced braces", line=42, excerpt="@article{x,")],
        )
        services.start_preview(job=job)
        job.refresh_from_db()
        self.assertEqual(job.status, "preview")
        self.assertEqual(snapshot(), before)
        self.assertEqual(
            [row["label"] for row in services.report_rows(job=job)],
            [
                f"update of #{existing.pk}",
                f"possible duplicate of #{similar.pk}",
                f"duplicate of #{same_as_before.pk} (nothing to change)",
                "new",
                "duplicate of item 4",
                "failed",
            ],
        )
        self.assertEqual(job.preview[5]["reason"], "unbalanced braces (@article{x,)")
        self.assertEqual(job.preview[5]["line"], 42)
        self.assertEqual(
            services.format_report(job)[-1],
            "Preview: 1 new, 1 updates, 1 already in the catalog, 1 repeated, "
            "1 possible duplicates, 1 failed",
        )

    def test_confirmed_job_runs_and_reports_every_item(self):
        job = self.bibtex_job([LORA, FLASH], [ItemError(input="x", reason="missing comma", line=3)])
        services.start_preview(job=job)
        self.assertTrue(services.confirm_import(job=job))
        job.refresh_from_db()
        lora, flash = Paper.objects.order_by("pk")
        self.assertEqual(
            (job.status, job.processed, job.total, job.created_count, job.failed_count),
            ("done", 3, 3, 2, 1),
        )
        self.assertEqual(
            services.format_report(job),
            [
                f"   1. {LORA.title} -> created #{lora.pk} “{LORA.title}”",
                f"   2. dao2022 -> created #{flash.pk} “{FLASH.title}”",
                "   3. x (line 3) -> failed: missing comma",
                "2 created, 0 updated, 0 unchanged, 0 duplicates, 0 possible duplicates, 1 failed",
            ],
        )
        self.assertEqual(job.preview[0]["outcome"], "created")
        self.assertIsNotNone(job.started_at)
        self.assertIsNotNone(job.finished_at)
        self.assertFalse(services.confirm_import(job=job))  # a second click does nothing

    @override_settings(IMPORT_INLINE_MAX_ITEMS=1)
    def test_large_jobs_run_as_tasks_after_commit(self):
        job = self.bibtex_job([LORA, FLASH])
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            services.start_preview(job=job)
        job.refresh_from_db()
        self.assertEqual((job.status, len(callbacks)), ("preparing", 1))
        with self.captureOnCommitCallbacks(execute=True):
            services.start_preview(job=job)
        job.refresh_from_db()
        self.assertEqual(job.status, "preview")
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            services.confirm_import(job=job)
        job.refresh_from_db()
        self.assertEqual((job.status, len(callbacks)), ("queued", 1))
        callbacks[0]()
        job.refresh_from_db()
        self.assertEqual((job.status, job.created_count, Paper.objects.count()), ("done", 2, 2))

    def test_unexpected_error_fails_the_job_with_its_reason(self):
        job = self.bibtex_job([LORA])
        job.items[0]["record"] = {"authors": []}  # no title: not a record
        job.save()
        services.preview_import(job=job)
        job.refresh_from_db()
        self.assertEqual(job.status, "failed")
        self.assertEqual(
            job.error,
            "Unexpected error: TypeError: PaperRecord.__init__() missing 1 required "
            "positional argument: 'title'",
        )

    def test_long_item_lists_are_stored_whole(self):
        # On PostgreSQL an item list longer than _STREAMED_ITEMS is sent with COPY; here
        # every one is (elsewhere the ORM writes it as usual, as it does a report).
        records = [LORA, FLASH, PaperRecord(title="Brand new", source="bibtex")]
        errors = [ItemError(input="x", reason="missing comma", line=3)]
        with mock.patch.object(services, "_STREAMED_ITEMS", 1):
            job = self.bibtex_job(records, errors)
            items = job.items
            job.refresh_from_db()
            self.assertEqual(job.items, items)
            self.assertEqual(job.items[0]["record"]["title"], LORA.title)
            services.start_preview(job=job)
            job.refresh_from_db()
            self.assertEqual(
                [row["label"] for row in services.report_rows(job=job)],
                ["new", "new", "new", "failed"],
            )
            services.confirm_import(job=job)
            job.refresh_from_db()
        self.assertEqual((job.status, job.created_count, job.failed_count), ("done", 3, 1))
        self.assertEqual(
            [(entry["n"], entry["outcome"]) for entry in job.report],
            [(1, "created"), (2, "created"), (3, "created"), (4, "failed")],
        )

    def test_a_run_that_fails_keeps_the_report_of_the_items_done(self):
        job = self.bibtex_job([LORA, FLASH, LORA])
        job.items[2]["record"] = {"authors": []}  # no title: not a record
        job.save()
        with mock.patch.object(services, "_BATCH", 1):
            services.import_now(job=job)
        job.refresh_from_db()
        self.assertEqual((job.status, job.processed, job.created_count), ("failed", 2, 2))
        self.assertEqual([entry["outcome"] for entry in job.report], ["created", "created"])

    def test_unrecognised_identifiers_are_failed_items(self):
        job = services.create_identifier_job(text="hello 2106.096", created_by=self.admin)
        self.assertEqual(
            job.items,
            [
                {
                    "input": "hello",
                    "line": 1,
                    "kind": "",
                    "error": "not an arXiv id or URL, nor a DOI",
                },
                {
                    "input": "2106.096",
                    "line": 1,
                    "kind": "",
                    "error": "not an arXiv id or URL, nor a DOI",
                },
            ],
        )
        services.start_preview(job=job)
        services.confirm_import(job=job)
        job.refresh_from_db()
        self.assertEqual((job.status, job.failed_count), ("done", 2))


@override_settings(
    ARXIV_API_URL="https://export.arxiv.org/api/query",
    ARXIV_MIN_INTERVAL=0,
    HTTP_BACKOFF_FACTOR=0,
    HTTP_RETRY_AFTER_MAX=0,
)
class ImportSingleTests(TestCase):
    """`import_single`: one pasted arXiv id/URL, DOI or BibTeX entry -> one paper."""

    @classmethod
    def setUpTestData(cls):
        cls.instructor = make_user("instructor@example.org")

    def answer(self, id_list, **kwargs):
        kwargs.setdefault("body", fixture_bytes("arxiv/q_testing_s0_m10_bc5a6c384fe9.xml"))
        responses.get(
            "https://export.arxiv.org/api/query",
            match=[matchers.query_param_matcher({"id_list": id_list, "max_results": "1"})],
            **kwargs,
        )

    @responses.activate
    def test_an_arxiv_url_becomes_a_paper_and_is_found_again(self):
        self.answer("2202.12139")
        result = services.import_single(
            text=" https://arxiv.org/abs/2202.12139 \n", added_by=self.instructor
        )
        paper = Paper.objects.get()
        self.assertEqual(
            (result.outcome, result.paper, result.input, result.reason),
            ("created", paper, "https://arxiv.org/abs/2202.12139", ""),
        )
        self.assertEqual(
            (paper.added_by, paper.doi), (self.instructor, "10.1109/icstw55395.2022.00035")
        )
        again = services.import_single(text="arXiv:2202.12139", added_by=self.instructor)
        self.assertEqual((again.outcome, again.paper), ("unchanged", paper))

    @responses.activate
    def test_when_arxiv_cannot_be_reached_a_known_paper_is_still_returned(self):
        known = make_paper(arxiv_id="2202.12139")
        self.answer("2202.12139", status=503)
        result = services.import_single(text="2202.12139", added_by=self.instructor)
        self.assertEqual((result.outcome, result.paper), ("unchanged", known))
        Paper.objects.all().delete()
        failed = services.import_single(text="2202.12139", added_by=self.instructor)
        self.assertEqual((failed.outcome, failed.paper), ("failed", None))
        upstream = "arXiv answered with an error (HTTP 503); try again later"
        self.assertEqual(failed.reason, upstream)
        self.assertEqual(result.reason, f"already in the catalog (not refreshed: {upstream})")

    def test_a_bibtex_entry(self):
        result = services.import_single(
            text="@inproceedings{chen2018tvm, title={{TVM}: An Automated Compiler}, "
            "author={Chen, Tianqi}, booktitle={OSDI}, year={2018}}",
            added_by=self.instructor,
        )
        self.assertEqual(
            (result.outcome, result.input, result.paper.title, result.paper.venue),
            ("created", "chen2018tvm", "TVM: An Automated Compiler", "OSDI"),
        )

    def test_anything_but_exactly_one_item_fails_with_a_reason(self):
        cases = {
            "": "enter one arXiv id or URL, one DOI, or one BibTeX entry",
            "2106.09685 2205.14135": "enter one arXiv id or URL, one DOI, or one BibTeX entry",
            "a title, not an id": "enter one arXiv id or URL, one DOI, or one BibTeX entry",
            "@misc{a, title={One}}\n@misc{b, title={Two}}": "paste one BibTeX entry (2 found)",
            "@misc{a, title={Unclosed}": "the BibTeX could not be read at line 1: BibTeX syntax "
            "error: Unexpectedly reached end of file.",
        }
        for text, reason in cases.items():
            with self.subTest(text=text):
                result = services.import_single(text=text, added_by=self.instructor)
                self.assertEqual(
                    (result.outcome, result.paper, result.reason), ("failed", None, reason)
                )
        self.assertEqual(Paper.objects.count(), 0)
