"""Unbounded input: every request body is bounded before it is read, and the streaming scanner stays linear
(an event or string longer than the bound is refused after reading about that much)."""

import time

import pytest

from smartgov.core.middleware import limited_body
from smartgov.trace.epcis.stream import DocumentError, EventStream
from tests import factories

pytestmark = pytest.mark.django_db

MB = 1_048_576


class EndlessBody:
    """A request body of ``size`` bytes made as it is read, counting what the server actually read."""

    def __init__(self, size: int):
        self.size, self.read_bytes = size, 0

    def read(self, n=-1):
        n = self.size - self.read_bytes if n is None or n < 0 else min(n, self.size - self.read_bytes)
        self.read_bytes += n
        return b" " * n

    def readline(self, *args):
        return self.read(*args)


@pytest.mark.parametrize("path", ["/api/trace/epcis/capture?organisation=1", "/api/grain/scans",
                                  "/api/identity/persons/import", "/onestop/apply/X/", "/api/accounts/users"])
def test_a_100_mb_body_is_refused_before_it_is_read(path):
    client = factories.staff_client(factories.user())
    body = EndlessBody(100 * MB)
    started = time.perf_counter()
    resp = client.generic("POST", path, b"", content_type="application/json", CONTENT_LENGTH=str(body.size),
                          **{"wsgi.input": body})
    assert resp.status_code == 413 and resp.json()["code"] == "request_too_large"
    assert body.read_bytes == 0 and time.perf_counter() - started < 1.0


def test_a_streamed_body_is_counted_as_it_is_read():
    from django.core.exceptions import RequestDataTooBig

    body = EndlessBody(5 * MB)
    with pytest.raises(RequestDataTooBig):
        for _ in limited_body(body, 2 * MB):
            pass
    assert body.read_bytes <= 3 * MB


def _document_with_a_long_string(length: int, chunk: int = MB):
    yield b'{"@context": [], "type": "EPCISDocument", "epcisBody": {"eventList": [{"type": "ObjectEvent", "x": "'
    left = length
    while left:
        n = min(chunk, left)
        yield b"a" * n
        left -= n
    yield b'"}]}}'


def test_a_40_mb_string_is_refused_in_linear_time():
    started = time.perf_counter()
    with pytest.raises(DocumentError):
        list(EventStream(_document_with_a_long_string(40 * MB), max_pending=4 * MB))
    assert time.perf_counter() - started < 2.0  # it took 47 s when the scanner re-read the string per chunk


def test_events_under_the_bound_still_stream():
    events = list(EventStream(_document_with_a_long_string(MB), max_pending=4 * MB))
    assert len(events) == 1 and len(events[0]) > MB
