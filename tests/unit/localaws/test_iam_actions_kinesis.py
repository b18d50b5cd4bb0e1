"""IAM authorizations of Kinesis requests (localaws.iam.actions): stream and consumer ARNs, and GetRecords through
kinesalite's shard iterators."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import ciphers, padding

from localaws.iam.actions import Access, UnmappedRequest, accesses, kinesalite_iterator_stream
from tests.support.iam_requests import ACCOUNT, REGION, json_request, one

KINESALITE = Path(__file__).resolve().parents[3] / "localaws" / "node" / "node_modules" / "kinesalite"
# Shard iterators made by kinesalite 3.3.3's createShardIterator (node) for these streams.
KINESALITE_ITERATORS = {
    "wildrydes-stream": "AAAAAAAAAAE24gHubkTVXuMOR0KZwxPB70xxF1p/u36jADdDOi2GsAARqn/uzBuZSBnPpNXH6p9F473LShpblQUw"
                        "5dRNpA+w7I5MKVmzytNu1O+LZPkyKwWBUtmIqL67MVGMRRyD7p/l+azGFonNriUPAhGX/3TrSSYmd+22dmFFE1i"
                        "+b2YUy5sHXnSR1jIzB5zaSZj9KeZEyzQQ9FHZ6tw3eDDJFS0J",
    "a": "AAAAAAAAAAHvx43Vs+kJv80nUZF3QNY1D3+Zwmqjnl6LO2bYKyrjcQYu904w0bd40IOBecyW+wCI1AOjJTGRScTrE4Ju9oLGfVaQQQeGYdV4"
         "HDtTQzkbHEveIvAe/UXjCw6Pow08iET6uXHf/ys2pAlCbm2yMypIHVvW6fR2VAoOIYHPTkSaWQTpgEfxWJKmPXwlI/rj2sE=",
}


def stream(name: str) -> str:
    return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{name}"


def test_kinesis_stream_by_name_or_arn() -> None:
    access = one(json_request("kinesis", "PutRecords", {"StreamName": "rides", "Records": []}))
    assert access == Access("kinesis:PutRecords", (stream("rides"),))
    other = "arn:aws:kinesis:us-east-2:999999999999:stream/x"
    assert one(json_request("kinesis", "PutRecord", {"StreamARN": other})).resources == (other,)


@pytest.mark.parametrize(("operation", "body", "resource"), [
    ("ListStreams", {}, "*"),
    ("DescribeLimits", {}, "*"),
    ("ListShards", {"NextToken": "t"}, "*"),
    ("ListShards", {"StreamName": "rides"}, stream("rides")),
    ("EnableEnhancedMonitoring", {"StreamName": "rides", "ShardLevelMetrics": ["ALL"]}, stream("rides")),
    ("UpdateShardCount", {"StreamName": "rides", "TargetShardCount": 2}, stream("rides")),
    ("AddTagsToStream", {"StreamName": "rides", "Tags": {}}, stream("rides")),
    ("RegisterStreamConsumer", {"StreamARN": stream("rides"), "ConsumerName": "c"}, stream("rides")),
    ("ListStreamConsumers", {"StreamARN": stream("rides")}, stream("rides")),
    ("DescribeStreamConsumer", {"ConsumerARN": stream("rides") + "/consumer/c:1"}, stream("rides") + "/consumer/c:1"),
    ("DeregisterStreamConsumer", {"StreamARN": stream("rides"), "ConsumerName": "c"},
     stream("rides") + "/consumer/c:*"),
    ("SubscribeToShard", {"ConsumerARN": stream("rides") + "/consumer/c:1", "ShardId": "s"},
     stream("rides") + "/consumer/c:1"),
    ("GetShardIterator", {"StreamName": "rides", "ShardId": "s", "ShardIteratorType": "LATEST"}, stream("rides")),
    ("TagResource", {"ResourceARN": stream("rides"), "Tags": {}}, stream("rides")),
])
def test_kinesis_resources(operation: str, body: dict[str, Any], resource: str) -> None:
    assert one(json_request("kinesis", operation, body)) == Access(f"kinesis:{operation}", (resource,))


@pytest.mark.parametrize("name", sorted(KINESALITE_ITERATORS))
def test_kinesalite_iterator_decodes_to_its_stream(name: str) -> None:
    assert kinesalite_iterator_stream(KINESALITE_ITERATORS[name]) == name


def test_get_records_is_authorized_on_the_iterator_stream() -> None:
    request = json_request("kinesis", "GetRecords", {"ShardIterator": KINESALITE_ITERATORS["wildrydes-stream"]})
    assert one(request, stream_of_iterator=kinesalite_iterator_stream).resources == (stream("wildrydes-stream"),)
    # without a decoder (or an iterator it cannot read) the stream is unknown: stream/*
    assert one(request).resources == (stream("*"),)
    garbage = json_request("kinesis", "GetRecords", {"ShardIterator": "not-an-iterator"})
    assert one(garbage, stream_of_iterator=kinesalite_iterator_stream).resources == (stream("*"),)
    with_arn = json_request("kinesis", "GetRecords", {"ShardIterator": "x", "StreamARN": stream("s")})
    assert one(with_arn).resources == (stream("s"),)


@pytest.mark.parametrize("iterator", ["", "!!!", base64.b64encode(b"\0" * 7 + b"\1" + b"x" * 17).decode(),
                                      base64.b64encode(b"\0" * 7 + b"\1" + b"\0" * 160).decode()])
def test_kinesalite_iterator_rejects_other_strings(iterator: str) -> None:
    assert kinesalite_iterator_stream(iterator) is None


@pytest.mark.parametrize("name", ["s", "fifteen-chars-x", "sixteen-chars-xx", "seventeen-chars-x", "n" * 128])
def test_kinesalite_iterator_encrypted_as_kinesalite_does_decodes(name: str) -> None:
    """kinesalite's layout: 8 header bytes, then AES-256-CBC with PKCS#7 padding of the iterator's five fields."""
    key = bytes.fromhex("1133a5a833666b49abf28c8ba302930f0b2fb240dccd43cf4dfbc0ca91f17751")
    iv = bytes.fromhex("7bf139dbabbea2d9995d6fcae1dff7da")
    plain = f"01700000000000/{name}/shardId-000000000003/{'4' * 56}/{'0' * 36}".encode()
    padder = padding.PKCS7(128).padder()
    encryptor = ciphers.Cipher(ciphers.algorithms.AES(key), ciphers.modes.CBC(iv)).encryptor()
    cipher = encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()
    assert kinesalite_iterator_stream(base64.b64encode(bytes([0] * 7 + [1]) + cipher).decode()) == name


@pytest.mark.skipif(shutil.which("node") is None or not (KINESALITE / "db" / "index.js").exists(),
                    reason="node or kinesalite not installed")
def test_kinesalite_iterator_made_now_by_kinesalite() -> None:
    script = ("const db = require(process.argv[1]); "
              "console.log(db.createShardIterator('fresh.stream_1', 'shardId-000000000002', '4959'))")
    out = subprocess.run(["node", "-e", script, str(KINESALITE / "db")], capture_output=True, text=True, timeout=60,
                         check=True)
    assert kinesalite_iterator_stream(out.stdout.strip()) == "fresh.stream_1"


def test_cbor_or_broken_json_is_unmapped() -> None:
    with pytest.raises(UnmappedRequest):
        accesses(json_request("kinesis", "PutRecord", b"\xbf\x6aStreamName"))
    with pytest.raises(UnmappedRequest):
        accesses(json_request("dynamodb", "GetItem", b"[1]"))
