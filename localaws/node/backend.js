// Starts one LevelDB-backed backend of the local endpoint (kinesalite or dynalite) on loopback.
// Neither package's CLI can bind to a chosen host, so this goes through their JS API.
'use strict'

const path = require('path')
const fs = require('fs')

function parseArgs(argv) {
  const args = { host: '127.0.0.1' }
  for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1]
  return args
}

const args = parseArgs(process.argv.slice(2))
const modules = path.join(__dirname, 'node_modules')
const instant = { createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }
let server
let warmupItems = 0
let conditions = null // dynalite_speedups' counters
if (args.service === 'kinesis') {
  require('./kinesalite_speedups').install(require(path.join(modules, 'kinesalite', 'db')),
    require(path.join(modules, 'bignumber.js')))
  try {
    require('./kinesalite_tail').install(path.join(modules, 'kinesalite')) // before the fidelity patch wraps it
  } catch (err) {
    console.error(`kinesis backend: ${err.message}`)
    process.exit(2)
  }
  require('./kinesalite_fidelity').install(path.join(modules, 'kinesalite'))
  fs.mkdirSync(args.path, { recursive: true })
  server = require(path.join(modules, 'kinesalite'))({ path: args.path, shardLimit: 1000, ...instant })
} else if (args.service === 'dynamodb') {
  const speedups = require('./dynalite_speedups')
  try {
    warmupItems = require('./dynalite_warmup').itemsFromEnv(process.env)
    if (speedups.enabledFromEnv(process.env)) conditions = speedups.install(require(path.join(modules, 'dynalite', 'validations')))
  } catch (err) {
    console.error(`dynamodb backend: ${err.message}`)
    process.exit(2)
  }
  fs.mkdirSync(args.path, { recursive: true })
  server = require(path.join(modules, 'dynalite'))({ path: args.path, ...instant })
} else {
  console.error(`unknown service ${args.service}: expected kinesis or dynamodb`)
  process.exit(2)
}

server.on('error', (err) => {
  console.error(`${args.service} backend cannot listen on ${args.host}:${args.port}: ${err.message}`)
  process.exit(3)
})
server.listen(Number(args.port), args.host, () => {
  console.log(`${args.service} backend ready on ${args.host}:${server.address().port}`)
  if (warmupItems) require('./dynalite_warmup').warmUp(modules, warmupItems).then((message) => console.log(message))
})

function stop() {
  if (args.service === 'kinesis') {
    const { served, passed } = require('./kinesalite_tail').counters
    console.log(`kinesis backend stopping: ${served} GetRecords answered from the shards' tails, ${passed} by kinesalite`)
  } else if (conditions) {
    console.log(`dynamodb backend stopping: ${conditions.parsed} condition expressions parsed, ${conditions.reused} reused`)
  }
  server.close(() => process.exit(0))
  setTimeout(() => process.exit(0), 5000).unref()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
