"""fetch_arxiv against recorded arXiv API responses (tests/fixtures/arxiv, see README)."""

import datetime
import threading
import time

import responses
from django.db import connections
from django.test import SimpleTestCase, override_settings
from responses import matchers

from papers.arxiv import fetch_arxiv
from papers.records import ItemError, PaperRecord
from tests.lib import LocalServer, fixture_bytes

API = "https://export.arxiv.org/api/query"
EMPTY = fixture_bytes("arxiv/id_0000.0000_s0_m100_8b51d9633a68.xml")  # totalResults 0
HEAT_BATH = fixture_bytes("arxiv/id_1605.08386_s0_m100_199195aa31ad.xml")

HEAT_BATH_RECORD = PaperRecord(
    title="Heat-bath random walks with Markov bases",
    authors=["Caprice Stanley", "Tobias Windisch"],
    year=2016,
    venue="arXiv preprint",
    entry_type="misc",
    abstract=(
        "Graphs on lattice points are studied whose edges come from a finite set of allowed "
        "moves of arbitrary length. We show that the diameter of these graphs on fibers of a "
        "fixed integer matrix can be bounded from above by a constant. We then study the mixing "
        "behaviour of heat-bath random walks on these graphs. We also state explicit conditions "
        "on the set of moves so that the heat-bath random walk, a generalization of the Glauber "
        "dynamics, is an expander in fixed dimension."
    ),
    arxiv_id="1605.08386",
    arxiv_version=1,
    arxiv_primary_category="math.CO",
    arxiv_comment="20 pages, 3 figures",
    published_on=datetime.date(2016, 5, 26),
    revised_on=datetime.date(2016, 5, 26),
    url="https://arxiv.org/abs/1605.08386v1",
    pdf_url="https://arxiv.org/pdf/1605.08386v1",
    source="arxiv",
)


def answer(id_list: str, body: bytes, *, status: int = 200, count: int | None = None):
    """Register arXiv's answer to one id_list request."""
    count = count if count is not None else len(id_list.split(","))
    responses.get(
        API,
        body=body,
        status=status,
        content_type="application/atom+xml",
        match=[matchers.query_param_matcher({"id_list": id_list, "max_results": str(count)})],
    )


