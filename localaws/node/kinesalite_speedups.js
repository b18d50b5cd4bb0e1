// Faster drop-in versions of three helpers of kinesalite's db module. PutRecords and GetRecords call them
// for every record, and through bignumber.js they took about half of kinesalite's CPU time under load.
// The results are the same (tests/test_kinesalite_speedups.py compares them with the originals); anything
// outside the common case (sequence number version 2, plain digits) goes to the original.
// - parseSequence, stringifySequence: the same hex slicing, with native BigInt for the big numbers;
// - partitionKeyToHashKey: memoized per partition key (a fleet has a bounded set of keys);
// - BigNumber#comparedTo(string): the string parsed once (PutRecords compares every record's hash key
//   with the hash key range strings of every shard).
'use strict'

const CACHE_LIMIT = 100000
const HEX = /^[0-9a-f]+$/
const DIGITS = /^[0-9]+$/
const POW_2_124 = 2n ** 124n
const POW_2_129 = 2n ** 129n // kinesalite's POW_2_124_NEXT: 2^125 * 16
const POW_2_185 = 2n ** 185n
const POW_2_185_NEXT = 3n * 2n ** 184n // 2^185 * 1.5

function memoizeStringComparisons(BigNumber) {
  const compare = BigNumber.prototype.comparedTo
  let parsed = new Map()
  BigNumber.prototype.comparedTo = function (y, b) {
    if (typeof y !== 'string' || b !== undefined) return compare.call(this, y, b)
    let value = parsed.get(y)
    if (value === undefined) {
      value = new BigNumber(y)
      if (parsed.size >= CACHE_LIMIT) parsed = new Map()
      parsed.set(y, value)
    }
    return compare.call(this, value)
  }
  return compare
}

function install(db, BigNumber) {
  const original = {
    parseSequence: db.parseSequence,
    stringifySequence: db.stringifySequence,
    partitionKeyToHashKey: db.partitionKeyToHashKey,
  }
  const shardIxToHex = db.shardIxToHex

  function parseSequence(seq) {
    if (typeof seq !== 'string' || !DIGITS.test(seq)) return original.parseSequence(seq)
    let seqNum = BigInt(seq)
    if (seqNum < POW_2_124) seqNum += POW_2_124
    if (seqNum < POW_2_129 || !(seqNum > POW_2_185 && seqNum < POW_2_185_NEXT)) return original.parseSequence(seq)
    const hex = seqNum.toString(16)
    if (hex[hex.length - 1] !== '2') return original.parseSequence(seq)
    const seqIxHex = hex.slice(11, 27), shardIxHex = hex.slice(38, 46)
    const shardCreateSecs = parseInt(hex.slice(1, 10), 16)
    if (parseInt(seqIxHex[0], 16) > 7 || parseInt(shardIxHex[0], 16) > 7 || shardCreateSecs >= 16025175000) {
      return original.parseSequence(seq) // throws the original's error
    }
    return {
      shardCreateTime: shardCreateSecs * 1000,
      seqIx: BigInt('0x' + seqIxHex).toString(),
      byte1: hex.slice(27, 29),
      seqTime: parseInt(hex.slice(29, 38), 16) * 1000,
      shardIx: parseInt(shardIxHex, 16),
      version: 2,
    }
  }

  function stringifySequence(obj) {
    if (obj.version != null && obj.version != 2) return original.stringifySequence(obj)
    let seqIx
    try {
      seqIx = BigInt(obj.seqIx || 0)
    } catch (err) {
      return original.stringifySequence(obj) // not an integer: whatever the original makes of it
    }
    const hex = [
      '2',
      ('00000000' + Math.floor(obj.shardCreateTime / 1000).toString(16)).slice(-9),
      (obj.shardIx || 0).toString(16).slice(-1),
      ('0000000000000000' + seqIx.toString(16)).slice(-16),
      obj.byte1 || '00',
      ('00000000' + Math.floor((obj.seqTime || obj.shardCreateTime) / 1000).toString(16)).slice(-9),
      shardIxToHex(obj.shardIx),
      '2',
    ].join('')
    return HEX.test(hex) ? BigInt('0x' + hex).toString() : original.stringifySequence(obj)
  }

  let hashKeys = new Map()
  function partitionKeyToHashKey(key) {
    let hit = hashKeys.get(key)
    if (hit === undefined) {
      hit = original.partitionKeyToHashKey(key) // a BigNumber: immutable, safe to share
      if (hashKeys.size >= CACHE_LIMIT) hashKeys = new Map()
      hashKeys.set(key, hit)
    }
    return hit
  }

  db.parseSequence = parseSequence
  db.stringifySequence = stringifySequence
  db.partitionKeyToHashKey = partitionKeyToHashKey
  if (BigNumber) original.comparedTo = memoizeStringComparisons(BigNumber)
  return original
}

module.exports = { install }
