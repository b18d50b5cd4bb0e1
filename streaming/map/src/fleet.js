// The fleet as the page knows it: the latest state, a short trail and the latest per-minute summary
// of every unicorn. Pure state (no DOM), so it is unit-tested in Node.
import { kmh, mph } from "./records.js";

export const LOW_VITALS = 100; // the workshop's alert threshold
export const SILENT_MS = 30_000; // faded after 30 s without a record
export const REMOVE_MS = 5 * 60_000; // dropped from map and panel after 5 min without a record
export const TRAIL_POINTS = 60; // one minute of path at one record per second

/** Fixed-size ring of [lat, lon] points (no allocation per record). */
export class Trail {
  constructor(capacity) {
    this.capacity = capacity;
    this.coords = new Float64Array(capacity * 2);
    this.start = 0;
    this.length = 0;
  }

  push(lat, lon) {
    const index = (this.start + this.length) % this.capacity;
    this.coords[index * 2] = lat;
    this.coords[index * 2 + 1] = lon;
    if (this.length < this.capacity) this.length += 1;
    else this.start = (this.start + 1) % this.capacity;
  }

  /** Calls fn(lat, lon, i) from the oldest point to the newest. */
  forEach(fn) {
    for (let i = 0; i < this.length; i++) {
      const index = (this.start + i) % this.capacity;
      fn(this.coords[index * 2], this.coords[index * 2 + 1], i);
    }
  }
}

export class Fleet {
  constructor({ now = () => Date.now(), trailPoints = TRAIL_POINTS } = {}) {
    this.now = now;
    this.trailPoints = trailPoints;
    this.unicorns = new Map();
    this.version = 0; // bumped on every change: renderers redraw when it moves
    this.applied = 0;
    this.stale = 0; // records older than what the unicorn already showed (replays, reordering)
    this.colorSeq = 0;
  }

  /** Applies a decoded sensor record; returns false when it is older than the unicorn's latest. */
  applySensor(record) {
    let u = this.unicorns.get(record.name);
    if (!u) {
      u = {
        name: record.name,
        color: this.colorSeq++ % 12,
        trail: new Trail(this.trailPoints),
        summary: null,
        statusMs: -Infinity,
      };
      this.unicorns.set(record.name, u);
    } else if (record.statusMs < u.statusMs) {
      this.stale += 1;
      return false;
    }
    u.lat = record.lat;
    u.lon = record.lon;
    u.distance = record.distance;
    u.kmh = kmh(record.distance);
    u.mph = mph(record.distance);
    u.health = record.health;
    u.magic = record.magic;
    u.statusTime = record.statusTime;
    u.statusMs = record.statusMs;
    u.lastSeen = this.now();
    u.trail.push(record.lat, record.lon);
    this.applied += 1;
    this.version += 1;
    return true;
  }

  /** Keeps the latest per-minute summary of each unicorn (also of one not seen on the map yet). */
  applySummary(summary) {
    let u = this.unicorns.get(summary.name);
    if (!u) {
      this.pendingSummaries ??= new Map();
      const pending = this.pendingSummaries.get(summary.name);
      if (!pending || pending.statusMs <= summary.statusMs) this.pendingSummaries.set(summary.name, summary);
      return;
    }
    if (u.summary && u.summary.statusMs > summary.statusMs) return;
    u.summary = summary;
    this.version += 1;
  }

  /** Attaches summaries that arrived before their unicorn's first record. */
  adoptPending() {
    if (!this.pendingSummaries) return;
    for (const [name, summary] of this.pendingSummaries) {
      const u = this.unicorns.get(name);
      if (u) {
        if (!u.summary || u.summary.statusMs <= summary.statusMs) u.summary = summary;
        this.pendingSummaries.delete(name);
        this.version += 1;
      }
    }
    if (this.pendingSummaries.size > 5000) this.pendingSummaries.clear(); // bounded
  }

  /** Silent time of a unicorn in ms. */
  silentFor(u, now = this.now()) {
    return now - u.lastSeen;
  }

  isSilent(u, now = this.now()) {
    return now - u.lastSeen >= SILENT_MS;
  }

  isLow(u) {
    return u.health < LOW_VITALS || u.magic < LOW_VITALS;
  }

  /** Drops unicorns silent for REMOVE_MS; returns how many were dropped. */
  sweep(now = this.now()) {
    let removed = 0;
    for (const [name, u] of this.unicorns) {
      if (now - u.lastSeen >= REMOVE_MS) {
        this.unicorns.delete(name);
        removed += 1;
      }
    }
    if (removed) this.version += 1;
    return removed;
  }

  counts(now = this.now()) {
    let silent = 0, low = 0;
    for (const u of this.unicorns.values()) {
      if (this.isSilent(u, now)) silent += 1;
      else if (this.isLow(u)) low += 1;
    }
    return { total: this.unicorns.size, silent, low };
  }
}

const byName = new Intl.Collator("en").compare;
const SORTS = {
  name: (a, b) => byName(a.name, b.name),
  speed: (a, b) => a.distance - b.distance || byName(a.name, b.name),
  vitals: (a, b) => Math.min(a.health, a.magic) - Math.min(b.health, b.magic) || byName(a.name, b.name),
  health: (a, b) => a.health - b.health || byName(a.name, b.name),
  magic: (a, b) => a.magic - b.magic || byName(a.name, b.name),
};
export const SORT_KEYS = Object.keys(SORTS);

/** The fleet as a sorted (and optionally filtered by name) array. */
export function sortedUnicorns(fleet, key = "name", descending = false, filter = "") {
  const needle = filter.trim().toLowerCase();
  const list = [];
  for (const u of fleet.unicorns.values()) if (!needle || u.name.toLowerCase().includes(needle)) list.push(u);
  const compare = SORTS[key] ?? SORTS.name;
  list.sort(descending ? (a, b) => compare(b, a) : compare);
  return list;
}
