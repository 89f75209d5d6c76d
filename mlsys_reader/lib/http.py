"""The one outbound HTTP client. Every request the application makes goes through `get`.

Rules it enforces, so callers cannot forget them:

* only hosts on an allow-list are contacted: the origins of the configured API base URLs
  (ARXIV_API_URL, CROSSREF_API_URL, DOI_RESOLVER_URL, DATACITE_API_URL) plus the
  metadata services that DOI content negotiation redirects to (CONNEG_HOSTS). Anything
  else, an IP literal, or a name that resolves to a private, loopback or link-local
  address is refused with FetchRefused before a request is made, on every redirect hop;
* a timeout on every call (HTTP_TIMEOUT) and at most MAX_REDIRECTS redirects;
* bounded retries with exponential backoff for connection failures, 429 and 5xx only,
  honouring Retry-After (urllib3's Retry does the work);
* a User-Agent naming the app and the operator's contact address;
* one exception family (FetchError) whose messages can be shown to a user as they are.

Settings read here (their defaults are in settings.py): HTTP_TIMEOUT, HTTP_RETRIES,
HTTP_BACKOFF_FACTOR (the waits between retries are 0, 2, 4... times it),
HTTP_RETRY_AFTER_MAX (the longest Retry-After we wait for) and the API base URLs.
"""

import email.utils
import ipaddress
import socket
import time
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

APP_VERSION = "0.1"
MAX_REDIRECTS = 5
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

# doi.org answers a content-negotiated request with a redirect to the registration
# agency's metadata service; these are the ones we follow (https only).
CONNEG_HOSTS = {
    "api.crossref.org": "Crossref",
    "data.crossref.org": "Crossref",
    "api.datacite.org": "DataCite",
    "data.datacite.org": "DataCite",
}


class FetchError(Exception):
    """Something could not be fetched; `str(error)` is a message for the user.

    `status` is the HTTP status when there was one; `response` the final response
    (callers such as the arXiv client read error documents from it).
    """

    def __init__(self, message: str, *, url: str = "", status: int | None = None, response=None):
        super().__init__(message)
        self.message = message
        self.url = url
        self.status = status
        self.response = response


class FetchRefused(FetchError):
    """The URL is not one we may fetch; no request was made."""


class NotFound(FetchError):
    """The service answered 404 or 410."""


class RateLimited(FetchError):
    """The service still answered 429 after our retries; `retry_after` is in seconds."""

    def __init__(self, message: str, *, retry_after: int | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class UpstreamError(FetchError):
    """The service failed (5xx after retries), could not be reached or timed out."""


def user_agent() -> str:
    # Crossref routes requests that carry a mailto to its "polite" pool.
    return f"mlsys-reader/{APP_VERSION} (mailto:{settings.CONTACT_EMAIL})"


def get(
    url: str,
    *,
    params: dict | None = None,
    headers: dict | None = None,
    accept: str | None = None,
) -> requests.Response:
    """GET `url` under the rules above and return the final 2xx response (body read).

    Raises FetchRefused (before any request) for a URL that is not allowed, NotFound for
    404/410, RateLimited for 429 after retries, UpstreamError for 5xx after retries,
    connection failures and timeouts, and FetchError for any other unexpected answer.
    """
    service = _check_allowed(url)
    request_headers = {"User-Agent": user_agent(), **(headers or {})}
    if accept:
        request_headers["Accept"] = accept
    timeout = settings.HTTP_TIMEOUT
    with _session() as session:
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                response = session.get(
                    url,
                    params=params,
                    headers=request_headers,
                    timeout=timeout,
                    allow_redirects=False,  # followed below, so every hop is checked
                )
            except requests.Timeout:
                raise UpstreamError(
                    f"{service} did not answer within {timeout} s", url=url
                ) from None
            except requests.RequestException:
                raise UpstreamError(f"{service} could not be reached", url=url) from None
            if not response.is_redirect:
                return _checked(response, service)
            url = urljoin(response.url, response.headers["Location"])
            params = None  # the Location header is the whole next URL
            service = _check_allowed(url)
    raise FetchError(f"{service} redirected us too many times", url=url)


def _session() -> requests.Session:
    retries = settings.HTTP_RETRIES
    retry = Retry(
        total=retries,
        connect=retries,
        # A read that timed out or broke may have reached the server; a slow service
        # should not be asked three times more, so read errors are not retried (False:
        # urllib3 re-raises the read timeout itself, which requests reports as one).
        read=False,
        status=retries,
        other=0,
        backoff_factor=settings.HTTP_BACKOFF_FACTOR,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True,
        retry_after_max=settings.HTTP_RETRY_AFTER_MAX,
        raise_on_status=False,  # hand back the last 429/5xx so we can explain it
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.trust_env = False  # no proxies or netrc from the environment
    return session


def _checked(response: requests.Response, service: str) -> requests.Response:
    status = response.status_code
    details = {"url": response.url, "status": status, "response": response}
    if 200 <= status < 300:
        return response
    if status in (404, 410):
        raise NotFound(f"{service} has no such record", **details)
    if status == 429:
        retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
        later = f"in {retry_after} s" if retry_after is not None else "later"
        raise RateLimited(
            f"{service} is rate-limiting us; try again {later}", retry_after=retry_after, **details
        )
    if status >= 500:
        raise UpstreamError(
            f"{service} answered with an error (HTTP {status}); try again later", **details
        )
    raise FetchError(f"{service} refused the request (HTTP {status})", **details)


def _retry_after_seconds(value: str | None) -> int | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, round(moment.timestamp() - time.time()))


def _origin(url: str) -> tuple[str, str, int] | None:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return None
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)


def configured_services() -> dict[tuple[str, str, int], str]:
    """The origins of the configured base URLs, with the name used in messages.

    Read at call time so that tests (and mirrors) can point a setting elsewhere.
    """
    configured = {
        settings.DOI_RESOLVER_URL: "the DOI resolver",
        settings.DATACITE_API_URL: "DataCite",
        settings.CROSSREF_API_URL: "Crossref",
        settings.ARXIV_API_URL: "arXiv",
    }
    return {_origin(url): name for url, name in configured.items() if _origin(url)}


def _check_allowed(url: str) -> str:
    """Return the service name for `url`, or raise FetchRefused."""
    origin = _origin(url)
    if origin is None or urlsplit(url).username is not None:
        raise FetchRefused(f"refused to fetch {url!r}: not an http(s) URL we may use", url=url)
    services = configured_services()
    if origin in services:
        # An operator-configured base URL is trusted as is, even a loopback test server.
        return services[origin]
    scheme, host, port = origin
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise FetchRefused(f"refused to fetch {url!r}: IP addresses are not allowed", url=url)
    if host not in CONNEG_HOSTS or (scheme, port) != ("https", 443):
        raise FetchRefused(f"refused to fetch {url!r}: {host} is not an allowed host", url=url)
    service = CONNEG_HOSTS[host]
    _refuse_private_addresses(url, host, port, service)
    return service


def _refuse_private_addresses(url: str, host: str, port: int, service: str) -> None:
    # A public name can be pointed at an internal address (a hijacked record): what
    # it resolves to now must be public. (requests resolves the name again when it
    # connects, so a rebinding between the two is not caught; the names are the
    # configured API hosts, not users'.)
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError:
        raise UpstreamError(
            f"{service} could not be reached ({host} did not resolve)", url=url
        ) from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise FetchRefused(
                f"refused to fetch {url!r}: {host} resolves to a non-public address", url=url
            )
