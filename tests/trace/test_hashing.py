import orjson

from smartgov.trace.epcis.hashing import event_hash, prehash, utc_millis
from smartgov.trace.epcis.vocab import context_prefixes

# gs1/EPCIS-Event-Hash-Generator tests/examples/epcisDocWithSingleEvent.* (published vector)
SINGLE = {
    "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
    "epcList": ["urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:0614141.107346.2018"],
    "eventTime": "2022-02-16T20:33:31.116000-06:00", "eventTimeZoneOffset": "-06:00",
    "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
    "bizTransactionList": [{"type": "po", "bizTransaction": "http://transaction.acme.com/po/12345678"}],
}
SINGLE_PREHASH = (
    "eventType=ObjectEventeventTime=2022-02-17T02:33:31.116ZeventTimeZoneOffset=-06:00epcList"
    "epc=https://id.gs1.org/01/10614141073464/21/2017epc=https://id.gs1.org/01/10614141073464/21/2018"
    "action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-shippingdisposition=https://ref.gs1.org/cbv/Disp-in_transit"
    "readPointid=https://id.gs1.org/414/0614141073467/254/1234bizTransactionList"
    "bizTransaction=http://transaction.acme.com/po/12345678type=https://ref.gs1.org/cbv/BTT-po"
)
SINGLE_HASH = "ni:///sha-256;3e0f2437f4cb5e8a1b832b769c0eed1bf3e1421f14061132e9800ded03f10182?ver=CBV2.0"


def test_prehash_and_hash_match_the_published_gs1_vector():
    prefixes = context_prefixes(["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"])
    assert prehash(SINGLE, prefixes) == SINGLE_PREHASH
    assert event_hash(SINGLE, prefixes) == SINGLE_HASH


def test_hash_ignores_event_id_record_time_and_order_and_spelling():
    prefixes = context_prefixes([])
    variant = dict(SINGLE, eventID="urn:uuid:1", recordTime="2023-01-01T00:00:00Z",
                   epcList=list(reversed(SINGLE["epcList"])), bizStep="urn:epcglobal:cbv:bizstep:shipping",
                   disposition="cbv:Disp-in_transit", eventTime="2022-02-17T02:33:31.116Z")
    variant["epcList"] = ["https://id.gs1.org/01/10614141073464/21/2018", "urn:epc:id:sgtin:0614141.107346.2017"]
    assert event_hash(variant, prefixes) == SINGLE_HASH


def test_hash_changes_when_any_field_changes():
    prefixes = context_prefixes([])
    assert event_hash(dict(SINGLE, disposition="in_progress"), prefixes) != SINGLE_HASH
    assert event_hash(dict(SINGLE, epcList=SINGLE["epcList"][:1]), prefixes) != SINGLE_HASH
    assert event_hash(dict(SINGLE, **{"ext:note": "x"}), {**prefixes, "ext": "https://ex.org/"}) != SINGLE_HASH


def test_timestamps_are_utc_with_milliseconds_rounded():
    assert utc_millis("2022-02-16T20:33:31-06:00") == "2022-02-17T02:33:31.000Z"
    assert utc_millis("2022-02-16T20:33:31.1235+08:00") == "2022-02-16T12:33:31.124Z"
    assert utc_millis("2022-02-16T23:59:59.9996Z") == "2022-02-17T00:00:00.000Z"


def test_round_trip_json_does_not_change_the_hash():
    prefixes = context_prefixes([])
    assert event_hash(orjson.loads(orjson.dumps(SINGLE)), prefixes) == SINGLE_HASH
