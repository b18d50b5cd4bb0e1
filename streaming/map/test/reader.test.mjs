// The stream reader against a fake Kinesis: LATEST start, polling, resharding (children after parents,
// from TRIM_HORIZON), expired iterators, falling behind, and an endpoint outage with backoff.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Backoff } from "../src/backoff.js";
import { describeError, StreamReader } from "../src/reader.js";

class FakeKinesis {
  constructor() {
    this.shards = new Map(); // id -> {records: [], closed: false, parent}
    this.calls = [];
    this.down = false;
    this.expireNext = false;
    this.behind = 0;
  }

  addShard(id, parent = undefined) {
    this.shards.set(id, { records: [], closed: false, parent });
  }

  put(id, data) {
    const shard = this.shards.get(id);
    shard.records.push({ SequenceNumber: `${id}:${shard.records.length}`, Data: data });
  }

  async send(command) {
    const name = command.constructor.name;
    const input = command.input;
    this.calls.push([name, input]);
    if (this.down) throw Object.assign(new TypeError("Failed to fetch"), {});
    if (name === "ListShardsCommand") {
      return {
        Shards: [...this.shards].map(([id, s]) => ({
          ShardId: id, ParentShardId: s.parent,
          SequenceNumberRange: { StartingSequenceNumber: "0", EndingSequenceNumber: s.closed ? "9" : undefined },
        })),
      };
    }
    if (name === "GetShardIteratorCommand") {
      const shard = this.shards.get(input.ShardId);
      let at = 0;
      if (input.ShardIteratorType === "LATEST") at = shard.records.length;
      if (input.ShardIteratorType === "AFTER_SEQUENCE_NUMBER") at = Number(input.StartingSequenceNumber.split(":")[1]) + 1;
      return { ShardIterator: JSON.stringify({ id: input.ShardId, at, type: input.ShardIteratorType }) };
    }
    if (name === "GetRecordsCommand") {
      if (this.expireNext) {
        this.expireNext = false;
        throw Object.assign(new Error("expired"), { name: "ExpiredIteratorException" });
      }
      const { id, at } = JSON.parse(input.ShardIterator);
      const shard = this.shards.get(id);
      const records = shard.records.slice(at);
      const next = at + records.length;
      const ended = shard.closed && next >= shard.records.length;
      return {
        Records: records,
        NextShardIterator: ended ? undefined : JSON.stringify({ id, at: next }),
        MillisBehindLatest: this.behind,
      };
    }
    throw new Error(`unexpected ${name}`);
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));
async function until(predicate, what, limit = 2000) {
  for (let i = 0; i < limit; i++) {
    if (predicate()) return;
    await tick();
  }
  assert.fail(`timed out waiting for ${what}`);
}

function reader(kinesis, extra = {}) {
  const got = [];
  const statuses = [];
  const r = new StreamReader({
    client: kinesis, streamName: "wildrydes", pollMs: 1, listEveryMs: 5,
    sleep: () => tick(), onRecords: (records, shard) => got.push(...records.map((x) => `${shard}/${x.Data}`)),
    onStatus: (s) => statuses.push(s), backoff: () => new Backoff({ baseMs: 1, maxMs: 4, random: () => 0.5 }),
    ...extra,
  });
  return { r, got, statuses };
}

test("starts at LATEST and follows new records", async () => {
  const k = new FakeKinesis();
  k.addShard("s0");
  k.put("s0", "old");
  const { r, got } = reader(k);
  r.start();
  await until(() => k.calls.some(([n]) => n === "GetRecordsCommand"), "first GetRecords");
  k.put("s0", "new1");
  k.put("s0", "new2");
  await until(() => got.length === 2, "new records");
  r.stop();
  assert.deepEqual(got, ["s0/new1", "s0/new2"]);
  assert.equal(k.calls.find(([n]) => n === "GetShardIteratorCommand")[1].ShardIteratorType, "LATEST");
});

test("a split: the parent is read to its end, then the children from TRIM_HORIZON", async () => {
  const k = new FakeKinesis();
  k.addShard("s0");
  const { r, got } = reader(k);
  r.start();
  await until(() => k.calls.some(([n]) => n === "GetRecordsCommand"), "first GetRecords");
  k.put("s0", "before-split");
  k.addShard("s1", "s0");
  k.addShard("s2", "s0");
  k.put("s1", "child-a");
  k.put("s2", "child-b");
  k.shards.get("s0").closed = true;
  await until(() => got.length === 3, "parent and children records");
  r.stop();
  assert.equal(got[0], "s0/before-split");
  assert.deepEqual(got.slice(1).sort(), ["s1/child-a", "s2/child-b"]);
  const childIterators = k.calls.filter(([n, i]) => n === "GetShardIteratorCommand" && i.ShardId !== "s0");
  assert.ok(childIterators.every(([, i]) => i.ShardIteratorType === "TRIM_HORIZON"));
  assert.ok(r.stats.reshards >= 2);
});

test("an expired iterator resumes after the last record seen", async () => {
  const k = new FakeKinesis();
  k.addShard("s0");
  const { r, got } = reader(k);
  r.start();
  await until(() => k.calls.some(([n]) => n === "GetRecordsCommand"), "first GetRecords");
  k.put("s0", "a");
  await until(() => got.length === 1, "a");
  k.expireNext = true;
  k.put("s0", "b");
  await until(() => got.length === 2, "b after expiry");
  r.stop();
  assert.deepEqual(got, ["s0/a", "s0/b"]);
  assert.equal(r.stats.expired, 1);
  const last = k.calls.filter(([n]) => n === "GetShardIteratorCommand").at(-1)[1];
  assert.equal(last.ShardIteratorType, "AFTER_SEQUENCE_NUMBER");
  assert.equal(last.StartingSequenceNumber, "s0:0");
});

test("far behind the tip: jumps to LATEST", async () => {
  const k = new FakeKinesis();
  k.addShard("s0");
  const { r } = reader(k, { maxBehindMs: 60_000 });
  r.start();
  await until(() => k.calls.some(([n]) => n === "GetRecordsCommand"), "first GetRecords");
  k.behind = 120_000;
  await until(() => r.stats.skippedToLatest > 0, "skip to LATEST");
  r.stop();
});

test("endpoint down: reported with retries and backoff, no records lost, recovery reported", async () => {
  const k = new FakeKinesis();
  k.addShard("s0");
  const { r, got, statuses } = reader(k);
  r.start();
  await until(() => k.calls.some(([n]) => n === "GetRecordsCommand"), "first GetRecords");
  k.down = true;
  await until(() => statuses.some((s) => !s.ok && s.attempt >= 3), "three failed attempts");
  const failures = statuses.filter((s) => !s.ok);
  assert.equal(failures[0].message, "endpoint unreachable");
  assert.ok(failures.every((s) => s.retryInMs > 0));
  k.put("s0", "during-outage");
  k.down = false;
  await until(() => got.length === 1, "record written during the outage");
  await until(() => statuses.at(-1).ok, "recovery");
  r.stop();
  assert.deepEqual(got, ["s0/during-outage"]);
});

test("errors are described in one line", () => {
  assert.equal(describeError(new TypeError("Failed to fetch")), "endpoint unreachable");
  const e = Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $metadata: { httpStatusCode: 400 } });
  assert.equal(describeError(e), "ThrottlingException: HTTP 400: Rate exceeded");
});

test("backoff doubles up to its cap", () => {
  const b = new Backoff({ baseMs: 100, maxMs: 1000, jitter: 0 });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 800, 1000]);
  b.reset();
  assert.equal(b.next(), 100);
});
