// One read of a shard's newest records shared by all its consumers: kinesalite answers every GetRecords by
// iterating LevelDB and decoding each record's JSON again, for the aggregator's poller, then for the
// Firehose, then for the map. Under load that was most of kinesalite's CPU. This keeps each shard's newest
// records in memory as they are committed (the same objects a GetRecords would decode), and answers a
// GetRecords that starts inside that tail from it. Each consumer keeps its own iterator and position, so
// nothing of Kinesis' semantics changes; tests/unit/localaws/test_kinesalite_tail.py compares the answers
// with kinesalite's own on the same data.
//
// Anything else goes to kinesalite unchanged: an iterator it would refuse or find expired, a position before
// the tail (older records, or written before this process started), an empty read (the end of a shard, closed
// or not), records past the stream's retention, and every other action.
// WILDRYDES_KINESIS_TAIL_RECORDS: the records kept per shard (default 100000; 0 turns the tail off).
'use strict'

const crypto = require('crypto')
const path = require('path')

const DEFAULT_RECORDS = 100000
const tails = new WeakMap() // store -> {getStreamDb, streams: Map(streamName -> Map(shardHex -> Tail))}
const counters = { served: 0, passed: 0 }

class Tail {
  constructor(limit) {
    this.limit = limit
    this.keys = []
    this.records = []
    this.head = 0 // entries before it were dropped
  }

  append(key, value) {
    this.keys.push(key)
    this.records.push(Object.assign({}, value, { SequenceNumber: key.slice(key.indexOf('/') + 1) }))
    if (this.keys.length - this.head > this.limit) this.head += this.keys.length - this.head - this.limit
    if (this.head >= this.limit / 2) { // compact now and then, not on every append
      this.keys = this.keys.slice(this.head)
      this.records = this.records.slice(this.head)
      this.head = 0
    }
  }

  // The index of the first kept key >= key, or -1 when records before the tail could be at or after key.
  find(key) {
    if (this.keys.length === this.head || key < this.keys[this.head]) return -1
    let low = this.head, high = this.keys.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (this.keys[mid] < key) low = mid + 1
      else high = mid
    }
    return low
  }
}

function recordLimit() {
  const text = process.env.WILDRYDES_KINESIS_TAIL_RECORDS
  if (text === undefined || text === '') return DEFAULT_RECORDS
  const value = Number(text)
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`WILDRYDES_KINESIS_TAIL_RECORDS must be a whole number of records (0 turns the tail off), not '${text}'`)
  }
  return value
}

// The stream's sub-database, with its record writes copied into the stream's tails once committed.
function tailedStreamDb(streamDb, streams, name, limit) {
  if (streamDb._wildrydesTailed) return streamDb
  const shards = new Map()
  streams.set(name, shards)
  let blind = false // a write this cannot see (a chained batch): no tail for this stream from then on
  const tailOf = (key) => {
    const shardHex = key.slice(0, key.indexOf('/'))
    let tail = shards.get(shardHex)
    if (!tail) shards.set(shardHex, tail = new Tail(limit))
    return tail
  }
  // A committed record goes into its shard's tail; anything else (a delete: retention, a deleted stream) starts
  // the stream's tails again, so a tail never has a gap.
  const committedWrite = (type, key, value) => {
    if (blind) return
    if (type === 'put' && typeof key === 'string') tailOf(key).append(key, value)
    else shards.clear()
  }
  const put = streamDb.put, batch = streamDb.batch
  streamDb.put = function (key, value, options, cb) {
    const done = typeof options === 'function' ? options : cb
    const committed = (err) => {
      if (!err) committedWrite('put', key, value)
      done(err)
    }
    return typeof options === 'function' ? put.call(this, key, value, committed) : put.call(this, key, value, options, committed)
  }
  streamDb.batch = function (ops, options, cb) {
    if (!Array.isArray(ops)) {
      blind = true
      shards.clear()
      return batch.apply(this, arguments)
    }
    const done = typeof options === 'function' ? options : cb
    const committed = (err) => {
      if (!err) for (const op of ops) committedWrite(op.type, op.key, op.value)
      done(err)
    }
    return typeof options === 'function' ? batch.call(this, ops, committed) : batch.call(this, ops, options, committed)
  }
  streamDb._wildrydesTailed = true
  return streamDb
}

