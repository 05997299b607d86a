"""EPCIS 2.0 query parameters on fields without a column of their own (REST binding openapi.yaml, fixed
parameters, and §8.2.7.1's flexible ones). GS1's example documents are captured, then queried back; the
expected event IDs are read off the documents (comments say where), not computed by our code."""

from urllib.parse import quote

import pytest
from django.test import Client

from .conftest import EXAMPLES
from .test_api import _post, key  # noqa: F401 (fixture)

DOCS = ["Example_9.6.2-ObjectEvent.jsonld", "Example_9.6.3-AggregationEvent.jsonld",
        "Example_9.6.4-TransformationEvent.jsonld", "PersistentDisposition-example.jsonld",
        "WithErrorDeclaration/ErrorDeclarationAndCorrectiveEvent.jsonld",
        "WithSensorData/SensorDataExample2.jsonld", "WithSensorData/SensorDataExample4.jsonld",
        "WithSensorData/SensorDataExample6.jsonld", "WithSensorData/SensorDataExample7.jsonld",
        "WithSensorData/SensorDataExample8.jsonld",
        "Example-Type-sourceOrDestination,measurement,bizTransaction.jsonld"]


def _id(h):
    return f"ni:///sha-256;{h}?ver=CBV2.0"


OBJ_962 = _id("a98f08ae6ac4de3482054314d637c07010b448d3802dccb028a06aafcc6a4b10")
AGG_963 = _id("87b5f18a69993f0052046d4687dfacdf48f7c988cfabda2819688c86b4066a49")
TRF_964 = _id("e65c3a997e77f34b58306da7a82ab0fc91c7820013287700f0b50345e5795b97")
PD_1 = _id("56ba4f355c57456b41c3fb60b22d8342e759de503e3e618940ca3b6ad1bf9b00")
PD_2 = _id("dae7b481207bb87f1d981c5f169b8138368ae152a41b002eaf36eca1f67d56f5")
ERR_DECLARED = "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8"
SENS_2 = _id("0301ed4c40065cde36eb9cc80780312d903a031a91d105639df4e649a9d01200")
SENS_4 = _id("7ff1501099b3f5890d310d703fb9f57e251bba0c57d3c049fab590b50323a8e7")
SENS_6 = _id("6aca25c45463182fe3a1ebf60a6b81a165f061b58f4f3c202eb423234386b72e")
SENS_7 = _id("db924230b77cc4d9a7cea4968fd302b06598a2b63e1b0ea011b31d1b5f45e6ac")
SENS_8 = _id("18454584ed96fbb533e4a69b01eefd1bff3edd1e80ef8598957111f4477a0a64")
ASSOC = _id("5f7c472bc4905de27a19b2efc8e4a9c6dc195139669b80b515f12218ff07cf65")
# the GS1 reference implementation's hash (tests/trace/data/gs1_reference_hashes.json)
SENS_12 = _id("3992ce1915ac5a65dd74df93b54840816b05b6b4057300b30b4273557728dd8d")


@pytest.fixture
def client(key):  # noqa: F811
    c = Client()
    for name in DOCS:
        assert _post(c, (EXAMPLES / name).read_bytes(), key).status_code == 202, name
    c.trace_key = key
    return c


def ids(client, qs):
    resp = client.get(f"/api/trace/epcis/events?perPage=1000&{qs}", HTTP_X_TRACE_KEY=client.trace_key)
    assert resp.status_code == 200, (qs, resp.content)
    return {e["eventID"] for e in resp.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]}


