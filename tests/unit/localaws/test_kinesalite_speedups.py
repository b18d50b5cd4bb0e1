"""localaws/node/kinesalite_speedups.js gives kinesalite's own answers: its fast sequence-number and hash-key
helpers are compared with the originals on random and edge-case inputs, in node."""

from __future__ import annotations

import json
import subprocess

from localaws.settings import REPO_ROOT
from tests.support.node_backends import node

SCRIPT = r"""
const path = require('path')
const assert = require('assert')
const db = require(path.join(process.argv[1], 'localaws', 'node', 'node_modules', 'kinesalite', 'db'))
const BigNumber = require(path.join(process.argv[1], 'localaws', 'node', 'node_modules', 'bignumber.js'))
const speedups = require(path.join(process.argv[1], 'localaws', 'node', 'kinesalite_speedups.js'))
const original = speedups.install(db, BigNumber)
let seed = 42
function rand(n) { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
function outcome(fn, arg) {
  try { return { value: fn(arg) } } catch (err) { return { error: String(err.message) } }
}
function same(name, fast, slow, arg) {
  const a = outcome(fast, arg), b = outcome(slow, arg)
  const norm = (o) => JSON.parse(JSON.stringify(o, (k, v) => (v && v._isBigNumber) ? 'BN:' + v.toFixed() : v))
  assert.deepStrictEqual(norm(a), norm(b), name + ' ' + JSON.stringify(arg))
}
let compared = 0
const sequences = ['0', '1', '', 'abc', '12a', '-5', '1e30', ' 7', '9'.repeat(60)]
for (let i = 0; i < 3000; i++) {
  const obj = {
    shardCreateTime: (1400000000 + rand(400000000)) * 1000 + rand(1000),
    shardIx: rand(4) === 0 ? rand(2000) : rand(8),
    seqIx: rand(3) === 0 ? String(rand(2147483647)) + String(rand(1000000)) : rand(100000),
    seqTime: rand(5) === 0 ? undefined : (1400000000 + rand(400000000)) * 1000,
    byte1: rand(4) === 0 ? ('0' + rand(256).toString(16)).slice(-2) : undefined,
    version: [undefined, 2, 2, 1, 0][rand(5)],
    seqRand: rand(2) ? '0123456789abcd' : undefined,
  }
  same('stringifySequence', db.stringifySequence, original.stringifySequence, obj); compared++
  const seq = original.stringifySequence(obj)
  sequences.push(seq)
  sequences.push(seq.slice(0, -1) + String((Number(seq.slice(-1)) + 3) % 10))
}
for (const seq of sequences) { same('parseSequence', db.parseSequence, original.parseSequence, seq); compared++ }
const keys = ['Shadowfax', '', 'Ünïcørn 🦄', 'x'.repeat(256)]
for (let i = 0; i < 2000; i++) keys.push('u' + rand(5000))
for (const key of keys) {
  same('partitionKeyToHashKey', db.partitionKeyToHashKey, original.partitionKeyToHashKey, key)
  same('partitionKeyToHashKey (cached)', db.partitionKeyToHashKey, original.partitionKeyToHashKey, key)
  compared += 2
}
const bounds = ['0', '340282366920938463463374607431768211455', '170141183460469231731687303715884105727', 'abc', '']
for (const key of keys.slice(0, 500)) {
  const hash = db.partitionKeyToHashKey(key)
  for (const bound of bounds) {
    same('comparedTo', (b) => hash.comparedTo(b), (b) => original.comparedTo.call(hash, b), bound)
    same('comparedTo (cached)', (b) => hash.comparedTo(b), (b) => original.comparedTo.call(hash, b), bound)
    compared += 2
  }
}
console.log(JSON.stringify({ compared }))
"""


def test_fast_helpers_agree_with_kinesalite() -> None:
    result = subprocess.run([node(), "-e", SCRIPT, str(REPO_ROOT)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout)["compared"] > 14000