// The position a shard iterator names, as kinesalite's getRecords reads it; null where kinesalite could
// answer anything but records (a malformed or expired iterator: its own error then).
function position(db, iterator, now) {
  if (typeof iterator !== 'string') return null
  const buffer = Buffer.from(iterator, 'base64')
  if (buffer.length < 152 || buffer.length > 280 || buffer.toString('base64') !== iterator) return null
  if (buffer.slice(0, 8).toString('hex') !== '0000000000000001') return null
  let pieces
  try {
    const decipher = crypto.createDecipheriv('aes-256-cbc', db.ITERATOR_PWD_KEY, db.ITERATOR_PWD_IV)
    pieces = Buffer.concat([decipher.update(buffer.slice(8)), decipher.final()]).toString('utf8').split('/')
  } catch (e) {
    return null
  }
  if (pieces.length !== 5) return null
  const iteratorTime = +pieces[0], streamName = pieces[1], shardId = pieces[2], seqNo = pieces[3]
  const shardIx = parseInt(shardId.split('-')[1])
  if (!/^shardId-[\d]{12}$/.test(shardId) || !(shardIx >= 0 && shardIx < 2147483648)) return null
  if (!(iteratorTime > 0 && iteratorTime <= now) || now - iteratorTime > 300000) return null
  if (!/^[a-zA-Z0-9_.-]{1,128}$/.test(streamName)) return null
  try {
    db.parseSequence(seqNo)
  } catch (e) {
    return null
  }
  return { streamName, shardId, shardIx, key: db.shardIxToHex(shardIx) + '/' + seqNo }
}

function install(kinesaliteDir) {
  const limit = recordLimit()
  const db = require(path.join(kinesaliteDir, 'db'))
  const file = require.resolve(path.join(kinesaliteDir, 'actions', 'getRecords'))
  const getRecords = require(file)
  if (limit === 0) return { getRecords, counters }

  const create = db.create
  db.create = function (options) {
    const store = create.call(this, options)
    const streams = new Map()
    const getStreamDb = store.getStreamDb, deleteStreamDb = store.deleteStreamDb
    store.getStreamDb = (name) => tailedStreamDb(getStreamDb(name), streams, name, limit)
    store.deleteStreamDb = (name, cb) => {
      streams.delete(name)
      return deleteStreamDb(name, cb)
    }
    tails.set(store, { getStreamDb: store.getStreamDb, streams })
    return store
  }

  require.cache[file].exports = function getRecordsFromTail(store, data, cb) {
    const kept = tails.get(store)
    // (kinesalite's store.recreate() swaps in databases whose writes this does not see: no tail then)
    const streams = kept && kept.getStreamDb === store.getStreamDb ? kept.streams : null
    const now = Date.now()
    const at = streams && position(db, data.ShardIterator, now)
    // The tail is looked up after getStream's callback, not before: records committed meanwhile can compact it
    // (shifting every index) or start it again, and an index found earlier would then name other records.
    const tailAt = () => {
      const shards = streams.get(at.streamName)
      const tail = shards && shards.get(at.key.slice(0, at.key.indexOf('/')))
      const first = tail ? tail.find(at.key) : -1
      return first < 0 || first >= tail.keys.length ? null : { tail, first }
    }
    if (!at || !tailAt()) {
      counters.passed++
      return getRecords(store, data, cb)
    }
    store.getStream(at.streamName, (err, stream) => {
      const found = !err && at.shardIx < stream.Shards.length ? tailAt() : null
      if (!found) {
        counters.passed++
        return getRecords(store, data, cb)
      }
      const { tail, first } = found
      // Records are in sequence order, so the first one is the oldest: if it is within the retention, all are.
      const cutoffTime = now - stream.RetentionPeriodHours * 60 * 60 * 1000
      if (db.parseSequence(tail.records[first].SequenceNumber).seqTime < cutoffTime) {
        counters.passed++
        return getRecords(store, data, cb)
      }
      const records = tail.records.slice(first, first + (data.Limit || 10000))
      const last = db.parseSequence(records[records.length - 1].SequenceNumber)
      counters.served++
      cb(null, {
        MillisBehindLatest: 0,
        NextShardIterator: db.createShardIterator(at.streamName, at.shardId, db.incrementSequence(last, null)),
        Records: records,
      })
    })
  }
  return { getRecords, counters }
}

module.exports = { install, counters }
