import orjson
import pytest

from smartgov.trace.epcis.stream import DocumentError, EventStream

from .conftest import EXAMPLES

DOCS = sorted(p for p in EXAMPLES.rglob("*.jsonld") if orjson.loads(p.read_bytes()).get("type") == "EPCISDocument")


def _chunks(data: bytes, size: int):
    return (data[i:i + size] for i in range(0, len(data), size))


@pytest.mark.parametrize("size", [1, 2, 7, 64, 1 << 20])
def test_events_and_header_are_the_same_whatever_the_chunk_size(size):
    for path in DOCS:
        raw = path.read_bytes()
        doc = orjson.loads(raw)
        stream = EventStream(_chunks(raw, size))
        assert [orjson.loads(e) for e in stream] == doc["epcisBody"]["eventList"], path.name
        assert stream.header() == {**doc, "epcisBody": {**doc["epcisBody"], "eventList": []}}


def test_strings_with_brackets_and_escaped_quotes_do_not_confuse_the_scanner():
    doc = {"@context": ["x:y"], "type": "EPCISDocument", "note": 'a ] tricky } " value [ \\',
           "epcisBody": {"eventList": [{"type": "ObjectEvent", "x": '}]"{[\\'}, {"type": "ObjectEvent"}]}}
    raw = orjson.dumps(doc)
    for size in (1, 3, 1000):
        stream = EventStream(_chunks(raw, size))
        assert [orjson.loads(e) for e in stream] == doc["epcisBody"]["eventList"]
        assert stream.header()["note"] == doc["note"]


def test_a_truncated_document_is_an_error():
    with pytest.raises(DocumentError):
        list(EventStream([b'{"type": "EPCISDocument", "epcisBody": {"eventList": [{"type": "Obj']))
