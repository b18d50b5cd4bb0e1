// One canvas for the whole fleet: every trail and icon is drawn in a single pass per animation frame,
// and only when something changed (new records, fading, the end of a pan or zoom). The canvas covers
// the view plus a margin and sits in a map pane, so it pans with the map without being redrawn.
// 1,000 unicorns with one minute of trail each are ~60k points, projected without allocations and
// thinned in screen space (a point closer than 2 px to the last one drawn is skipped).
import L from "leaflet";

export const PALETTE = [
  "#8e44ad", "#2980b9", "#16a085", "#d35400", "#c0392b", "#2c3e50",
  "#e84393", "#0984e3", "#00b894", "#6c5ce7", "#b7950b", "#7f8c8d",
];
const ICON = 26; // CSS pixels
const HIT_RADIUS = 14;
const MAX_LAT = 85.0511287798;
const LABELS_UP_TO = 40; // names are drawn next to icons when at most this many are in view
const PADDING = 0.25; // drawn beyond the view on each side, as a share of its size
const MIN_STEP_PX = 2; // trail points closer than this to the previous one drawn are skipped

function sprite(color, { low = false, selected = false, silent = false } = {}) {
  const ratio = Math.max(1, Math.ceil(globalThis.devicePixelRatio || 1));
  const size = ICON + 10;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = size * ratio;
  const g = canvas.getContext("2d");
  g.scale(ratio, ratio);
  const c = size / 2;
  const r = ICON / 2 - 3;
  if (low || selected) {
    g.beginPath();
    g.arc(c, c + 2, r + 4, 0, Math.PI * 2);
    g.fillStyle = low ? "rgba(231, 76, 60, 0.35)" : "rgba(255, 215, 0, 0.45)";
    g.fill();
    g.lineWidth = 2.5;
    g.strokeStyle = low ? "#e74c3c" : "#d4ac0d";
    g.stroke();
  }
  // Horn
  g.beginPath();
  g.moveTo(c - 3.5, c - r + 4);
  g.lineTo(c + 1, c - r - 7);
  g.lineTo(c + 3.5, c - r + 4);
  g.closePath();
  g.fillStyle = silent ? "#b8b8b8" : "#f1c40f";
  g.strokeStyle = "#7a5c00";
  g.lineWidth = 1;
  g.fill();
  g.stroke();
  // Head
  g.beginPath();
  g.arc(c, c + 2, r, 0, Math.PI * 2);
  g.fillStyle = silent ? "#9e9e9e" : color;
  g.fill();
  g.lineWidth = 2;
  g.strokeStyle = "#ffffff";
  g.stroke();
  // Eye and mane
  g.beginPath();
  g.arc(c + 3, c, 1.8, 0, Math.PI * 2);
  g.fillStyle = "#ffffff";
  g.fill();
  g.beginPath();
  g.arc(c - 4, c + 2, r - 4, Math.PI * 0.6, Math.PI * 1.4);
  g.strokeStyle = "rgba(255,255,255,0.8)";
  g.lineWidth = 2;
  g.stroke();
  return { canvas, size };
}

