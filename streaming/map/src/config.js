// The page's configuration, served next to it as config.json (written by `wildrydes map` for the local
// endpoint, by `wildrydes deploy --aws` for AWS). It holds identifiers only: never credentials.

export const DEFAULTS = {
  endpoint: null, // null on AWS: the SDK's regional endpoints
  tiles: null, // {url, attribution, maxZoom}: online tiles, only when configured
  pollIntervalMs: 1000,
  center: [40.749167, -73.985184], // the workshop's start point, Midtown Manhattan
  zoom: 12,
};

export function validateConfig(raw) {
  if (!raw || typeof raw !== "object") throw new Error("config.json is not a JSON object");
  const problems = [];
  const text = (v) => typeof v === "string" && v.trim() !== "";
  if (!text(raw.region)) problems.push("region");
  if (!text(raw.identityPoolId)) problems.push("identityPoolId");
  if (!text(raw.guestRoleArn)) problems.push("guestRoleArn");
  if (!raw.streams || !text(raw.streams.source) || !text(raw.streams.summary)) problems.push("streams.source/summary");
  if (raw.endpoint != null && !/^https?:\/\/[^\s]+$/.test(raw.endpoint)) problems.push("endpoint");
  if (raw.tiles != null && !(raw.tiles && /^https?:\/\//.test(raw.tiles.url ?? ""))) problems.push("tiles.url");
  if (problems.length) throw new Error(`config.json: missing or invalid ${problems.join(", ")}`);
  return { ...DEFAULTS, ...raw };
}

export async function loadConfig(url = "config.json", fetchImpl = fetch) {
  const response = await fetchImpl(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  return validateConfig(await response.json());
}