def test_epc_class_parameters_match_quantity_lists_by_list(client):
    lot = "urn:epc:class:lgtin:4012345.012345.998877"  # 9.6.2 quantityList, 9.6.3 childQuantityList
    assert ids(client, f"MATCH_epcClass={lot}") == {OBJ_962, AGG_963}
    # the same class as a Digital Link
    assert ids(client, "MATCH_epcClass=https://id.gs1.org/01/04012345123456/10/998877") == {OBJ_962, AGG_963}
    # 9.6.4 inputQuantityList holds lgtin 0614141.077777.987; no event has it as output
    assert ids(client, "MATCH_inputEPCClass=urn:epc:class:lgtin:0614141.077777.987") == {TRF_964}
    assert ids(client, "MATCH_outputEPCClass=urn:epc:class:lgtin:0614141.077777.987") == set()
    assert ids(client, "MATCH_epcClass=urn:epc:class:lgtin:0614141.077777.987") == set()
    assert ids(client, "MATCH_anyEPCClass=urn:epc:class:lgtin:0614141.077777.987|" + lot) == \
        {OBJ_962, AGG_963, TRF_964}
    # a pattern: every lot and serial of GTIN 4012345.012345 (only the 998877 lot is in the documents)
    assert ids(client, "MATCH_epcClass=urn:epc:idpat:sgtin:4012345.012345.*") == {OBJ_962, AGG_963}
    # lgtin 4023333.002000.2019-10-07 in the quantityList of Sensor 4 and 6; lot 998877 of the same GTIN
    # in the association example's childQuantityList
    assert ids(client, "MATCH_epcClass=urn:epc:idpat:sgtin:4023333.002000.*") == {SENS_4, SENS_6, ASSOC}


def test_quantity_comparisons_read_every_quantity_element(client):
    # quantities in the documents: 9.6.2 → 200; 9.6.3 → 10, 200.5; 9.6.4 → 10, 30, 220; Sensor 4 and 6 →
    # 150; Sensor 8 → 52; association → 4; error declaration example → 500, 452 (first event), 500, 500
    assert ids(client, "EQ_quantity=200") == {OBJ_962}
    assert ids(client, "EQ_quantity=452") == {ERR_DECLARED}
    assert ids(client, "GT_quantity=200&LT_quantity=300") == {AGG_963, TRF_964}
    assert ids(client, "GE_quantity=200&LT_quantity=300") == {OBJ_962, AGG_963, TRF_964}
    assert ids(client, "LT_quantity=10") == {ASSOC}
    assert ids(client, "LE_quantity=10") == {AGG_963, TRF_964, ASSOC}
    # each parameter asks for one quantity element of its own (§8.2.7.1): 9.6.3 and 9.6.4 qualify too
    assert ids(client, "GT_quantity=100&LT_quantity=160") == {SENS_4, SENS_6, AGG_963, TRF_964}


def test_persistent_disposition_set_and_unset(client):
    # PersistentDisposition-example: event 1 sets completeness_inferred; event 2 unsets it, sets _verified
    assert ids(client, "EQ_persistentDisposition_set=completeness_inferred") == {PD_1}
    assert ids(client, "EQ_persistentDisposition_set=completeness_verified") == {PD_2}
    assert ids(client, "EQ_persistentDisposition_unset=completeness_inferred") == {PD_2}
    assert ids(client, "EQ_persistentDisposition_set=https://ref.gs1.org/cbv/Disp-completeness_inferred") == {PD_1}


