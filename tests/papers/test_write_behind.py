"""Large imports on PostgreSQL write each batch behind, on a second connection, while
the next batch is matched (papers.write_behind). They must end as the same import
written batch after batch does; a batch the database refuses is written again item by
item, and the batch matched meanwhile is matched again.

These tests commit for real (the writer's connection cannot see a test's transaction),
so they are TransactionTestCases, and run on PostgreSQL only (the only database the
import writes behind on)."""

import dataclasses
import sys
import unittest
from unittest import mock

from django.db import IntegrityError, connection, transaction
from django.test import TransactionTestCase
from django.test.utils import CaptureQueriesContext

from papers import services
from papers.models import Author, Paper, PossibleDuplicate
from papers.records import PaperRecord
from papers.write_behind import EarlierBatchRefused, WriteBehind
from tests.factories import make_user

REFUSED_TITLE = "A title the database refuses"


def record(title, **fields):
    fields.setdefault("authors", ["Ada Lovelace", "Alan Turing"])
    fields.setdefault("year", 2022)
    fields.setdefault("source", "bibtex")
    return PaperRecord(title=title, **fields)


A = record("Alpha: a paper with a DOI", doi="10.1000/alpha", authors=["Xu Li", "Yan Wu"])
B = record("Beta: a paper without identifiers", authors=["Yan Wu", "Zoe Kim"])
C1 = record("Gamma: a preprint", arxiv_id="2101.00001", arxiv_version=1, source="arxiv")
C2 = dataclasses.replace(C1, arxiv_version=2, abstract="Now with an abstract.")
E = record("Epsilon: another new paper", authors=["Zoe Kim", "Ada Lovelace"])
REFUSED = record(REFUSED_TITLE, doi="10.1000/refused")
# (What an item the database refuses twice for a constraint is told.)
REFUSED_REASON = "conflicts with a paper saved at the same time; import it again"


def catalog():
    """The catalog by title, without ids or times (they differ from run to run)."""
    papers = {
        paper.title: (
            [author.name for author in paper.ordered_authors],
            paper.year,
            paper.doi,
            paper.arxiv_id,
            paper.arxiv_version,
            paper.abstract,
            paper.citation_key,
        )
        for paper in Paper.objects.with_authors()
    }
    flags = sorted(
        (flag.paper_a.title, flag.paper_b.title, flag.reason)
        for flag in PossibleDuplicate.objects.select_related("paper_a", "paper_b")
    )
    return papers, flags


def outcomes(results):
    """Outcome, the title of the paper each item became, and the item it repeats."""
    return [
        (r.outcome, r.paper.title if r.paper else None, r.same_as_item, r.reason.split(" #")[0])
        for r in results
    ]


