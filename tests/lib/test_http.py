"""The outbound HTTP client: allow-list, redirects, retries, errors, User-Agent.

HTTP is faked with `responses` (which replays urllib3's Retry decisions for status
codes), plus a real loopback server for what only a socket shows: timeouts,
connection failures and the sleeps urllib3 takes between attempts.
"""

import socket
from unittest import mock

import responses
from django.test import SimpleTestCase, override_settings

from mlsys_reader.lib import http
from tests.lib import LocalServer, add_recorded, cassette

ARXIV = "https://export.arxiv.org/api/query"
CROSSREF_WORK = "https://api.crossref.org/works/10.1371/journal.pone.0033693"


@override_settings(
    HTTP_BACKOFF_FACTOR=0,
    HTTP_RETRY_AFTER_MAX=0,
    CONTACT_EMAIL="reader-admin@example.edu",
    ARXIV_API_URL=ARXIV,
    CROSSREF_API_URL="https://api.crossref.org",
    DOI_RESOLVER_URL="https://doi.org",
)
class ClientTests(SimpleTestCase):
    @responses.activate
    def test_sends_user_agent_accept_and_a_timeout(self):
        responses.get(ARXIV, body=b"<feed/>")
        response = http.get(ARXIV, params={"id_list": "1605.08386"}, accept="application/atom+xml")
        self.assertEqual(response.content, b"<feed/>")
        (call,) = responses.calls
        self.assertEqual(call.request.url, f"{ARXIV}?id_list=1605.08386")
        self.assertEqual(
            call.request.headers["User-Agent"], "mlsys-reader/0.1 (mailto:reader-admin@example.edu)"
        )
        self.assertEqual(call.request.headers["Accept"], "application/atom+xml")
        self.assertEqual(call.request.req_kwargs["timeout"], 20)

    @responses.activate
    def test_follows_the_recorded_doi_redirect_to_crossref(self):
        first, second = cassette("crossref/test_content_negotiation.yaml")
        add_recorded(responses, first)
        add_recorded(responses, second)
        response = http.get(
            "https://doi.org/10.1126/science.169.3946.635", accept="application/x-bibtex"
        )
        self.assertEqual(
            response.url,
            "https://api.crossref.org/v1/works/10.1126%2Fscience.169.3946.635/transform",
        )
        self.assertTrue(response.text.startswith(" @article{Frank_1970, title={The Structure"))
        self.assertEqual(
            [call.request.headers["Accept"] for call in responses.calls],
            ["application/x-bibtex", "application/x-bibtex"],
        )

    @responses.activate
    def test_redirect_to_a_host_not_allowed_is_refused_before_it_is_requested(self):
        responses.get(
            "https://doi.org/10.1/x", status=302, headers={"Location": "https://evil.example/steal"}
        )
        with self.assertRaisesMessage(
            http.FetchRefused,
            "refused to fetch 'https://evil.example/steal': evil.example is not an allowed host",
        ):
            http.get("https://doi.org/10.1/x")
        self.assertEqual(len(responses.calls), 1)

    @responses.activate
    def test_redirect_to_plain_http_of_an_allowed_host_is_refused(self):
        responses.get(
            "https://doi.org/10.1/x",
            status=301,
            headers={"Location": "http://api.crossref.org/works/10.1/x"},
        )
        with self.assertRaises(http.FetchRefused):
            http.get("https://doi.org/10.1/x")
        self.assertEqual(len(responses.calls), 1)

    @responses.activate
    def test_redirects_are_capped(self):
        responses.get(
            "https://doi.org/loop", status=302, headers={"Location": "https://doi.org/loop"}
        )
        with self.assertRaisesMessage(
            http.FetchError, "the DOI resolver redirected us too many times"
        ):
            http.get("https://doi.org/loop")
        self.assertEqual(len(responses.calls), http.MAX_REDIRECTS + 1)

    @responses.activate
    def test_urls_outside_the_allow_list_are_refused_before_any_request(self):
        cases = {
            "https://evil.example/api/query": "evil.example is not an allowed host",
            "http://127.0.0.1/admin": "IP addresses are not allowed",
            "http://169.254.169.254/latest/meta-data/": "IP addresses are not allowed",
            "http://[::1]:8000/": "IP addresses are not allowed",
            "https://10.0.0.1/": "IP addresses are not allowed",
            "http://localhost:8000/": "localhost is not an allowed host",
            "ftp://export.arxiv.org/api/query": "not an http(s) URL we may use",
            "https://user:pw@export.arxiv.org/api/query": "not an http(s) URL we may use",
            "https://export.arxiv.org:8443/api/query": "export.arxiv.org is not an allowed host",
        }
        for url, reason in cases.items():
            with self.subTest(url=url), self.assertRaisesMessage(http.FetchRefused, reason):
                http.get(url)
        self.assertEqual(len(responses.calls), 0)

    @responses.activate
    def test_conneg_host_that_resolves_to_a_private_address_is_refused(self):
        private = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 443))]
        with (
            mock.patch("socket.getaddrinfo", return_value=private),
            self.assertRaisesMessage(
                http.FetchRefused, "data.crossref.org resolves to a non-public address"
            ),
        ):
            http.get("https://data.crossref.org/10.1/x")
        self.assertEqual(len(responses.calls), 0)

    @responses.activate
    def test_conneg_host_that_resolves_to_a_public_address_is_allowed(self):
        responses.get("https://data.datacite.org/10.1/x", json={"title": "T"})
        public = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("151.101.2.1", 443))]
        with mock.patch("socket.getaddrinfo", return_value=public):
            self.assertEqual(http.get("https://data.datacite.org/10.1/x").json(), {"title": "T"})

    @responses.activate
    @override_settings(ARXIV_API_URL="http://127.0.0.1:8765/api/query")
    def test_a_configured_loopback_base_url_is_allowed_but_no_other_port(self):
        responses.get("http://127.0.0.1:8765/api/query", body=b"<feed/>")
        self.assertEqual(http.get("http://127.0.0.1:8765/api/query").content, b"<feed/>")
        with self.assertRaises(http.FetchRefused):
            http.get("http://127.0.0.1:8766/api/query")

    @responses.activate
    def test_404_and_410_are_not_found(self):
        (_ok, missing, _other) = cassette("crossref/test_works_mixed_ids_warn.yaml")
        add_recorded(responses, missing)  # Crossref: 404 "Resource not found."
        responses.get("https://doi.org/10.1/gone", status=410)
        with self.assertRaisesMessage(http.NotFound, "Crossref has no such record") as caught:
            http.get("https://api.crossref.org/works/10.1371/notarealdoi")
        self.assertEqual(caught.exception.status, 404)
        with self.assertRaises(http.NotFound):
            http.get("https://doi.org/10.1/gone")
        self.assertEqual(len(responses.calls), 2)  # a permanent error is not retried

    @responses.activate
    def test_429_is_retried_then_reported_with_retry_after(self):
        responses.get(CROSSREF_WORK, status=429, headers={"Retry-After": "30"})
        with self.assertRaisesMessage(
            http.RateLimited, "Crossref is rate-limiting us; try again in 30 s"
        ) as caught:
            http.get(CROSSREF_WORK)
        self.assertEqual(caught.exception.retry_after, 30)
        self.assertEqual(len(responses.calls), 4)  # the request and 3 retries

    @responses.activate
    @override_settings(HTTP_RETRIES=1)
    def test_429_without_retry_after(self):
        responses.get(ARXIV, status=429)
        with self.assertRaisesMessage(
            http.RateLimited, "arXiv is rate-limiting us; try again later"
        ):
            http.get(ARXIV)
        self.assertEqual(len(responses.calls), 2)

    @responses.activate
    def test_5xx_is_retried_and_a_later_success_is_returned(self):
        first, second = cassette("crossref/test_works_with_one_id.yaml") * 2
        responses.get(CROSSREF_WORK, status=503)
        responses.get(CROSSREF_WORK, status=502)
        add_recorded(responses, first)
        response = http.get(CROSSREF_WORK)
        self.assertEqual(response.json()["message"]["DOI"], "10.1371/journal.pone.0033693")
        self.assertEqual(len(responses.calls), 3)

    @responses.activate
    def test_5xx_after_retries_is_an_upstream_error(self):
        responses.get(ARXIV, status=503)
        with self.assertRaisesMessage(
            http.UpstreamError, "arXiv answered with an error (HTTP 503); try again later"
        ):
            http.get(ARXIV)
        self.assertEqual(len(responses.calls), 4)

    @responses.activate
    def test_other_client_errors_are_not_retried(self):
        responses.get(ARXIV, status=400, body=b"bad")
        with self.assertRaisesMessage(http.FetchError, "arXiv refused the request (HTTP 400)") as c:
            http.get(ARXIV)
        self.assertIs(type(c.exception), http.FetchError)
        self.assertEqual(c.exception.response.content, b"bad")
        self.assertEqual(len(responses.calls), 1)