def test_sensor_element_parameters(client):
    # Temperature reports: Sensor 2, 4, 6, 7, 8 (the association example measures AbsoluteHumidity only)
    assert ids(client, "EQ_type=Temperature") == {SENS_2, SENS_4, SENS_6, SENS_7, SENS_8}
    assert ids(client, "EQ_type=Illuminance") == {SENS_2, SENS_4}
    # deviceID giai 4000001.111: metadata of 2 and 8, reports of 4 and 7
    assert ids(client, "EQ_deviceID=urn:epc:id:giai:4000001.111") == {SENS_2, SENS_4, SENS_7, SENS_8}
    assert ids(client, "EQ_deviceID=urn:epc:id:giai:4000001.115") == {SENS_7}
    assert ids(client, "EQ_dataProcessingMethod=https://example.com/253/4012345000054987") == {SENS_8}
    assert ids(client, "EQ_bizRules=https://example.com/253/4012345000054987") == {SENS_2}
    assert ids(client, "EQ_microorganism=https://www.ncbi.nlm.nih.gov/taxonomy/1126011") == {SENS_8}
    inchi = quote("https://identifiers.org/inchikey:CZMRCDWAGMRECN-UGDNZRGBSA-N", safe="")
    assert ids(client, f"EQ_chemicalSubstance={inchi}") == {SENS_8}
    assert ids(client, "EQ_stringValue=SomeString") == {SENS_7}
    assert ids(client, "EQ_stringValue=someSensorOutput") == {SENS_6, SENS_8}
    assert ids(client, "EQ_hexBinaryValue=F0F0F0") == {SENS_7}
    assert ids(client, "EQ_uriValue=https://example.org/example/someSectorSpecificValue") == {SENS_7}
    assert ids(client, "EQ_booleanValue=true") == {SENS_7}
    # metadata times: startTime 2019-04-02T13:55:01+01:00 (2), 2019-04-01T15:00+01:00 (6 and 8),
    # 2019-11-06T13:55+01:00 (association)
    assert ids(client, "GE_startTime=2019-04-02T00:00:00Z") == {SENS_2, ASSOC}
    assert ids(client, "GE_startTime=2019-04-02T00:00:00Z&LT_startTime=2019-05-01T00:00:00Z") == {SENS_2}
    assert ids(client, "LT_startTime=2019-04-02T00:00:00Z") == {SENS_6, SENS_8}
    assert ids(client, "GE_endTime=2019-04-02T13:59:00Z&LT_endTime=2019-04-02T14:00:00Z") == {SENS_6, SENS_8}
    # values: Temperature 26.0 CEL in 4 and 7; maxValue 26.2 (2), 13.8 (6, 8)
    assert ids(client, "EQ_type=Temperature&EQ_value_CEL=26") == {SENS_4, SENS_7}
    assert ids(client, "GT_maxValue_CEL=20") == {SENS_2}
    assert ids(client, "LT_minValue_CEL=13&GE_meanValue_CEL=13") == {SENS_6, SENS_8}
    assert ids(client, "GE_value_KMH=160") == {SENS_4}
    assert ids(client, "EXISTS_sensorElement") == {SENS_2, SENS_4, SENS_6, SENS_7, SENS_8, ASSOC}
    assert ids(client, "EQ_type=AbsoluteHumidity&GT_maxValue_A93=12.15") == {SENS_2, ASSOC}


def test_typed_lists_ilmd_extensions_transformation_and_corrective_ids(client):
    # bizTransaction type inv: the two PersistentDisposition events (A123) and the association example
    assert ids(client, "EQ_bizTransaction_inv=urn:epcglobal:cbv:bt:9520011111116:A123") == {PD_1, PD_2}
    assert ids(client, "EQ_source_possessing_party=urn:epc:id:pgln:4000001.00012") == {ASSOC}
    assert ids(client, "EQ_destination_owning_party=urn:epc:id:sgln:0614141.00001.0") == {OBJ_962}
    assert ids(client, "EQ_destination_location=urn:epc:id:sgln:0614141.00001.0") == set()
    assert ids(client, "EQ_ILMD_example:batch=XYZ") == {TRF_964}
    assert ids(client, "EXISTS_ILMD_example:bestBeforeDate") == {TRF_964}
    assert ids(client, "GE_ILMD_example:bestBeforeDate=2014-12-01T00:00:00Z") == set()  # a date, not a time
    assert ids(client, "EXISTS_example:myField") == {OBJ_962, AGG_963, TRF_964, ASSOC}
    assert ids(client, "EQ_example:myField=" + quote("Example of a vendor/user extension")) == \
        {OBJ_962, AGG_963, TRF_964, ASSOC}
    # ErrorDeclarationAndCorrectiveEvent: the declared event names urn:uuid:404d… as its correction
    assert ids(client, "EQ_correctiveEventID=urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8") == {ERR_DECLARED}
    assert ids(client, "EQ_transformationID=urn:epc:id:gdti:0614141.12345.400") == set()