@unittest.skipUnless(connection.vendor == "postgresql", "imports write behind on PostgreSQL")
class WriteBehindImportTests(TransactionTestCase):
    # (The tables are emptied after each test; the topics the migrations seed come back.)
    serialized_rollback = True

    def refuse(self):
        """A constraint the import cannot foresee: the database refuses a paper of
        REFUSED_TITLE when the batch holding it is written."""
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE papers_paper ADD CONSTRAINT test_refused "
                f"CHECK (title <> '{REFUSED_TITLE}')"
            )
        self.addCleanup(self.allow)

    def allow(self):
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE papers_paper DROP CONSTRAINT IF EXISTS test_refused")

    def test_writing_behind_ends_as_writing_each_batch_in_turn(self):
        similar_to_b = dataclasses.replace(B, year=2023, authors=["Yan Wu", "Other Person"])
        records = [
            A,
            B,
            C1,
            dataclasses.replace(A, venue="A venue"),  # fills the venue of item 1's paper
            similar_to_b,  # a possible duplicate of item 2's paper: a flag
            E,
            C2,  # a newer version of item 3's paper: an update (written here)
            B,  # a repeat of item 2
        ]
        # Batch after batch, inside a transaction (no writer can see it), undone after.
        with transaction.atomic():
            in_turn = outcomes(services.import_records(records=records, batch_size=2))
            catalog_in_turn = catalog()
            transaction.set_rollback(True)
        self.assertFalse(Paper.objects.exists())

        with CaptureQueriesContext(connection) as here:
            behind = outcomes(services.import_records(records=records, batch_size=2))

        self.assertEqual(
            [(outcome, title, same) for outcome, title, same, _ in behind],
            [
                ("created", A.title, None),
                ("created", B.title, None),
                ("created", C1.title, None),
                ("updated", A.title, None),
                ("possible_duplicate", B.title, None),
                ("created", E.title, None),
                ("updated", C1.title, None),
                ("duplicate", B.title, 2),
            ],
        )
        self.assertEqual(behind, in_turn)
        self.assertEqual(catalog(), catalog_in_turn)
        self.assertEqual(Paper.objects.get(arxiv_id="2101.00001").arxiv_version, 2)
        # The flag was inserted, but not by this connection: by the writer's.
        self.assertEqual(PossibleDuplicate.objects.count(), 1)
        self.assertFalse(
            [
                q
                for q in here.captured_queries
                if "INSERT" in q["sql"] and "possibleduplicate" in q["sql"]
            ]
        )

    def test_a_refused_batch_is_written_again_item_by_item(self):
        self.refuse()
        # Batches: [A, B] [REFUSED, C1] [C1, E]. [C1, E] is matched while [REFUSED, C1]
        # is written, C1 as a repeat of item 4; then the writer's batch is refused.
        results = services.import_records(records=[A, B, REFUSED, C1, C1, E], batch_size=2)
        self.assertEqual(
            [(outcome, title, same) for outcome, title, same, _ in outcomes(results)],
            [
                ("created", A.title, None),
                ("created", B.title, None),
                ("failed", None, None),
                ("created", C1.title, None),
                ("duplicate", C1.title, 4),
                ("created", E.title, None),
            ],
        )
        self.assertEqual(results[2].reason, REFUSED_REASON)
        papers, _ = catalog()
        self.assertEqual(sorted(papers), sorted([A.title, B.title, C1.title, E.title]))
        self.assertEqual(papers[C1.title][0], C1.authors)
        self.assertEqual(papers[E.title][0], E.authors)
        self.assertEqual(results[4].paper.pk, Paper.objects.get(title=C1.title).pk)
        self.assertEqual(Author.objects.filter(name="Zoe Kim").count(), 1)

    def test_an_update_waits_for_the_batch_in_flight_and_meets_its_refusal(self):
        self.refuse()
        # [C2, E] is matched while [REFUSED, C1] is written; C2 updates C1's paper, which
        # it must not do before that paper is in: it waits, and learns of the refusal.
        results = services.import_records(records=[A, B, REFUSED, C1, C2, E], batch_size=2)
        self.assertEqual(
            [(r.outcome, r.reason) for r in results],
            [
                ("created", ""),
                ("created", ""),
                ("failed", REFUSED_REASON),
                ("created", ""),
                ("updated", "updated to v2; updated abstract"),
                ("created", ""),
            ],
        )
        self.assertEqual(results[2].reason, REFUSED_REASON)
        gamma = Paper.objects.with_authors().get(arxiv_id="2101.00001")
        self.assertEqual((gamma.arxiv_version, gamma.abstract), (2, "Now with an abstract."))
        self.assertEqual([a.name for a in gamma.ordered_authors], C1.authors)
        self.assertFalse(Paper.objects.filter(title=REFUSED_TITLE).exists())

    def test_a_job_written_behind_reports_every_item_in_order_once_committed(self):
        admin = make_user(is_staff=True)
        records = [A, B, C1, dataclasses.replace(A, venue="A venue"), E, B, C2]
        job = services.create_bibtex_job(
            records=records, errors=[], filename="refs.bib", created_by=admin
        )
        with mock.patch.object(services, "_BATCH", 2):
            services.import_now(job=job)
        job.refresh_from_db()
        self.assertEqual(
            (job.status, job.processed, job.total, job.created_count, job.updated_count),
            ("done", 7, 7, 4, 2),
        )
        self.assertEqual(
            [(entry["n"], entry["outcome"], entry["title"]) for entry in job.report],
            [
                (1, "created", A.title),
                (2, "created", B.title),
                (3, "created", C1.title),
                (4, "updated", A.title),
                (5, "created", E.title),
                (6, "duplicate", B.title),
                (7, "updated", C1.title),
            ],
        )
        stored = dict(Paper.objects.values_list("title", "pk"))
        self.assertEqual(
            [entry["paper_id"] for entry in job.report],
            [stored[entry["title"]] for entry in job.report],
        )

    def test_a_bibtex_run_reads_each_batch_of_entries_as_it_reaches_them(self):
        text = (
            "@article{alpha, title={Alpha}, author={Xu Li and Yan Wu}, doi={10.1000/alpha}}\n"
            "@misc{untitled, author={Nobody}}\n"
            "@article{beta, title={Beta}, author={Yan Wu and Zoe Kim}, year={2022}}\n"
            "@article{again, title={Alpha}, author={Xu Li}, doi={10.1000/ALPHA}}\n"
            "@article{broken, title={No closing brace\n"
        )
        parsed = services.parse_bibtex_upload(data=text.encode(), filename="refs.bib")
        job = services.create_bibtex_run(parsed=parsed, filename="refs.bib")
        # (Entries are not records yet: each batch reads its own.)
        self.assertEqual(sum("entry" in item for item in job.items), 4)
        with mock.patch.object(services, "_BATCH", 2):
            services.import_now(job=job)
        job.refresh_from_db()
        self.assertEqual(
            (job.status, job.total, job.created_count, job.duplicate_count, job.failed_count),
            ("done", 5, 2, 1, 2),
        )
        self.assertEqual(
            [(e["n"], e["input"], e["line"], e["outcome"], e["title"]) for e in job.report],
            [
                (1, "alpha", None, "created", "Alpha"),
                (2, "untitled", 2, "failed", ""),
                (3, "beta", None, "created", "Beta"),
                (4, "again", None, "duplicate", "Alpha"),
                (5, "broken", 5, "failed", ""),
            ],
        )
        self.assertEqual(job.report[1]["reason"], "no title (@misc{untitled, author={Nobody}})")
        self.assertEqual(
            {
                paper.title: [a.name for a in paper.ordered_authors]
                for paper in Paper.objects.with_authors()
            },
            {"Alpha": ["Xu Li", "Yan Wu"], "Beta": ["Yan Wu", "Zoe Kim"]},
        )

    def test_a_run_that_fails_reports_what_the_writer_committed(self):
        admin = make_user(is_staff=True)
        job = services.create_bibtex_job(
            records=[A, B, E], errors=[], filename="refs.bib", created_by=admin
        )
        job.items[2]["record"] = {"authors": []}  # no title: not a record, an error here
        job.save()
        # Batches of one: B is in flight when the third item breaks the run.
        with mock.patch.object(services, "_BATCH", 1):
            services.import_now(job=job)
        job.refresh_from_db()
        self.assertEqual((job.status, job.processed, job.created_count), ("failed", 2, 2))
        self.assertEqual(
            [(entry["outcome"], entry["title"]) for entry in job.report],
            [("created", A.title), ("created", B.title)],
        )
        self.assertEqual(Paper.objects.count(), 2)