export const FleetLayer = L.Layer.extend({
  initialize(fleet, { isSelected = () => false } = {}) {
    this.fleet = fleet;
    this.isSelected = isSelected;
    this.scheduled = false;
    this.hitX = new Float32Array(0);
    this.hitY = new Float32Array(0);
    this.hitNames = [];
    this.stats = { draws: 0, lastDrawMs: 0, maxDrawMs: 0, totalDrawMs: 0, drawn: 0 };
  },

  onAdd(map) {
    this.map = map;
    if (!map.getPane("fleet")) map.createPane("fleet").style.zIndex = 450;
    this.canvas = L.DomUtil.create("canvas", "fleet-layer leaflet-zoom-hide", map.getPane("fleet"));
    this.canvas.setAttribute("aria-label", "unicorns");
    this.ctx = this.canvas.getContext("2d");
    this.sprites = PALETTE.map((color) => ({
      normal: sprite(color),
      low: sprite(color, { low: true }),
      selected: sprite(color, { selected: true }),
      lowSelected: sprite(color, { low: true, selected: true }),
    }));
    this.silentSprite = sprite("#9e9e9e", { silent: true });
    map.on("moveend zoomend viewreset resize", this.requestRedraw, this);
    this.requestRedraw();
  },

  onRemove(map) {
    map.off("moveend zoomend viewreset resize", this.requestRedraw, this);
    this.canvas.remove();
  },

  requestRedraw() {
    if (this.scheduled || !this.map) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.draw();
    });
  },

  /** Container pixel of a unicorn (for popups and tests); null when unknown. */
  containerPoint(u) {
    return this.map ? this.map.latLngToContainerPoint([u.lat, u.lon]) : null;
  },

  /** Where a unicorn is on the fleet canvas (CSS pixels), as of the last redraw. */
  canvasPoint(u) {
    const p = this.containerPoint(u);
    return p && this.pad ? p.add(this.pad) : p;
  },

  /** The unicorn drawn nearest to a container point, within the icon's radius. */
  hit(x, y) {
    let best = null, bestD = HIT_RADIUS * HIT_RADIUS;
    for (let i = 0; i < this.hitNames.length; i++) {
      const dx = this.hitX[i] - x, dy = this.hitY[i] - y;
      const d = dx * dx + dy * dy;
      if (d <= bestD) { bestD = d; best = this.hitNames[i]; }
    }
    return best;
  },

  draw() {
    const started = performance.now();
    const map = this.map;
    const view = map.getSize();
    const pad = (this.pad = view.multiplyBy(PADDING).round());
    const size = view.add(pad.multiplyBy(2));
    const ratio = globalThis.devicePixelRatio || 1;
    const canvas = this.canvas;
    if (canvas.width !== Math.round(size.x * ratio) || canvas.height !== Math.round(size.y * ratio)) {
      canvas.width = Math.round(size.x * ratio);
      canvas.height = Math.round(size.y * ratio);
      canvas.style.width = `${size.x}px`;
      canvas.style.height = `${size.y}px`;
    }
    // The canvas' top-left is the container point -pad (it moves with the map pane while panning).
    this.topLeft = map.containerPointToLayerPoint(pad.multiplyBy(-1));
    L.DomUtil.setPosition(canvas, this.topLeft);
    const ctx = this.ctx;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, size.x, size.y);

    // Spherical Mercator straight to canvas pixels: scale * (0.5 + x / 2π) - origin.
    const scale = map.options.crs.scale(map.getZoom());
    const origin = map.getPixelOrigin();
    const ox = origin.x + this.topLeft.x, oy = origin.y + this.topLeft.y;
    const px = (lon) => scale * (0.5 + lon / 360) - ox;
    const py = (lat) => {
      const s = Math.sin((Math.max(-MAX_LAT, Math.min(MAX_LAT, lat)) * Math.PI) / 180);
      return scale * (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) - oy;
    };
    const margin = 20;
    const inView = (x, y) => x > -margin && y > -margin && x < size.x + margin && y < size.y + margin;
    // Hit positions are kept in container pixels (what mouse events report).
    const hx = pad.x, hy = pad.y;

    const fleet = this.fleet;
    const now = fleet.now();
    const count = fleet.unicorns.size;
    if (this.hitX.length < count) {
      this.hitX = new Float32Array(count * 2);
      this.hitY = new Float32Array(count * 2);
    }
    const live = [], silent = [];
    for (const u of fleet.unicorns.values()) (fleet.isSilent(u, now) ? silent : live).push(u);

    // Trails, one stroke per colour.
    ctx.lineWidth = 2;
    ctx.lineJoin = "bevel";
    ctx.lineCap = "butt";
    const strokeTrails = (list, alpha, colorOf) => {
      ctx.globalAlpha = alpha;
      const groups = new Map();
      for (const u of list) {
        const key = colorOf(u);
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key).push(u);
      }
      for (const [color, group] of groups) {
        ctx.beginPath();
        for (const u of group) {
          const trail = u.trail;
          if (trail.length < 2) continue;
          // Newest point first, thinned in screen space; stops once out of the canvas.
          const { coords, capacity, start } = trail;
          let index = (start + trail.length - 1) % capacity;
          let lastX = px(coords[index * 2 + 1]), lastY = py(coords[index * 2]);
          ctx.moveTo(lastX, lastY);
          for (let i = trail.length - 2; i >= 0; i--) {
            index = (start + i) % capacity;
            const x = px(coords[index * 2 + 1]), y = py(coords[index * 2]);
            const dx = x - lastX, dy = y - lastY;
            if (i > 0 && dx * dx + dy * dy < MIN_STEP_PX * MIN_STEP_PX) continue;
            ctx.lineTo(x, y);
            lastX = x;
            lastY = y;
          }
        }
        ctx.strokeStyle = color;
        ctx.stroke();
      }
    };
    strokeTrails(silent, 0.25, () => "#8a8a8a");
    strokeTrails(live, 0.7, (u) => PALETTE[u.color]);
    ctx.globalAlpha = 1;

    // Icons: silent ones first (faded), then the live ones, low vitals and the selection on top.
    let n = 0;
    const drawn = [];
    const place = (u, img, alpha) => {
      const x = px(u.lon), y = py(u.lat);
      if (!inView(x, y)) return;
      ctx.globalAlpha = alpha;
      ctx.drawImage(img.canvas, x - img.size / 2, y - img.size / 2 - 2, img.size, img.size);
      this.hitX[n] = x - hx;
      this.hitY[n] = y - hy;
      this.hitNames[n] = u.name;
      n += 1;
      drawn.push([u, x, y]);
    };
    for (const u of silent) place(u, this.silentSprite, 0.35);
    ctx.globalAlpha = 1;
    const low = [], selected = [];
    for (const u of live) {
      if (this.isSelected(u.name)) selected.push(u);
      else if (fleet.isLow(u)) low.push(u);
      else place(u, this.sprites[u.color].normal, 1);
    }
    for (const u of low) place(u, this.sprites[u.color].low, 1);
    for (const u of selected) place(u, this.sprites[u.color][fleet.isLow(u) ? "lowSelected" : "selected"], 1);
    ctx.globalAlpha = 1;
    this.hitNames.length = n;

    if (n <= LABELS_UP_TO) {
      ctx.font = "600 12px system-ui, sans-serif";
      ctx.lineWidth = 3;
      ctx.strokeStyle = "rgba(255,255,255,0.9)";
      for (const [u, x, y] of drawn) {
        ctx.globalAlpha = fleet.isSilent(u, now) ? 0.45 : 1;
        ctx.fillStyle = fleet.isLow(u) ? "#c0392b" : "#222";
        ctx.strokeText(u.name, x + 15, y + 4);
        ctx.fillText(u.name, x + 15, y + 4);
      }
      ctx.globalAlpha = 1;
    }

    const ms = performance.now() - started;
    const s = this.stats;
    s.draws += 1;
    s.lastDrawMs = ms;
    s.totalDrawMs += ms;
    if (ms > s.maxDrawMs) s.maxDrawMs = ms;
    s.drawn = n;
  },
});
