"""localaws/node/kinesalite_tail.js answers GetRecords as kinesalite itself does: on one in-memory kinesalite
store, each read from the tail is compared with kinesalite's own getRecords on the same iterator (records,
MillisBehindLatest, the position the next iterator names), following iterator chains with random limits over
several shards, PutRecord and PutRecords, a tail shorter than the stream (reads before it go to kinesalite), a
stream deleted and created again under the same name, and a write the tail cannot see. Consumers racing a producer
each read every record once, in order."""

from __future__ import annotations

import json
import subprocess

import pytest

from localaws.settings import REPO_ROOT
from tests.support.node_backends import assert_refused_with, node

HEADER = r"""
const path = require('path')
const crypto = require('crypto')
const assert = require('assert')
const kinesalite = path.join(process.argv[1], 'localaws', 'node', 'node_modules', 'kinesalite')
const db = require(path.join(kinesalite, 'db'))
require(path.join(process.argv[1], 'localaws', 'node', 'kinesalite_speedups.js'))
  .install(db, require(path.join(process.argv[1], 'localaws', 'node', 'node_modules', 'bignumber.js')))
const tail = require(path.join(process.argv[1], 'localaws', 'node', 'kinesalite_tail.js')).install(kinesalite)
const store = db.create({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 })
const call = (name, data) => new Promise((resolve, reject) =>
  require(path.join(kinesalite, 'actions', name))(store, data, (err, out) => err ? reject(err) : resolve(out)))
const original = (data) => new Promise((resolve, reject) =>
  tail.getRecords(store, data, (err, out) => err ? reject(err) : resolve(out)))
let seed = 7
function rand(n) { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
function iteratorPosition(iterator) {
  if (!iterator) return null
  const d = crypto.createDecipheriv('aes-256-cbc', db.ITERATOR_PWD_KEY, db.ITERATOR_PWD_IV)
  const buffer = Buffer.from(iterator, 'base64').slice(8)
  return Buffer.concat([d.update(buffer), d.final()]).toString('utf8').split('/').slice(1, 4).join('/')
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
async function active(name) {
  for (;;) {
    const d = await call('describeStream', { StreamName: name })
    if (d.StreamDescription.StreamStatus === 'ACTIVE') return d.StreamDescription
    await sleep(5)
  }
}
"""

COMPARE = r"""
let compared = 0
async function same(data) {
  const fast = await call('getRecords', data), slow = await original(data)
  assert.deepStrictEqual(fast.Records, slow.Records)
  assert.strictEqual(JSON.stringify(fast.Records), JSON.stringify(slow.Records))
  assert.strictEqual(fast.MillisBehindLatest, slow.MillisBehindLatest)
  assert.strictEqual(iteratorPosition(fast.NextShardIterator), iteratorPosition(slow.NextShardIterator))
  compared++
  return fast
}
async function put(name, n) {
  const sequences = []
  for (let i = 0; i < n;) {
    if (rand(4) === 0) {
      const out = await call('putRecord', { StreamName: name, PartitionKey: 'u' + rand(300),
        Data: Buffer.from('{"one":' + i + '}').toString('base64') })
      sequences.push(out.SequenceNumber); i++
    } else {
      const size = 1 + rand(40), records = []
      for (let j = 0; j < size; j++) records.push({ PartitionKey: 'u' + rand(300),
        Data: Buffer.from(JSON.stringify({ i: i + j, pad: 'x'.repeat(rand(50)) })).toString('base64') })
      const out = await call('putRecords', { StreamName: name, Records: records })
      out.Records.forEach((r) => sequences.push(r.SequenceNumber)); i += size
    }
  }
  return sequences
}
async function follow(name, shardId, type, sequence) {
  const start = await call('getShardIterator', { StreamName: name, ShardId: shardId, ShardIteratorType: type,
    StartingSequenceNumber: sequence })
  let iterator = start.ShardIterator, records = []
  for (let reads = 0; iterator && reads < 200; reads++) {
    const out = await same({ ShardIterator: iterator, Limit: 1 + rand(60) })
    if (!out.Records.length) break
    records = records.concat(out.Records)
    iterator = out.NextShardIterator
  }
  return records
}
async function main() {
  const before = { ...tail.counters }
  await call('createStream', { StreamName: 'fleet', ShardCount: 3 })
  let shards = (await active('fleet')).Shards.map((s) => s.ShardId)
  const written = await put('fleet', 900)
  let read = 0
  for (const shardId of shards) {
    read += (await follow('fleet', shardId, 'TRIM_HORIZON')).length
    const some = written[rand(written.length)]
    await follow('fleet', shardId, 'AT_SEQUENCE_NUMBER', some).catch(() => {}) // another shard's number: an error
    await follow('fleet', shardId, 'AFTER_SEQUENCE_NUMBER', some).catch(() => {})
    await follow('fleet', shardId, 'LATEST')
  }
  assert.strictEqual(read, written.length)
  for (const some of written.filter((_, i) => i % 37 === 0)) {
    for (const shardId of shards) {
      for (const type of ['AT_SEQUENCE_NUMBER', 'AFTER_SEQUENCE_NUMBER']) {
        try { await follow('fleet', shardId, type, some) } catch (e) { /* not this shard's */ }
      }
    }
  }
  // Deleted and created again: the new stream's records only.
  await call('deleteStream', { StreamName: 'fleet' })
  for (;;) { try { await call('describeStream', { StreamName: 'fleet' }); await sleep(5) } catch (e) { break } }
  await call('createStream', { StreamName: 'fleet', ShardCount: 1 })
  shards = (await active('fleet')).Shards.map((s) => s.ShardId)
  const again = await put('fleet', 300)
  assert.strictEqual((await follow('fleet', shards[0], 'TRIM_HORIZON')).length, again.length)
  // A write the tail cannot see (a chained batch, which kinesalite itself never makes): kinesalite answers all.
  await new Promise((resolve) => store.getStreamDb('fleet').batch().write(resolve))
  const served = tail.counters.served, more = await put('fleet', 50)
  assert.strictEqual((await follow('fleet', shards[0], 'TRIM_HORIZON')).length, again.length + more.length)
  assert.strictEqual(tail.counters.served, served)
  console.log(JSON.stringify({ compared, served: tail.counters.served - before.served,
                               passed: tail.counters.passed - before.passed }))
}
main().catch((err) => { console.error(err.stack || err); process.exit(1) })
"""

