// Warms dynalite's code before the store takes real traffic: V8 runs a function interpreted until it is hot,
// and dynalite's first ~2,000 conditional PutItems cost 1.2-1.5 ms each against ~0.9 once optimized (the
// first minute of `bench pipeline` at 10,000 records/s paid for it). The work goes to a second, in-memory
// dynalite on an ephemeral loopback port (the same modules, so the same compiled code) and is then thrown
// away: nothing of it is in the user's store. Its items look like the summary writer's.
'use strict'

const http = require('http')
const path = require('path')

const DEFAULT_ITEMS = 2500
const IN_FLIGHT = 8
const TABLE = 'WildrydesWarmup'

function itemsFromEnv (env) {
  const raw = env.WILDRYDES_DYNAMODB_WARMUP_ITEMS
  if (raw === undefined || raw === '') return DEFAULT_ITEMS
  if (!/^\d+$/.test(raw)) {
    throw new Error(`WILDRYDES_DYNAMODB_WARMUP_ITEMS must be a whole number of items (0 turns the warm-up off), not '${raw}'`)
  }
  return Number(raw)
}

function call (port, agent, target, body) {
  const payload = JSON.stringify(body)
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/',
      agent,
      headers: {
        'Content-Type': 'application/x-amz-json-1.0',
        'X-Amz-Target': `DynamoDB_20120810.${target}`,
        'X-Amz-Date': stamp,
        Authorization: `AWS4-HMAC-SHA256 Credential=warmup/${stamp.slice(0, 8)}/us-east-1/dynamodb/aws4_request, ` +
          'SignedHeaders=host;x-amz-date, Signature=0',
        'Content-Length': Buffer.byteLength(payload)
      }
    }, (response) => {
      const chunks = []
      response.on('data', (chunk) => chunks.push(chunk))
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        if (response.statusCode !== 200) reject(new Error(`${target} answered ${response.statusCode}: ${text}`))
        else resolve(JSON.parse(text))
      })
    })
    request.on('error', reject)
    request.end(payload)
  })
}

function item (i, version) {
  const n = (v) => ({ N: String(v) })
  return {
    Name: { S: `Unicorn-${String(i % 1000).padStart(3, '0')}` },
    StatusTime: { S: `2026-01-01 00:${String(Math.floor(i / 1000) % 60).padStart(2, '0')}` },
    Distance: n(1234.5678 + i),
    MinMagicPoints: n(80),
    MaxMagicPoints: n(150),
    MinHealthPoints: n(90),
    MaxHealthPoints: n(140),
    RecordCount: n(60),
    WindowEnd: { S: '2026-01-01T00:01:00Z' },
    PartCount: n(1),
    Version: n(version),
    Partials: { M: { p: { M: { D: { L: [n(1234.5678 + i)] }, mm: n(80), Mm: n(150), mh: n(90), Mh: n(140), c: n(60) } } } }
  }
}

async function exercise (port, items) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT })
  await call(port, agent, 'CreateTable', {
    TableName: TABLE,
    AttributeDefinitions: [{ AttributeName: 'Name', AttributeType: 'S' }, { AttributeName: 'StatusTime', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'Name', KeyType: 'HASH' }, { AttributeName: 'StatusTime', KeyType: 'RANGE' }],
    BillingMode: 'PAY_PER_REQUEST'
  })
  let next = 0
  async function worker () {
    while (next < items) {
      const i = next++
      const put = {
        TableName: TABLE,
        Item: item(i, 1),
        ConditionExpression: 'attribute_not_exists(#n) OR (#c = :one AND attribute_exists(#p.#part))',
        ExpressionAttributeNames: { '#n': 'Name', '#c': 'PartCount', '#p': 'Partials', '#part': 'p' },
        ExpressionAttributeValues: { ':one': { N: '1' } }
      }
      await call(port, agent, 'PutItem', put)
      if (i % 50 === 0) {
        const key = { Name: put.Item.Name, StatusTime: put.Item.StatusTime }
        await call(port, agent, 'GetItem', { TableName: TABLE, Key: key, ConsistentRead: true })
        await call(port, agent, 'Query', {
          TableName: TABLE,
          KeyConditionExpression: '#n = :n AND #t BETWEEN :a AND :b',
          ExpressionAttributeNames: { '#n': 'Name', '#t': 'StatusTime' },
          ExpressionAttributeValues: { ':n': key.Name, ':a': { S: '2026-01-01 00:00' }, ':b': { S: '2026-01-01 00:59' } }
        })
      }
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  agent.destroy()
}

// Runs the warm-up on a throwaway in-memory dynalite; resolves with what it did (never rejects: a failed
// warm-up costs only speed, so it is reported, not fatal).
function warmUp (modules, items) {
  if (items === 0) return Promise.resolve('dynamodb backend: warm-up off')
  const started = process.hrtime.bigint()
  const scratch = require(path.join(modules, 'dynalite'))({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
  return new Promise((resolve) => {
    scratch.listen(0, '127.0.0.1', () => {
      exercise(scratch.address().port, items).then(
        () => `dynamodb backend warmed up: ${items} conditional writes in ` +
          `${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(2)} s`,
        (err) => `dynamodb backend: warm-up failed (${err.message}); the first writes may be slower`
      ).then((message) => scratch.close(() => resolve(message)))
    })
  })
}

module.exports = { warmUp, itemsFromEnv, DEFAULT_ITEMS }
