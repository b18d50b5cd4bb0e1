// Validates a conditional write's expression once per distinct expression, names and values. dynalite
// parses every ConditionExpression with its PEG parser: a conditional PutItem cost ~0.77 ms of dynalite's CPU
// against ~0.33 ms for the same PutItem without a condition, and the summary writer sends one expression
// with the same names and values for every item. A request whose only expression is a ConditionExpression
// gets the outcome the original gave for the same three inputs: the same error message, or the same parsed
// condition, which dynalite only reads afterwards (db.checkConditional). Anything else goes to the original.
// WILDRYDES_DYNAMODB_CONDITION_CACHE=0 turns it off (to compare side by side).
'use strict'

const CACHE_LIMIT = 1000
const OTHER_EXPRESSIONS = ['UpdateExpression', 'KeyConditionExpression', 'FilterExpression', 'ProjectionExpression']

function enabledFromEnv (env) {
  const raw = env.WILDRYDES_DYNAMODB_CONDITION_CACHE
  if (raw === undefined || raw === '' || raw === '1') return true
  if (raw === '0') return false
  throw new Error(`WILDRYDES_DYNAMODB_CONDITION_CACHE must be 1 (on, the default) or 0 (off), not '${raw}'`)
}

function install (validations) {
  const original = validations.validateExpressions
  let known = new Map()
  const counters = { parsed: 0, reused: 0 }
  validations.validateExpressions = function (data) {
    if (data.ConditionExpression == null || OTHER_EXPRESSIONS.some((name) => data[name] != null)) {
      return original.apply(this, arguments)
    }
    const key = JSON.stringify([data.ConditionExpression, data.ExpressionAttributeNames, data.ExpressionAttributeValues])
    let outcome = known.get(key)
    if (outcome === undefined) {
      counters.parsed++
      const message = original.apply(this, arguments)
      outcome = { message, condition: data._condition }
      if (known.size >= CACHE_LIMIT) known = new Map()
      known.set(key, outcome)
      return message
    }
    counters.reused++
    if (outcome.condition !== undefined) data._condition = outcome.condition
    return outcome.message
  }
  return counters
}

module.exports = { install, enabledFromEnv, CACHE_LIMIT }