# Three consumers follow one shard from TRIM_HORIZON while a producer writes to it: each must read every record
# once, in order. With a short tail, writes committed during a read compact the tail under it.
RACE = r"""
async function main() {
  await call('createStream', { StreamName: 'race', ShardCount: 1 })
  const shardId = (await active('race')).Shards[0].ShardId
  const written = []
  let finished = false
  const writer = (async () => {
    while (written.length < 5000) {
      const records = []
      for (let j = 1 + rand(40); j > 0; j--) records.push({ PartitionKey: 'u' + rand(300),
        Data: Buffer.from('{"i":' + (written.length + j) + '}').toString('base64') })
      const out = await call('putRecords', { StreamName: 'race', Records: records })
      out.Records.forEach((r) => written.push(r.SequenceNumber))
    }
  })().then(() => { finished = true })
  const follow = async () => {
    let iterator = (await call('getShardIterator', { StreamName: 'race', ShardId: shardId,
      ShardIteratorType: 'TRIM_HORIZON' })).ShardIterator
    const got = []
    for (;;) {
      const done = finished, out = await call('getRecords', { ShardIterator: iterator, Limit: 1 + rand(60) })
      if (done && !out.Records.length) return got
      out.Records.forEach((record) => got.push(record.SequenceNumber))
      iterator = out.NextShardIterator
    }
  }
  const readers = await Promise.all([follow(), follow(), follow()])
  await writer
  for (const got of readers) assert.deepStrictEqual(got, written)
  console.log(JSON.stringify({ read: readers.map((got) => got.length), served: tail.counters.served,
                               passed: tail.counters.passed }))
}
main().catch((err) => { console.error(err.stack || err); process.exit(1) })
"""


def run(records: str, scenario: str = COMPARE) -> dict[str, int]:
    result = subprocess.run([node(), "-e", HEADER + scenario, str(REPO_ROOT)], capture_output=True, text=True,
                            timeout=120, env={"PATH": "/usr/bin:/bin", "WILDRYDES_KINESIS_TAIL_RECORDS": records})
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_reads_from_the_tail_are_kinesalites_own_answers() -> None:
    counts = run("100000")
    assert counts["compared"] > 300 and counts["served"] > 200


def test_a_tail_shorter_than_the_stream_sends_older_reads_to_kinesalite() -> None:
    counts = run("50")  # per shard: most of the 900 records are before the tail
    assert counts["served"] > 0 and counts["passed"] > counts["served"]


@pytest.mark.parametrize("records", ["200", "1000"])
def test_consumers_racing_a_producer_read_every_record_once_in_order(records: str) -> None:
    counts = run(records, RACE)
    assert counts["read"] == [counts["read"][0]] * 3 and counts["read"][0] >= 5000
    assert counts["served"] > 50  # the tail answered reads while writes compacted it


def test_with_the_tail_off_every_read_is_kinesalites() -> None:
    counts = run("0")
    assert counts["compared"] > 300 and counts["served"] == 0


@pytest.mark.parametrize("value", ["-1", "many", "1.5"])
def test_a_bad_record_count_is_a_clear_error(value: str) -> None:
    assert_refused_with("kinesis", {"WILDRYDES_KINESIS_TAIL_RECORDS": value},
                        "WILDRYDES_KINESIS_TAIL_RECORDS must be a whole number of records (0 turns the tail off), "
                        f"not '{value}'")
