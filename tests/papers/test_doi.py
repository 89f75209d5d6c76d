"""fetch_doi against recorded Crossref, DataCite and DOI resolver responses.

Cassettes (tests/fixtures/crossref, see README) are served through `responses` with
their recorded status, headers and bodies.
"""

import datetime
import json

import responses
from django.test import SimpleTestCase, override_settings
from responses import matchers

from mlsys_reader.lib import http
from papers.doi import BIBTEX, CSL_JSON, fetch_doi
from papers.records import PaperRecord
from tests.lib import FIXTURES, add_recorded, cassette

WORKS = "https://api.crossref.org/works"
DATACITE = "https://api.datacite.org/dois"
ONE_ID = cassette("crossref/test_works_with_one_id.yaml")
MANY_IDS = cassette("crossref/test_works_with_many_ids.yaml")
CROSSREF_404 = cassette("crossref/test_works_mixed_ids_warn.yaml")[1]  # "Resource not found."
CONNEG_REDIRECT, CONNEG_BIBTEX = cassette("crossref/test_content_negotiation.yaml")
FRANK_1970 = "10.1126/science.169.3946.635"
FRANK_ABSTRACT = (
    "The train of thought pursued in this article has led to the conclusion that the structure "
    "of cold water seems likely to consist, for the most part, of hydrogen-bonded, "
    "four-coordinated, framework regions, with interstitial monomers occupying some fraction "
    "of the cavities the framework encloses. The precise geometry of the framework has not "
    "been specified, but some evidence suggests that it is rather regular at low temperatures "
    "and becomes more random as the water gets warmer. These conclusions, meager as they are "
    "in comparison with what we shall eventually need to know about water, are still "
    '"subject to change without notice." Such a change would, for instance, be made necessary '
    "by the discrediting either of the data or of the interpretations on which the model is "
    "based. The discovery of new facts, or of new meanings in old facts, which were clearly in "
    "conflict with the model, would also make it necessary to modify, if not to abandon, it. "
    "Even this would be progress, however, for it would be another product of the method of "
    "drawing upon data from diverse sources and would be a further step toward the "
    "progressively more comprehensive model to which this method will lead and the "
    "progressively greater confidence we will be able to place in our conclusions."
)