def test_error_declaration_and_inner_extension_fields(client):
    # SensorDataExample12: errorDeclaration {example:issuer, example:field, example3:errorCodes {value1: 34,
    # value44: 66}}, ILMD example2:userMasterData {example2:sizeCode: B-2}, example:internalData
    # {example:procedure: A-1, example:machine}
    assert _post(client, (EXAMPLES / "WithSensorData/SensorDataExample12.jsonld").read_bytes(),
                 client.trace_key).status_code == 202
    assert ids(client, "EQ_ERROR_DECLARATION_example:issuer=" + quote("Employee 123")) == {SENS_12}
    assert ids(client, "EQ_ERROR_DECLARATION_example:issuer=" + quote("Employee 124")) == set()
    assert ids(client, "EXISTS_ERROR_DECLARATION_example:field") == {SENS_12}
    assert ids(client, "EXISTS_ERROR_DECLARATION_example:issuer&EXISTS_ERROR_DECLARATION_example:nothing") == set()
    assert ids(client, "EQ_INNER_example:procedure=A-1") == {SENS_12}
    assert ids(client, "EQ_INNER_example:procedure=A-2") == set()
    assert ids(client, "EXISTS_INNER_example:machine") == {SENS_12}
    assert ids(client, "EXISTS_INNER_example:internalData") == set()  # top level, not inner
    assert ids(client, "EQ_INNER_ILMD_example2:sizeCode=B-2") == {SENS_12}
    assert ids(client, "EQ_INNER_ERROR_DECLARATION_example3:value1=34") == {SENS_12}
    assert ids(client, "GT_INNER_ERROR_DECLARATION_example3:value44=60") == {SENS_12}
    assert ids(client, "LT_INNER_ERROR_DECLARATION_example3:value44=60") == set()


def test_extension_fields_named_by_namespace_uri(client):
    # §8.2.7.1: "the namespace URI …, a pound sign (#), and the name"; 9.6.4 declares
    # example = http://ns.example.com/epcis/ and has ILMD example:batch XYZ and example:myField
    ns = quote("http://ns.example.com/epcis/#", safe="")
    assert ids(client, f"EQ_ILMD_{ns}batch=XYZ") == {TRF_964}
    assert ids(client, f"EQ_ILMD_{ns}batch=ABC") == set()
    assert ids(client, f"EXISTS_{ns}myField") == {OBJ_962, AGG_963, TRF_964, ASSOC}
    assert ids(client, f"EXISTS_{quote('http://ns.example.org/other/#', safe='')}myField") == set()
    assert _post(client, (EXAMPLES / "WithSensorData/SensorDataExample12.jsonld").read_bytes(),
                 client.trace_key).status_code == 202
    # Example12's events carry their own context: example3 = https://ns.example3.com/epcis
    assert ids(client, f"EQ_INNER_ERROR_DECLARATION_{quote('https://ns.example3.com/epcis#', safe='')}value1=34") \
        == {SENS_12}


def test_filters_combine_with_indexed_parameters_and_paging(client):
    assert ids(client, "eventType=AggregationEvent&EQ_type=Temperature") == {SENS_8}
    resp = client.get("/api/trace/epcis/events?EQ_type=Temperature&perPage=2", HTTP_X_TRACE_KEY=client.trace_key)
    first = resp.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert len(first) == 2 and 'rel="next"' in resp["Link"]


@pytest.mark.parametrize("qs", ["EQ_quantity=many", "GT_quantity=", "MATCH_epcClass=urn:epc:idpat:foo:1.*",
                                "MATCH_epcClass=notauri", "EQ_persistentDisposition_set=lost_somewhere",
                                "EQ_booleanValue=maybe", "GE_startTime=tomorrow", "GT_value_CEL=warm",
                                "EQ_bizTransaction_nonsense=x", "GT_ILMD_example:batch=XYZ",
                                "EXISTS_sensorElement=perhaps", "EQ_value_TOOLONG=1", "GT_quantity=nan",
                                "GT_INNER_example:procedure=high", "LT_ERROR_DECLARATION_example:issuer=x"])
def test_malformed_values_are_query_parameter_exceptions(client, qs):
    resp = client.get(f"/api/trace/epcis/events?{qs}", HTTP_X_TRACE_KEY=client.trace_key)
    assert resp.status_code == 400, qs
    assert resp["Content-Type"] == "application/problem+json"
    assert resp.json()["type"] == "epcisException:QueryParameterException"
