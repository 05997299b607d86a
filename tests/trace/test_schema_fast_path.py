"""The fast path of event validation must never accept what the EPCIS 2.0 schema rejects."""

import copy
import random

import fastjsonschema
import orjson
import pytest

from smartgov.trace.epcis import schema

from .conftest import EXAMPLES


def _events():
    out = []
    for path in sorted(EXAMPLES.rglob("*.jsonld")):
        doc = orjson.loads(path.read_bytes())
        if doc.get("type") == "EPCISDocument":
            out.extend(doc["epcisBody"]["eventList"])
    out.append({"type": "AggregationEvent", "eventTime": "2026-01-05T08:00:00.000+08:00",
                "eventTimeZoneOffset": "+08:00", "parentID": "urn:epc:id:sscc:6901234.10000000001",
                "childEPCs": ["urn:nmpa:tc:86123450000000011234"], "action": "ADD", "bizStep": "packing",
                "readPoint": {"id": "urn:epc:id:sgln:6901234.00001.0"},
                "sourceList": [{"type": "location", "source": "urn:epc:id:sgln:6901234.00001.0"}]})
    out.append({"type": "ObjectEvent", "eventTime": "2026-01-05T08:00:00.000+08:00", "eventTimeZoneOffset": "+08:00",
                "epcList": ["urn:nmpa:tc:86123450000000011234"], "action": "ADD", "bizStep": "commissioning",
                "disposition": "active", "ilmd": {"cbvmda:lotNumber": "202601A"},
                "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:6901234000016:1"}]})
    return out


def _full_ok(event) -> bool:
    try:
        schema.event_validator()(event)
        return True
    except fastjsonschema.JsonSchemaValueException:
        return False


JUNK = [None, 1, 1.5, True, "", "x", "not a uri", "urn:x", [], {}, ["urn:a", "urn:a"], {"id": "urn:a"},
        "2026-02-30T00:00:00Z", "2026-01-05T08:00:00+08:00", "+15:00", "+08:00", "ADD", "shipping",
        "urn:epcglobal:cbv:bizstep:shipping", [{"type": "location", "source": "urn:a"}], [{"type": "po"}]]


def test_fast_path_accepts_the_plain_shapes_of_the_simulated_chain():
    plain = _events()[-1]
    assert schema.fast_valid(plain) and _full_ok(plain)


def test_whatever_the_fast_path_accepts_the_full_schema_accepts_under_random_mutation():
    rnd = random.Random(20260105)
    events = _events()
    accepted = 0
    for _ in range(4000):
        event = copy.deepcopy(rnd.choice(events))
        for _ in range(rnd.randint(1, 3)):
            keys = [*list(event), "epcList", "childEPCs", "parentID", "bizStep", "ilmd", "readPoint", "extra:x"]
            key = rnd.choice(keys)
            if rnd.random() < 0.3:
                event.pop(key, None)
            else:
                event[key] = copy.deepcopy(rnd.choice(JUNK))
        if schema.fast_valid(event):
            accepted += 1
            assert _full_ok(event), event
    assert accepted > 30  # the mutations do reach the fast path


@pytest.mark.parametrize("event", _events(), ids=lambda e: e.get("type", "?"))
def test_fast_path_agrees_on_every_published_example(event):
    if schema.fast_valid(event):
        assert _full_ok(event)