@override_settings(
    CROSSREF_API_URL="https://api.crossref.org",
    DOI_RESOLVER_URL="https://doi.org",
    DATACITE_API_URL="https://api.datacite.org",
    HTTP_BACKOFF_FACTOR=0,
    HTTP_RETRY_AFTER_MAX=0,
)
class CrossrefTests(SimpleTestCase):
    @responses.activate
    def test_journal_article(self):
        add_recorded(responses, ONE_ID[0])
        record = fetch_doi(doi="https://doi.org/10.1371/journal.pone.0033693")
        self.assertEqual(
            record,
            PaperRecord(
                title="Methylphenidate Exposure Induces Dopamine Neuron Loss and Activation "
                "of Microglia in the Basal Ganglia of Mice",
                authors=[
                    "Shankar Sadasivan",
                    "Brooks B. Pond",
                    "Amar K. Pani",
                    "Chunxu Qu",
                    "Yun Jiao",
                    "Richard J. Smeyne",
                ],
                year=2012,
                venue="PLoS ONE",
                entry_type="article",
                published_on=datetime.date(2012, 3, 21),
                doi="10.1371/journal.pone.0033693",
                url="https://dx.plos.org/10.1371/journal.pone.0033693",
                source="doi",
            ),
        )
        (call,) = responses.calls
        self.assertEqual(call.request.url, f"{WORKS}/10.1371/journal.pone.0033693")
        self.assertEqual(call.request.headers["Accept"], "application/json")

    @responses.activate
    def test_jats_abstract_becomes_text_and_print_year_wins(self):
        add_recorded(responses, MANY_IDS[1])
        record = fetch_doi(doi="10.1002/jor.1100150407")
        self.assertEqual(record.year, 1997)  # printed 1997, online 2005
        self.assertIsNone(record.published_on)  # the print date has no day
        self.assertEqual(record.venue, "Journal of Orthopaedic Research")
        self.assertEqual(len(record.authors), 12)
        self.assertEqual(record.authors[0], "Richard L. Lieber")
        self.assertEqual(record.authors[-1], "Gerard J. Hickey")
        self.assertTrue(
            record.abstract.startswith(
                "Twenty‐two beagles were divided into two equal groups, and the right hindlimb"
            )
        )
        self.assertTrue(
            record.abstract.endswith("during rehabilitation after prolonged inactivity.")
        )
        self.assertIn("declined by about 60% (p < 0.001) in both groups", record.abstract)
        self.assertNotIn("jats", record.abstract)
        self.assertNotIn("\n", record.abstract)  # one paragraph; the "Abstract" heading dropped

    @responses.activate
    def test_title_with_html_tags_and_structured_abstract(self):
        # The body recorded by habanero (its cassette was not kept), served as JSON.
        message = json.loads(
            (FIXTURES / "crossref/works_10.1136_jclinpath-2020-206745.json").read_text()
        )
        responses.get(f"{WORKS}/10.1136/jclinpath-2020-206745", json=message)
        record = fetch_doi(doi="10.1136/JCLINPATH-2020-206745")
        self.assertEqual(
            record.title,
            "Construction of a reference material panel for detecting KRAS / NRAS / EGFR / "
            "BRAF / MET mutations in plasma ctDNA",
        )
        self.assertEqual(record.year, 2021)
        self.assertEqual(record.doi, "10.1136/jclinpath-2020-206745")
        paragraphs = record.abstract.split("\n\n")
        self.assertEqual(
            paragraphs[:2],
            [
                "Background",
                "The absence of high-quality next-generation sequencing (NGS) reference material "
                "(RM) has impeded the clinical use of liquid biopsies with plasma cell-free DNA "
                "(cfDNA) in China.",
            ],
        )
        self.assertEqual(len(paragraphs), 10)

    @responses.activate
    def test_proceedings_paper_without_a_date(self):
        add_recorded(responses, MANY_IDS[3])
        record = fetch_doi(doi="doi:10.1109/ICDCSW.2003.1203662")
        self.assertEqual(
            (record.title, record.authors, record.entry_type, record.year),
            (
                "Accurate and explicit differentiation of wireless and congestion losses",
                ["V. Arya", "T. Turletti"],
                "inproceedings",
                None,
            ),
        )
        self.assertEqual(
            record.venue,
            "23rd International Conference on Distributed Computing Systems Workshops, 2003. "
            "Proceedings.",
        )

    @responses.activate
    def test_sparse_record_with_a_family_name_only(self):
        add_recorded(responses, MANY_IDS[4])
        record = fetch_doi(doi="10.3892/ijo_00000353")
        self.assertEqual(record.authors, ["Stravopodis"])
        self.assertEqual((record.year, record.doi), (2009, "10.3892/ijo_00000353"))

    @responses.activate
    def test_curly_quotes_survive(self):
        add_recorded(responses, MANY_IDS[2])
        record = fetch_doi(doi="10.1038/srep16696")
        self.assertEqual(
            record.title,
            "Single-molecule FRET studies on alpha-synuclein oligomerization of Parkinson’s "
            "disease genetically related mutants",
        )
        self.assertIn("single-molecule Förster Resonance Energy Transfer", record.abstract)

    @responses.activate
    def test_rate_limiting_is_raised_for_the_caller_to_report(self):
        responses.get(f"{WORKS}/10.1038/srep16696", status=429, headers={"Retry-After": "10"})
        with self.assertRaisesMessage(
            http.RateLimited, "Crossref is rate-limiting us; try again in 10 s"
        ):
            fetch_doi(doi="10.1038/srep16696")

    def test_text_that_is_not_a_doi_is_a_value_error(self):
        with self.assertRaisesMessage(ValueError, "not a DOI: 'arXiv:2106.09685'"):
            fetch_doi(doi="arXiv:2106.09685")