@unittest.skipUnless(connection.vendor == "postgresql", "imports write behind on PostgreSQL")
class WriteBehindTests(TransactionTestCase):
    serialized_rollback = True

    def backend(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]

    def test_writes_on_its_own_connection_and_commits(self):
        seen = []

        def write(name):
            seen.append(self.backend())
            Author.objects.create(name=name, key=name.lower())

        writer = WriteBehind()
        try:
            writer.submit(write, "Ada Lovelace")
            self.assertTrue(writer.wait())
        finally:
            writer.close()
        self.assertNotEqual(seen, [self.backend()])
        self.assertEqual(list(Author.objects.values_list("name", flat=True)), ["Ada Lovelace"])
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [seen[0]])
            self.assertEqual(cursor.fetchone()[0], 0, "its connection is closed with it")

    def test_a_refused_write_is_rolled_back_whole(self):
        Author.objects.create(name="Taken", key="taken")

        def write():
            Author.objects.create(name="First", key="first")
            Author.objects.create(name="Taken again", key="taken")

        writer = WriteBehind()
        try:
            writer.submit(write)
            with self.assertRaises(EarlierBatchRefused) as refused:
                writer.drain()
            self.assertIsInstance(refused.exception.__cause__, IntegrityError)
            self.assertFalse(writer.wait())
            self.assertTrue(writer.wait(), "nothing in flight any more")
        finally:
            writer.close()
        self.assertEqual(list(Author.objects.values_list("key", flat=True)), ["taken"])

    def test_switches_threads_often_only_while_open(self):
        before = sys.getswitchinterval()
        writer = WriteBehind()
        try:
            self.assertLessEqual(sys.getswitchinterval(), 0.001)
        finally:
            writer.close()
        self.assertEqual(sys.getswitchinterval(), before)
