// Follows every shard of one Kinesis stream from a start position, as the workshop's dashboard did
// (GetShardIterator, then GetRecords about once a second per shard), and more:
// - resharding: a shard that ends (no NextShardIterator) hands over to its children, read from
//   TRIM_HORIZON once all their parents are done; ListShards runs again every `listEveryMs`;
// - an expired iterator is replaced (after the last record seen, so nothing is skipped);
// - a reader that falls more than `maxBehindMs` behind the tip jumps to LATEST (a live map shows now);
// - errors (endpoint down, throttling, credentials) are retried with exponential backoff and reported
//   through onStatus, never thrown.
// The Kinesis client is injected (the AWS SDK v3 client in the page, a fake in the unit tests).
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from "@aws-sdk/client-kinesis";
import { Backoff } from "./backoff.js";

const THROTTLED = new Set([
  "ProvisionedThroughputExceededException", "LimitExceededException", "ThrottlingException",
  "KMSThrottlingException",
]);

export function describeError(error) {
  if (!error) return "unknown error";
  const status = error.$metadata?.httpStatusCode;
  const name = error.name && error.name !== "Error" ? error.name : "";
  const message = (error.message || "").split("\n")[0];
  if (error.name === "TypeError" || /fetch|network/i.test(message)) return "endpoint unreachable";
  return [name, status ? `HTTP ${status}` : "", message && message !== name ? message : ""]
    .filter(Boolean).join(": ").slice(0, 200);
}

const defaultSleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
});

export class StreamReader {
  /**
   * @param {object} o
   * @param {{send: Function}} o.client  Kinesis client
   * @param {string} o.streamName
   * @param {{type: string, timestamp?: Date}} o.startPosition  LATEST (default) or AT_TIMESTAMP
   * @param {(records: object[], shardId: string) => void} o.onRecords
   * @param {(status: {ok: boolean, message?: string, retryInMs?: number, attempt?: number}) => void} o.onStatus
   */
  constructor({
    client, streamName, startPosition = { type: "LATEST" }, onRecords, onStatus = () => {},
    pollMs = 1000, listEveryMs = 30_000, maxBehindMs = null, limit = 10_000,
    sleep = defaultSleep, now = () => Date.now(), backoff = () => new Backoff(),
  }) {
    Object.assign(this, { client, streamName, startPosition, onRecords, onStatus, pollMs, listEveryMs,
      maxBehindMs, limit, sleep, now, makeBackoff: backoff });
    this.shards = new Map(); // shardId -> {state: "following" | "waiting" | "done", parents: string[]}
    this.firstListing = true;
    this.ok = null;
    this.abort = new AbortController();
    this.discovering = Promise.resolve();
    this.stats = { calls: 0, records: 0, errors: 0, expired: 0, skippedToLatest: 0, reshards: 0 };
  }

  start() {
    this.running = true;
    this.tasks = [this.listLoop()];
    return this;
  }

  stop() {
    this.running = false;
    this.abort.abort();
  }

  status(ok, details = {}) {
    if (ok && this.ok === true) return;
    this.ok = ok;
    this.onStatus({ ok, stream: this.streamName, ...details });
  }

  async call(command) {
    this.stats.calls += 1;
    return this.client.send(command, { abortSignal: this.abort.signal });
  }

  async listLoop() {
    const backoff = this.makeBackoff();
    while (this.running) {
      try {
        await this.discover();
        backoff.reset();
        await this.sleep(this.listEveryMs, this.abort.signal);
      } catch (error) {
        if (!this.running) return;
        const wait = backoff.next();
        this.status(false, { message: describeError(error), retryInMs: wait, attempt: backoff.attempts });
        await this.sleep(wait, this.abort.signal);
      }
    }
  }

  /** ListShards, then follow the shards not followed yet (serialised: one listing at a time). */
  discover() {
    const run = this.discovering.then(() => this.discoverNow());
    this.discovering = run.catch(() => {});
    return run;
  }