@override_settings(HTTP_BACKOFF_FACTOR=0, HTTP_RETRY_AFTER_MAX=0)
class RealSocketTests(SimpleTestCase):
    """The real client against a loopback server configured as the arXiv base URL."""

    def test_timeout_is_reported_with_the_service_name(self):
        with (
            LocalServer([None]) as server,
            override_settings(ARXIV_API_URL=f"{server.url}/api/query", HTTP_TIMEOUT=1),
            self.assertRaisesMessage(http.UpstreamError, "arXiv did not answer within 1 s"),
        ):
            http.get(f"{server.url}/api/query")
        self.assertEqual(len(server.requests), 1)  # a read timeout is not retried

    def test_connection_refused_is_retried_then_reported(self):
        with socket.socket() as probe:  # a port with nobody listening
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        url = f"http://127.0.0.1:{port}/api/query"
        with (
            override_settings(ARXIV_API_URL=url),
            self.assertLogs("urllib3.connectionpool", "WARNING") as logs,
            self.assertRaisesMessage(http.UpstreamError, "arXiv could not be reached"),
        ):
            http.get(url)
        self.assertEqual(len(logs.records), 3)  # three retries, then give up

    @override_settings(HTTP_RETRY_AFTER_MAX=30, HTTP_BACKOFF_FACTOR=1.0)
    def test_retry_after_and_backoff_are_slept_by_urllib3(self):
        script = [
            (503, {"Retry-After": "7"}, b""),
            (502, {}, b""),
            (502, {}, b""),
            (200, {"Content-Type": "application/atom+xml"}, b"<feed/>"),
        ]
        # Time is faked only at urllib3's edge so the test does not wait.
        with (
            LocalServer(script) as server,
            override_settings(ARXIV_API_URL=f"{server.url}/api/query"),
            mock.patch("urllib3.util.retry.time.sleep") as sleep,
        ):
            response = http.get(f"{server.url}/api/query")
        self.assertEqual(response.content, b"<feed/>")
        # Retry-After: 7 is honoured; then exponential backoff (1 s * 2**n).
        self.assertEqual([call.args[0] for call in sleep.call_args_list], [7, 2.0, 4.0])
        self.assertEqual(len(server.requests), 4)
