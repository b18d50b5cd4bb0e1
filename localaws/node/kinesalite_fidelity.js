// Kinesis behaviour kinesalite leaves out, patched into its actions before kinesalite loads them.
// - GetRecords' MillisBehindLatest: kinesalite answers 0 for every open shard, so a consumer could never
//   tell it is behind (the live map would not catch up or jump to LATEST; `wildrydes local status` would
//   under-report lag). Kinesis reports how far the response is from the shard's tip: here, when the
//   response stopped at its Limit (more records may follow), the age of the newest record returned;
//   when it reached the end of the shard, 0.
'use strict'

const path = require('path')

function install(kinesaliteDir) {
  const file = require.resolve(path.join(kinesaliteDir, 'actions', 'getRecords'))
  const getRecords = require(file)
  require.cache[file].exports = function getRecordsWithMillisBehind(store, data, cb) {
    getRecords(store, data, (err, result) => {
      if (err || !result) return cb(err, result)
      const records = result.Records || []
      if (records.length && records.length >= (data.Limit || 10000)) {
        const newest = records[records.length - 1].ApproximateArrivalTimestamp * 1000
        result.MillisBehindLatest = Math.max(result.MillisBehindLatest || 0, Math.round(Date.now() - newest))
      }
      cb(null, result)
    })
  }
}

module.exports = { install }