  async discoverNow() {
    if (!this.running) return;
    const listed = [];
    let token;
    do {
      const out = await this.call(new ListShardsCommand(token ? { NextToken: token } : { StreamName: this.streamName }));
      listed.push(...(out.Shards ?? []));
      token = out.NextToken;
    } while (token && this.running);
    this.status(true);
    const ids = new Set(listed.map((s) => s.ShardId));
    for (const shard of listed) {
      if (this.shards.has(shard.ShardId)) continue;
      const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter((p) => p && ids.has(p));
      if (this.firstListing) {
        // Start on the open shards only: closed ones hold nothing after LATEST.
        if (shard.SequenceNumberRange?.EndingSequenceNumber) this.shards.set(shard.ShardId, { state: "done", parents });
        else this.follow(shard.ShardId, parents, this.startPosition);
      } else if (parents.every((p) => this.shards.get(p)?.state === "done")) {
        this.stats.reshards += 1;
        this.follow(shard.ShardId, parents, { type: "TRIM_HORIZON" });
      } else {
        this.shards.set(shard.ShardId, { state: "waiting", parents });
      }
    }
    // Children waiting for parents that are now done.
    for (const [id, shard] of this.shards) {
      if (shard.state === "waiting" && shard.parents.every((p) => this.shards.get(p)?.state === "done")) {
        this.stats.reshards += 1;
        this.follow(id, shard.parents, { type: "TRIM_HORIZON" });
      }
    }
    this.firstListing = false;
  }

  follow(shardId, parents, position) {
    this.shards.set(shardId, { state: "following", parents });
    this.tasks.push(this.followShard(shardId, position));
  }

  iteratorRequest(shardId, position) {
    const request = { StreamName: this.streamName, ShardId: shardId, ShardIteratorType: position.type };
    if (position.type === "AFTER_SEQUENCE_NUMBER") request.StartingSequenceNumber = position.sequenceNumber;
    if (position.type === "AT_TIMESTAMP") request.Timestamp = position.timestamp;
    return new GetShardIteratorCommand(request);
  }

  async followShard(shardId, start) {
    const backoff = this.makeBackoff();
    let position = start;
    let iterator = null;
    while (this.running) {
      const began = this.now();
      try {
        if (!iterator) iterator = (await this.call(this.iteratorRequest(shardId, position))).ShardIterator;
        const out = await this.call(new GetRecordsCommand({ ShardIterator: iterator, Limit: this.limit }));
        backoff.reset();
        this.status(true);
        const records = out.Records ?? [];
        if (records.length) {
          this.stats.records += records.length;
          position = { type: "AFTER_SEQUENCE_NUMBER", sequenceNumber: records[records.length - 1].SequenceNumber };
          this.onRecords(records, shardId);
        }
        iterator = out.NextShardIterator;
        if (!iterator) {
          // The shard is closed (split or merged) and read to its end: its children take over.
          this.shards.get(shardId).state = "done";
          await this.discover().catch(() => {});
          return;
        }
        const behind = out.MillisBehindLatest ?? 0;
        let period = this.pollMs;
        if (this.maxBehindMs !== null && behind > this.maxBehindMs) {
          this.stats.skippedToLatest += 1;
          position = { type: "LATEST" };
          iterator = null;
        } else if (records.length && behind > 1000) {
          period = 250; // catching up: read again soon (within 5 GetRecords/s per shard)
        }
        await this.sleep(Math.max(0, period - (this.now() - began)), this.abort.signal);
      } catch (error) {
        if (!this.running) return;
        this.stats.errors += 1;
        if (error.name === "ExpiredIteratorException") {
          this.stats.expired += 1;
          iterator = null;
          await this.sleep(Math.min(this.pollMs, 200), this.abort.signal);
          continue;
        }
        if (error.name === "InvalidArgumentException" && position.type === "AFTER_SEQUENCE_NUMBER") {
          position = { type: "LATEST" }; // the stream was re-created: its old positions mean nothing
          iterator = null;
          await this.sleep(Math.min(this.pollMs, 200), this.abort.signal);
          continue;
        }
        if (error.name === "ResourceNotFoundException") iterator = null;
        const wait = backoff.next();
        if (!THROTTLED.has(error.name)) {
          this.status(false, { message: describeError(error), retryInMs: wait, attempt: backoff.attempts });
        }
        await this.sleep(wait, this.abort.signal);
      }
    }
  }
}
