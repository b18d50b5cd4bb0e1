import assert from "node:assert/strict";
import { test } from "node:test";
import { validateConfig } from "../src/config.js";

const good = { region: "us-east-1", identityPoolId: "us-east-1:abc", guestRoleArn: "arn:aws:iam::1:role/guest",
  endpoint: null, streams: { source: "wildrydes-map", summary: "wildrydes-summary" }, tiles: null, pollIntervalMs: 1000 };

test("a valid config gets defaults", () => {
  const config = validateConfig(good);
  assert.equal(config.zoom, 12);
  assert.deepEqual(config.center, [40.749167, -73.985184]);
});

test("invalid configs name what is wrong", () => {
  assert.throws(() => validateConfig({ ...good, identityPoolId: "" }), /identityPoolId/);
  assert.throws(() => validateConfig({ ...good, guestRoleArn: undefined }), /guestRoleArn/);
  assert.throws(() => validateConfig({ ...good, streams: { source: "x" } }), /streams/);
  assert.throws(() => validateConfig({ ...good, endpoint: "ftp://x" }), /endpoint/);
  assert.throws(() => validateConfig({ ...good, tiles: { url: "javascript:alert(1)" } }), /tiles/);
});
