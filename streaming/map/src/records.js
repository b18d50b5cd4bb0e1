// Decoding and validation of the records the map reads. A record that does not parse or breaks the
// contract is rejected with a reason (the page counts it and goes on); it never throws.

const decoder = new TextDecoder("utf-8", { fatal: true });
const STATUS_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;
const MAX_NAME = 256;

/** "YYYY-MM-DD HH:MM:SS.fff" (UTC) -> epoch milliseconds, or NaN. */
export function parseStatusTime(text) {
  const m = typeof text === "string" ? STATUS_TIME.exec(text) : null;
  if (!m) return NaN;
  const ms = m[7] ? Number(m[7].padEnd(3, "0").slice(0, 3)) : 0;
  const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], ms);
  const check = new Date(t);
  return check.getUTCDate() === +m[3] && check.getUTCHours() === +m[4] ? t : NaN;
}

function parse(bytes) {
  let text;
  try {
    text = typeof bytes === "string" ? bytes : decoder.decode(bytes);
  } catch {
    return { error: "not UTF-8" };
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: "not JSON" };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { error: "not a JSON object" };
  return { value };
}

const finite = (v) => typeof v === "number" && Number.isFinite(v);

function checkName(name) {
  if (typeof name !== "string" || name.trim() === "") return "Name missing";
  if (name.length > MAX_NAME) return "Name too long";
  return null;
}

/** A raw sensor record -> { record } or { error }. */
export function decodeSensor(bytes) {
  const { value, error } = parse(bytes);
  if (error) return { error };
  const nameError = checkName(value.Name);
  if (nameError) return { error: nameError };
  const statusMs = parseStatusTime(value.StatusTime);
  if (Number.isNaN(statusMs)) return { error: "StatusTime invalid" };
  const { Latitude: lat, Longitude: lon, Distance: distance, HealthPoints: health, MagicPoints: magic } = value;
  if (!finite(lat) || lat < -90 || lat > 90) return { error: "Latitude invalid" };
  if (!finite(lon) || lon < -180 || lon > 180) return { error: "Longitude invalid" };
  if (!finite(distance) || distance < 0) return { error: "Distance invalid" };
  if (!finite(health)) return { error: "HealthPoints invalid" };
  if (!finite(magic)) return { error: "MagicPoints invalid" };
  return {
    record: { name: value.Name, statusTime: value.StatusTime, statusMs, lat, lon, distance, health, magic },
  };
}

/** A per-minute summary from wildrydes-summary -> { summary } or { error }. */
export function decodeSummary(bytes) {
  const { value, error } = parse(bytes);
  if (error) return { error };
  const nameError = checkName(value.Name);
  if (nameError) return { error: nameError };
  const statusMs = parseStatusTime(value.StatusTime);
  if (Number.isNaN(statusMs)) return { error: "StatusTime invalid" };
  const fields = ["Distance", "MinMagicPoints", "MaxMagicPoints", "MinHealthPoints", "MaxHealthPoints"];
  for (const field of fields) if (!finite(value[field])) return { error: `${field} invalid` };
  if (value.RecordCount !== undefined && !(Number.isInteger(value.RecordCount) && value.RecordCount >= 0)) {
    return { error: "RecordCount invalid" };
  }
  return {
    summary: {
      name: value.Name,
      statusTime: value.StatusTime,
      statusMs,
      windowEnd: typeof value.WindowEnd === "string" ? value.WindowEnd : null,
      distance: value.Distance,
      minHealth: value.MinHealthPoints,
      maxHealth: value.MaxHealthPoints,
      minMagic: value.MinMagicPoints,
      maxMagic: value.MaxMagicPoints,
      recordCount: value.RecordCount ?? null,
    },
  };
}

/** Distance is metres moved in the last second: m/s -> km/h and mph. */
export const kmh = (distance) => distance * 3.6;
export const mph = (distance) => distance * 2.23694;
