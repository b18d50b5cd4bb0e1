import assert from "node:assert/strict";
import { test } from "node:test";
import { Fleet, REMOVE_MS, SILENT_MS, sortedUnicorns, Trail } from "../src/fleet.js";

const rec = (name, t, extra = {}) => ({ name, statusTime: "x", statusMs: t, lat: 40.7, lon: -73.9, distance: 30,
  health: 150, magic: 150, ...extra });

test("trail keeps the last N points in order", () => {
  const trail = new Trail(3);
  for (let i = 0; i < 5; i++) trail.push(i, -i);
  const seen = [];
  trail.forEach((lat) => seen.push(lat));
  assert.deepEqual(seen, [2, 3, 4]);
});

test("records apply in order; older ones are counted as stale", () => {
  let now = 1000;
  const fleet = new Fleet({ now: () => now });
  assert.ok(fleet.applySensor(rec("A", 10)));
  assert.ok(!fleet.applySensor(rec("A", 5, { health: 1 })));
  assert.equal(fleet.unicorns.get("A").health, 150);
  assert.equal(fleet.stale, 1);
  assert.ok(Math.abs(fleet.unicorns.get("A").kmh - 108) < 1e-9);
});

test("low vitals, silence after 30 s, removal after 5 min", () => {
  let now = 0;
  const fleet = new Fleet({ now: () => now });
  fleet.applySensor(rec("Low", 1, { health: 99 }));
  fleet.applySensor(rec("Fine", 1));
  const low = fleet.unicorns.get("Low");
  assert.ok(fleet.isLow(low));
  assert.ok(!fleet.isLow(fleet.unicorns.get("Fine")));
  now = SILENT_MS - 1;
  assert.ok(!fleet.isSilent(low));
  now = SILENT_MS;
  assert.ok(fleet.isSilent(low));
  assert.deepEqual(fleet.counts(), { total: 2, silent: 2, low: 0 });
  now = REMOVE_MS;
  assert.equal(fleet.sweep(), 2);
  assert.equal(fleet.unicorns.size, 0);
});

test("summaries: latest window wins, early ones wait for their unicorn", () => {
  const fleet = new Fleet({ now: () => 0 });
  fleet.applySummary({ name: "A", statusMs: 60_000, distance: 1 });
  fleet.applySensor(rec("A", 1));
  fleet.adoptPending();
  assert.equal(fleet.unicorns.get("A").summary.distance, 1);
  fleet.applySummary({ name: "A", statusMs: 120_000, distance: 2 });
  fleet.applySummary({ name: "A", statusMs: 0, distance: 3 });
  assert.equal(fleet.unicorns.get("A").summary.distance, 2);
});

test("sorting by name, speed and vitals, with a filter", () => {
  const fleet = new Fleet({ now: () => 0 });
  fleet.applySensor(rec("b", 1, { distance: 10, health: 120, magic: 90 }));
  fleet.applySensor(rec("a", 1, { distance: 30, health: 80, magic: 150 }));
  fleet.applySensor(rec("c", 1, { distance: 20, health: 150, magic: 150 }));
  const names = (...args) => sortedUnicorns(fleet, ...args).map((u) => u.name);
  assert.deepEqual(names("name"), ["a", "b", "c"]);
  assert.deepEqual(names("speed", true), ["a", "c", "b"]);
  assert.deepEqual(names("vitals"), ["a", "b", "c"]);
  assert.deepEqual(names("magic"), ["b", "a", "c"]);
  assert.deepEqual(names("name", false, "B"), ["b"]);
});
