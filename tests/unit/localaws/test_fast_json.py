"""The runtime's fast JSON paths give what the standard library and botocore give: GetRecords pages parsed by
orjson equal botocore's parse (raw and decoded data), errors still parse as botocore's errors, and the encoder's
fallback keeps what orjson refuses."""

from __future__ import annotations

import base64
import json

import botocore.session
import pytest
from botocore.parsers import ResponseParserFactory

from localaws.kinesis_consumer import fast_json
from localaws.kinesis_consumer.records_parser import RecordsParserFactory

PAGE = {
    "Records": [
        {"SequenceNumber": "4963" + str(i) * 20, "ApproximateArrivalTimestamp": 1764950400.123 + i,
         "Data": base64.b64encode(f'{{"Name":"Shadowfax-{i}","Distance":{i}.5}}'.encode()).decode(),
         "PartitionKey": f"Shadowfax-{i}"}
        for i in range(5)
    ] + [{"SequenceNumber": "5", "ApproximateArrivalTimestamp": 1764950400, "Data": "", "PartitionKey": "p"}],
    "NextShardIterator": "AAAA/iterator==",
    "MillisBehindLatest": 1250,
}
HEADERS = {"x-amzn-requestid": "req-1", "content-type": "application/x-amz-json-1.1"}


def _parse(factory: ResponseParserFactory, body: bytes, status: int = 200, operation: str = "GetRecords") -> dict:
    factory.set_parser_defaults(timestamp_parser=lambda value: value)
    model = botocore.session.get_session().get_service_model("kinesis")
    shape = model.operation_model(operation).output_shape
    return factory.create_parser("json").parse({"body": body, "headers": HEADERS, "status_code": status}, shape)


@pytest.mark.parametrize("raw_data", [True, False])
def test_a_page_parses_as_botocore_parses_it(raw_data: bool) -> None:
    body = json.dumps(PAGE).encode()
    botocore_factory = ResponseParserFactory()
    if raw_data:
        botocore_factory.set_parser_defaults(blob_parser=lambda value: value)
    expected = _parse(botocore_factory, body)
    fast = _parse(RecordsParserFactory(raw_data), body)
    assert fast == expected
    assert fast["ResponseMetadata"]["RequestId"] == "req-1"
    assert isinstance(fast["Records"][0]["Data"], str if raw_data else bytes)


def test_a_page_with_a_lone_surrogate_key_parses_as_botocore_parses_it() -> None:
    page = {**PAGE, "Records": [{**PAGE["Records"][0], "PartitionKey": "Keyed-\ud83e"}]}
    body = json.dumps(page).encode()
    fast = _parse(RecordsParserFactory(False), body)
    assert fast == _parse(ResponseParserFactory(), body)
    assert fast["Records"][0]["PartitionKey"] == "Keyed-\ud83e"


def test_errors_and_other_operations_take_botocores_path() -> None:
    error = json.dumps({"__type": "ExpiredIteratorException", "message": "Iterator expired"}).encode()
    parsed = _parse(RecordsParserFactory(True), error, status=400)
    assert parsed["Error"]["Code"] == "ExpiredIteratorException"
    iterator = json.dumps({"ShardIterator": "it"}).encode()
    assert _parse(RecordsParserFactory(True), iterator, operation="GetShardIterator")["ShardIterator"] == "it"


def test_the_encoder_writes_what_json_reads_back() -> None:
    value = {"state": {"Shadowfax": {"distance": 1.25, "count": 3}}, "id": "é", 1: True}
    for fast in (True, False):
        assert json.loads(fast_json.dumps(value, fast)) == {"state": value["state"], "id": "é", "1": True}
    for refused_by_orjson in ({"n": 2**70}, {"s": "\ud800"}):
        assert json.loads(fast_json.dumps(refused_by_orjson)) == refused_by_orjson
    with pytest.raises(TypeError):
        fast_json.dumps({"x": object()})