@override_settings(
    ARXIV_API_URL=API, ARXIV_MIN_INTERVAL=0, HTTP_BACKOFF_FACTOR=0, HTTP_RETRY_AFTER_MAX=0
)
class FetchArxivTests(SimpleTestCase):
    @responses.activate
    def test_one_paper_keeps_every_field(self):
        answer("1605.08386", HEAT_BATH)
        result = fetch_arxiv(ids=["1605.08386"])
        self.assertEqual(result.records, {"1605.08386": HEAT_BATH_RECORD})
        self.assertEqual(result.errors, [])

    @responses.activate
    def test_inputs_naming_the_same_paper_share_one_request_and_record(self):
        answer("1605.08386", HEAT_BATH)
        result = fetch_arxiv(
            ids=["1605.08386", "arXiv:1605.08386", "https://arxiv.org/abs/1605.08386"]
        )
        self.assertEqual(list(result.records), ["1605.08386"])
        self.assertEqual(result.errors, [])
        self.assertEqual(len(responses.calls), 1)

    @responses.activate
    def test_old_style_id_with_version(self):
        answer(
            "quant-ph/0201082v1",
            fixture_bytes("arxiv/id_quant-ph_0201082v1_s0_m100_86989fe779ef.xml"),
        )
        record = fetch_arxiv(ids=["quant-ph/0201082v1"]).records["quant-ph/0201082"]
        self.assertEqual(
            (record.arxiv_id, record.arxiv_version, record.arxiv_primary_category),
            ("quant-ph/0201082", 1, "quant-ph"),
        )
        self.assertEqual(
            record.title,
            "Quantum Computers and Quantum Computer Languages: Quantum Assembly Language "
            "and Quantum C Language",
        )
        self.assertEqual(record.authors, ["Stephen Blaha"])
        self.assertEqual((record.year, record.arxiv_comment), (2002, "32 pages"))
        self.assertTrue(record.abstract.startswith("We show a representation"))  # no indent

    @responses.activate
    def test_old_style_id_with_journal_ref_and_escaped_abstract(self):
        answer(
            "astro-ph/0601001", fixture_bytes("arxiv/id_astro-ph_0601001_s0_m100_3150dca9dc76.xml")
        )
        record = fetch_arxiv(ids=["astro-ph/0601001"]).records["astro-ph/0601001"]
        self.assertEqual(record.journal_ref, "ActaAstron.56:1-50,2006")
        self.assertEqual(record.venue, "ActaAstron.56:1-50,2006")
        self.assertEqual(
            record.authors, ["Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski"]
        )
        self.assertEqual(record.pdf_url, "https://arxiv.org/pdf/astro-ph/0601001v1")
        self.assertIn("following Gould & Morgan (2003)", record.abstract)
        self.assertIn("limit of V_max<17.5.", record.abstract)
        self.assertTrue(record.abstract.startswith("We derive the frequencies"))

    @responses.activate
    def test_a_versioned_id_fetches_that_version_even_titled_zero(self):
        answer("2104.12255v1", fixture_bytes("arxiv/id_2104.12255v1_s0_m100_6ae69987ffe1.xml"))
        result = fetch_arxiv(ids=["2104.12255v1"])
        record = result.records["2104.12255"]
        self.assertEqual((record.title, record.arxiv_version), ("0", 1))
        self.assertEqual(record.authors, ["Quan Thoi Minh Nguyen"])
        self.assertEqual(record.published_on, datetime.date(2021, 4, 20))

    @responses.activate
    def test_batch_with_a_missing_id_retries_it_once_then_reports_it(self):
        answer(
            "0808.05394,1707.08567",
            fixture_bytes("arxiv/id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.xml"),
        )
        answer("0808.05394", EMPTY)  # arXiv's recorded empty answer (for 0000.0000)
        result = fetch_arxiv(ids=["0808.05394", "1707.08567"])
        record = result.records["1707.08567"]
        self.assertEqual(
            record.title,
            "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications",
        )
        self.assertEqual(len(record.authors), 34)
        self.assertEqual(
            record.authors[:5],
            [
                "Kees A. Schouhamer Immink",
                "Stan Baggen",
                "Ferdaous Chaabane",
                "Yanling Chen",
                "Peter H. N. de With",
            ],
        )
        self.assertEqual(record.authors[-2:], ["Dirk Wübben", "Hirosuke Yamamoto"])
        self.assertEqual(
            result.errors, [ItemError(input="0808.05394", reason="not found on arXiv")]
        )
        self.assertEqual(len(responses.calls), 2)

    @responses.activate
    def test_an_empty_answer_is_retried_once(self):
        answer("1605.08386", EMPTY)
        answer("1605.08386", HEAT_BATH)
        result = fetch_arxiv(ids=["1605.08386"])
        self.assertEqual(result.records, {"1605.08386": HEAT_BATH_RECORD})
        self.assertEqual(len(responses.calls), 2)

    @responses.activate
    def test_unknown_id_is_reported_after_one_retry(self):
        answer("0000.0000", EMPTY)
        result = fetch_arxiv(ids=["0000.0000"])
        self.assertEqual(result.records, {})
        self.assertEqual(result.errors, [ItemError(input="0000.0000", reason="not found on arXiv")])
        self.assertEqual(len(responses.calls), 2)

    @responses.activate
    def test_arxiv_error_entry_fails_the_id_it_names_and_the_rest_are_asked_again(self):
        answer(
            "1234.12345,1605.08386",
            fixture_bytes("arxiv/error_incorrect_id_format_1234.12345.xml"),
        )
        answer("1605.08386", HEAT_BATH)
        result = fetch_arxiv(ids=["1234.12345", "1605.08386"])
        self.assertEqual(result.records, {"1605.08386": HEAT_BATH_RECORD})
        self.assertEqual(
            result.errors,
            [ItemError(input="1234.12345", reason="arXiv: incorrect id format for 1234.12345")],
        )

    @responses.activate
    def test_arxiv_400_error_feed_is_reported_with_its_message(self):
        # arXiv's recorded 400 answer to id_list=abc, served for an id our parser accepts.
        answer("9999.99999", fixture_bytes("arxiv/id_abc_s0_m100_b79c8dcf6bc3.xml"), status=400)
        result = fetch_arxiv(ids=["9999.99999"])
        self.assertEqual(
            result.errors,
            [ItemError(input="9999.99999", reason="arXiv: incorrect id format for abc")],
        )
        self.assertEqual(len(responses.calls), 1)

    @responses.activate
    def test_inputs_that_are_not_arxiv_ids_are_reported_without_a_request(self):
        result = fetch_arxiv(ids=["abc", "10.1145/3620665.3640366", ""])
        self.assertEqual(
            result.errors,
            [
                ItemError(input="abc", reason="not an arXiv id"),
                ItemError(input="10.1145/3620665.3640366", reason="not an arXiv id"),
                ItemError(input="", reason="not an arXiv id"),
            ],
        )
        self.assertEqual(len(responses.calls), 0)

    @responses.activate
    def test_an_outage_fails_the_ids_of_that_request_with_a_readable_reason(self):
        answer("1605.08386,1707.08567", b"", status=503)
        result = fetch_arxiv(ids=["1605.08386", "1707.08567", "nonsense"])
        reason = "arXiv answered with an error (HTTP 503); try again later"
        self.assertEqual(
            result.errors,
            [
                ItemError(input="nonsense", reason="not an arXiv id"),
                ItemError(input="1605.08386", reason=reason),
                ItemError(input="1707.08567", reason=reason),
            ],
        )
        self.assertEqual(len(responses.calls), 4)  # the request and 3 retries

    @responses.activate
    def test_rate_limiting_is_reported_as_such(self):
        answer("1605.08386", b"", status=429)
        result = fetch_arxiv(ids=["1605.08386"])
        self.assertEqual(
            result.errors,
            [ItemError(input="1605.08386", reason="arXiv is rate-limiting us; try again later")],
        )

    @responses.activate
    def test_entity_expansion_bomb_is_refused(self):
        bomb = (
            b'<?xml version="1.0"?>\n<!DOCTYPE feed [\n <!ENTITY a "aaaaaaaaaa">\n'
            b' <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n'
            b' <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">\n'
            b' <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">\n]>\n'
            b'<feed xmlns="http://www.w3.org/2005/Atom"><entry>'
            b"<id>http://arxiv.org/abs/1605.08386v1</id><title>&d;&d;&d;&d;</title>"
            b"</entry></feed>"
        )
        answer("1605.08386", bomb)
        result = fetch_arxiv(ids=["1605.08386"])
        self.assertEqual(result.records, {})
        self.assertEqual(
            result.errors,
            [ItemError(input="1605.08386", reason="arXiv sent a response we could not read")],
        )

    @responses.activate
    def test_external_entity_is_refused_and_nothing_local_is_read(self):
        xxe = (
            b'<?xml version="1.0"?>\n<!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
            b'<feed xmlns="http://www.w3.org/2005/Atom"><entry>'
            b"<id>http://arxiv.org/abs/1605.08386v1</id><title>&xxe;</title>"
            b"</entry></feed>"
        )
        answer("1605.08386", xxe)
        result = fetch_arxiv(ids=["1605.08386"])
        self.assertEqual(result.records, {})
        self.assertEqual(
            result.errors,
            [ItemError(input="1605.08386", reason="arXiv sent a response we could not read")],
        )

    @responses.activate
    def test_published_doi_and_journal_ref_of_the_current_format(self):
        body = fixture_bytes("arxiv/q_testing_s0_m10_bc5a6c384fe9.xml")
        answer("2202.12139", body)
        record = fetch_arxiv(ids=["2202.12139"]).records["2202.12139"]
        self.assertEqual(record.doi, "10.1109/icstw55395.2022.00035")
        self.assertEqual(
            record.journal_ref,
            "Artificial Intelligence in Software Testing @ 2022 IEEE International Conference "
            "on Software Testing, Verification and Validation Workshops (ICSTW)",
        )
        self.assertEqual(record.authors, ["Mohit Kumar Ahuja", "Arnaud Gotlieb", "Helge Spieker"])


