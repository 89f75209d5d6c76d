"""Helpers for tests that fake the network at its edge, and only there.

* `LocalServer`: a real HTTP server on 127.0.0.1 that answers from a script of
  recorded responses, for tests of the real client over a real socket.
* `cassette` / `add_recorded`: VCR cassettes (recorded real traffic) served through
  `responses`.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# Hop-by-hop and framing headers describe the recorded connection, not the answer.
_SKIPPED_HEADERS = {"transfer-encoding", "content-length", "connection"}


def fixture_bytes(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


def cassette(relative: str) -> list[dict]:
    """The interactions of a VCR cassette under tests/fixtures, as recorded."""
    with open(FIXTURES / relative, encoding="utf-8") as handle:
        return yaml.safe_load(handle)["interactions"]


def add_recorded(rsps, interaction: dict, *, url: str | None = None, match=()) -> None:
    """Register one recorded response with a `responses` mock, at its recorded URL
    (without the query string) or at `url`, optionally with request matchers."""
    response = interaction["response"]
    body = response["body"]["string"]
    headers = [
        (name, value)
        for name, values in response["headers"].items()
        if name.lower() not in _SKIPPED_HEADERS
        for value in values
    ]
    rsps.add(
        interaction["request"]["method"],
        url or interaction["request"]["uri"].split("?")[0],
        body=body.encode() if isinstance(body, str) else body,
        status=response["status"]["code"],
        headers=headers,
        auto_calculate_content_length=True,
        match=match,
    )


class LocalServer:
    """Serve `script` (a list of (status, headers, body) answers, in order) on an
    ephemeral loopback port; `requests` records each request line and its headers.

    An answer of None makes the server accept the request and never respond.
    """

    def __init__(self, script: list):
        self.script = list(script)
        self.requests: list[tuple[str, dict]] = []
        self._stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                server.requests.append((self.path, dict(self.headers)))
                answer = server.script.pop(0) if server.script else (500, {}, b"script ended")
                if answer is None:
                    server._stop.wait(10)
                    return
                status, headers, body = answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
