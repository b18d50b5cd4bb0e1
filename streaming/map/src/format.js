// Number and time formatting shared by the panel and the popup.
export const fmt1 = (v) => (Number.isFinite(v) ? v.toFixed(1) : "–");
export const fmt0 = (v) => (Number.isFinite(v) ? String(Math.round(v)) : "–");
export const km = (metres) => (Number.isFinite(metres) ? `${(metres / 1000).toFixed(2)} km` : "–");

/** "2026-11-25 18:21:00.000" -> "18:21" */
export const minuteOf = (statusTime) => (typeof statusTime === "string" ? statusTime.slice(11, 16) : "–");

export function ago(ms) {
  if (!Number.isFinite(ms) || ms < 0) return "–";
  if (ms < 1500) return "now";
  if (ms < 60_000) return `${Math.round(ms / 1000)} s ago`;
  return `${Math.round(ms / 60_000)} min ago`;
}

/** Builds an element with text content only (names come from the stream: never HTML). */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