@override_settings(
    CROSSREF_API_URL="https://api.crossref.org",
    DOI_RESOLVER_URL="https://doi.org",
    DATACITE_API_URL="https://api.datacite.org",
    HTTP_BACKOFF_FACTOR=0,
    HTTP_RETRY_AFTER_MAX=0,
)
class OtherAgencyTests(SimpleTestCase):
    @responses.activate
    def test_arxiv_datacite_doi(self):
        # Crossref's recorded 404 answer, for the arXiv DOI it does not know.
        add_recorded(responses, CROSSREF_404, url=f"{WORKS}/10.48550/arxiv.2311.16162")
        (datacite,) = cassette("crossref/cassette_test_arxiv_datacite.yaml")
        add_recorded(responses, datacite)
        record = fetch_doi(doi="https://doi.org/10.48550/arXiv.2311.16162", reference_bibtex=False)
        self.assertEqual(
            record.title,
            "Leveraging Artificial Intelligence Technology for Mapping Research to "
            "Sustainable Development Goals: A Case Study",
        )
        self.assertEqual(
            record.authors,
            [
                "Hui Yin",
                "Amir Aryani",
                "Gavin Lambert",
                "Marcus White",
                "Luis Salvador-Carulla",
                "Shazia Sadiq",
                "Elvira Sojli",
                "Jennifer Boddy",
                "Greg Murray",
                "Wing Wah Tham",
            ],
        )
        self.assertEqual(
            (record.year, record.venue, record.entry_type, record.doi, record.arxiv_id),
            (2023, "arXiv preprint", "misc", "10.48550/arxiv.2311.16162", "2311.16162"),
        )
        self.assertEqual(record.url, "https://arxiv.org/abs/2311.16162")
        self.assertTrue(record.abstract.startswith("The number of publications related to"))
        self.assertEqual(record.source, "doi")
        self.assertEqual(
            [call.request.url for call in responses.calls],
            [f"{WORKS}/10.48550/arxiv.2311.16162", f"{DATACITE}/10.48550/arxiv.2311.16162"],
        )

    @responses.activate
    def test_content_negotiation_gives_csl_metadata_and_reference_bibtex(self):
        # The resolver's recorded answers for 10.1126/science.169.3946.635 (a 302 to
        # Crossref's transform service, then CSL-JSON or BibTeX by Accept header), with
        # the works API and DataCite answering 404: the path a DOI of any other
        # registration agency takes.
        add_recorded(responses, CROSSREF_404, url=f"{WORKS}/{FRANK_1970}")
        responses.get(f"{DATACITE}/{FRANK_1970}", status=404)
        csl = json.loads(
            (
                FIXTURES / "crossref/doi_conneg_10.1126_science.169.3946.635.citeproc.json"
            ).read_text()
        )
        for accept in (CSL_JSON, BIBTEX):
            add_recorded(
                responses, CONNEG_REDIRECT, match=[matchers.header_matcher({"Accept": accept})]
            )
        add_recorded(responses, CONNEG_BIBTEX, match=[matchers.header_matcher({"Accept": BIBTEX})])
        responses.get(
            CONNEG_BIBTEX["request"]["uri"],
            json=csl,
            match=[matchers.header_matcher({"Accept": CSL_JSON})],
        )
        record = fetch_doi(doi=FRANK_1970)
        self.assertEqual(
            record,
            PaperRecord(
                title="The Structure of Ordinary Water",
                authors=["Henry S. Frank"],
                year=1970,
                venue="Science",
                entry_type="article",
                abstract=FRANK_ABSTRACT,
                published_on=datetime.date(1970, 8, 14),
                doi=FRANK_1970,
                url="http://dx.doi.org/10.1126/science.169.3946.635",
                source_bibtex=CONNEG_BIBTEX["response"]["body"]["string"].strip(),
                source="doi",
            ),
        )
        self.assertTrue(record.source_bibtex.startswith("@article{Frank_1970, title={The Struct"))
        self.assertEqual(len(responses.calls), 6)

    @responses.activate
    def test_unknown_everywhere_is_doi_not_found(self):
        add_recorded(responses, CROSSREF_404, url=f"{WORKS}/10.1371/notarealdoi")
        responses.get(f"{DATACITE}/10.1371/notarealdoi", status=404)
        responses.get("https://doi.org/10.1371/notarealdoi", status=404)
        with self.assertRaisesMessage(http.NotFound, "DOI not found") as caught:
            fetch_doi(doi="10.1371/notarealdoi")
        self.assertEqual(str(caught.exception), "DOI not found")

    @responses.activate
    def test_a_resolver_redirect_to_a_landing_page_is_not_followed(self):
        add_recorded(responses, CROSSREF_404, url=f"{WORKS}/10.9999/x")
        responses.get(f"{DATACITE}/10.9999/x", status=404)
        responses.get(
            "https://doi.org/10.9999/x",
            status=302,
            headers={"Location": "https://publisher.example/article/x"},
        )
        with self.assertRaisesMessage(
            http.FetchError, "the registration agency of this DOI offers no metadata"
        ):
            fetch_doi(doi="10.9999/x")
        self.assertEqual(len(responses.calls), 3)