@override_settings(ARXIV_MIN_INTERVAL=0, HTTP_BACKOFF_FACTOR=0, HTTP_RETRY_AFTER_MAX=0)
class RealSocketTests(SimpleTestCase):
    def test_fetches_over_a_real_socket_from_a_configured_local_server(self):
        script = [(200, {"Content-Type": "application/atom+xml; charset=utf-8"}, HEAT_BATH)]
        with (
            LocalServer(script) as server,
            override_settings(ARXIV_API_URL=f"{server.url}/api/query"),
        ):
            result = fetch_arxiv(ids=["1605.08386"])
        self.assertEqual(result.records, {"1605.08386": HEAT_BATH_RECORD})
        ((path, headers),) = server.requests
        self.assertEqual(path, "/api/query?id_list=1605.08386&max_results=1")
        self.assertEqual(headers["User-Agent"], "mlsys-reader/0.1 (mailto:admin@localhost)")


@override_settings(ARXIV_API_URL=API, ARXIV_MIN_INTERVAL=0.3, HTTP_BACKOFF_FACTOR=0)
class ThrottleTests(SimpleTestCase):
    """At most one request per ARXIV_MIN_INTERVAL, also from other database sessions
    (PostgreSQL: an advisory lock held by another connection). Nothing is written, so
    no transaction or flush is needed."""

    databases = {"default"}

    def setUp(self):
        self.started: list[float] = []
        mock = responses.RequestsMock()
        mock.start()
        self.addCleanup(mock.stop)
        self.addCleanup(mock.reset)

        def record_start(request):
            self.started.append(time.monotonic())
            return 200, {"Content-Type": "application/atom+xml"}, HEAT_BATH

        mock.add_callback(responses.GET, API, callback=record_start)

    def assert_spaced(self, count: int):
        self.assertEqual(len(self.started), count)
        gaps = [b - a for a, b in zip(sorted(self.started), sorted(self.started)[1:], strict=False)]
        self.assertTrue(all(gap >= 0.29 for gap in gaps), gaps)

    def test_consecutive_requests_are_spaced(self):
        for _ in range(3):
            self.assertEqual(list(fetch_arxiv(ids=["1605.08386"]).records), ["1605.08386"])
        self.assert_spaced(3)

    def test_concurrent_workers_are_spaced(self):
        def worker():
            try:
                fetch_arxiv(ids=["1605.08386"])
            finally:
                connections.close_all()  # each thread has its own database session

        threads = [threading.Thread(target=worker) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assert_spaced(3)
