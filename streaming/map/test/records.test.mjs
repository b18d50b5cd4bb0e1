import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeSensor, decodeSummary, kmh, mph, parseStatusTime } from "../src/records.js";

const enc = (v) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));
const good = { Name: "Shadowfax", StatusTime: "2026-11-25 18:21:01.427", Latitude: 40.749167, Longitude: -73.985184,
  Distance: 30.27, HealthPoints: 151, MagicPoints: 149 };

test("a contract record decodes", () => {
  const { record, error } = decodeSensor(enc(good));
  assert.equal(error, undefined);
  assert.equal(record.name, "Shadowfax");
  assert.equal(record.statusMs, Date.UTC(2026, 10, 25, 18, 21, 1, 427));
  assert.equal(record.distance, 30.27);
});

test("bad records are rejected with a reason, never thrown", () => {
  const cases = [
    [new Uint8Array([0xff, 0xfe, 0x00]), "not UTF-8"],
    [enc("{not json"), "not JSON"],
    [enc("[1,2]"), "not a JSON object"],
    [enc("null"), "not a JSON object"],
    [enc({ ...good, Name: "" }), "Name missing"],
    [enc({ ...good, Name: 7 }), "Name missing"],
    [enc({ ...good, StatusTime: "yesterday" }), "StatusTime invalid"],
    [enc({ ...good, StatusTime: "2026-02-30 10:00:00.000" }), "StatusTime invalid"],
    [enc({ ...good, Latitude: 91 }), "Latitude invalid"],
    [enc({ ...good, Longitude: "x" }), "Longitude invalid"],
    [enc({ ...good, Distance: -1 }), "Distance invalid"],
    [enc({ ...good, HealthPoints: null }), "HealthPoints invalid"],
    [enc({ ...good, MagicPoints: undefined }), "MagicPoints invalid"],
  ];
  for (const [bytes, reason] of cases) assert.equal(decodeSensor(bytes).error, reason);
});

test("summaries decode, with RecordCount and WindowEnd optional", () => {
  const s = { Name: "Shadowfax", StatusTime: "2026-11-25 18:21:00.000", Distance: 1803.5, MinMagicPoints: 140,
    MaxMagicPoints: 150, MinHealthPoints: 98, MaxHealthPoints: 151, RecordCount: 60, WindowEnd: "2026-11-25 18:22:00.000" };
  assert.equal(decodeSummary(enc(s)).summary.minHealth, 98);
  assert.equal(decodeSummary(enc({ ...s, RecordCount: undefined })).summary.recordCount, null);
  assert.equal(decodeSummary(enc({ ...s, MaxMagicPoints: "a" })).error, "MaxMagicPoints invalid");
  assert.equal(decodeSummary(enc({ ...s, RecordCount: -1 })).error, "RecordCount invalid");
});

test("speed: Distance is metres in the last second", () => {
  assert.ok(Math.abs(kmh(30) - 108) < 1e-9);
  assert.ok(Math.abs(mph(30) - 67.1082) < 1e-9);
  assert.ok(Number.isNaN(parseStatusTime("2026-11-25T18:21:00")));
});
