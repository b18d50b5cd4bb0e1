// The Wild Rydes live map: boots from config.json, reads both streams with guest Cognito credentials
// and keeps the map, the panel and the popup up to date. No network beyond the page's own server and
// the configured AWS endpoint (or AWS's regional endpoints).
import "leaflet/dist/leaflet.css";
import "./style.css";
import L from "leaflet";
import { kinesisClient } from "./aws.js";
import { addBasemap } from "./basemap.js";
import { loadConfig } from "./config.js";
import { Fleet } from "./fleet.js";
import { FleetLayer } from "./fleetLayer.js";
import { FleetPanel } from "./panel.js";
import { UnicornPopup } from "./popup.js";
import { Backoff } from "./backoff.js";
import { StreamReader } from "./reader.js";
import { decodeSensor, decodeSummary } from "./records.js";
import { ConnectionStatus } from "./status.js";

const SUMMARY_LOOKBACK_MS = 130_000; // start the summary stream early enough to show the last full minute

async function configWithRetry(status) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await loadConfig();
    } catch (error) {
      const wait = Math.min(30_000, 1000 * 2 ** attempt);
      status.report({ ok: false, stream: "config", message: error.message, retryInMs: wait, attempt });
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

async function main() {
  const status = new ConnectionStatus({
    banner: document.getElementById("banner"), line: document.getElementById("status"),
  });
  const config = await configWithRetry(status);
  status.clear("config");

  const map = L.map("map", { zoomControl: true, minZoom: 10, maxZoom: 18, preferCanvas: true })
    .setView(config.center, config.zoom);
  const basemap = await addBasemap(map, config).catch((error) => {
    console.error(error);
    return { kind: "none" };
  });
  if (basemap.bounds) map.setMaxBounds(basemap.bounds.pad(0.25));
  document.body.dataset.basemap = basemap.kind;

  const fleet = new Fleet();
  let selected = null;
  const isSelected = (name) => name === selected;
  const layer = new FleetLayer(fleet, { isSelected }).addTo(map);
  const popup = new UnicornPopup(map, fleet, { onClose: () => select(null) });
  const panel = new FleetPanel(document.getElementById("panel"), fleet, {
    isSelected, onSelect: (name) => select(name, { pan: true }),
  });

  function select(name, { pan = false } = {}) {
    selected = name;
    if (name) {
      const u = fleet.unicorns.get(name);
      if (u && pan) map.panTo([u.lat, u.lon]);
      popup.open(name);
    } else {
      popup.close();
    }
    panel.render();
    layer.requestRedraw();
  }

  map.on("click", (event) => {
    const name = layer.hit(event.containerPoint.x, event.containerPoint.y);
    if (name) select(name);
  });
  map.on("mousemove", (event) => {
    map.getContainer().style.cursor = layer.hit(event.containerPoint.x, event.containerPoint.y) ? "pointer" : "";
  });

  const client = kinesisClient(config);
  const onStatus = (s) => status.report(s);
  // Retries: 1 s doubling to 10 s (a live map should come back quickly once the endpoint does).
  const backoff = () => new Backoff({ baseMs: 1000, maxMs: 10_000 });
  const source = new StreamReader({
    client, streamName: config.streams.source, pollMs: config.pollIntervalMs, maxBehindMs: 60_000, onStatus, backoff,
    limit: 5000,
    onRecords(records) {
      for (const r of records) {
        const { record, error } = decodeSensor(r.Data);
        if (error) status.badRecord(error);
        else fleet.applySensor(record);
      }
      fleet.adoptPending();
      layer.requestRedraw();
    },
  }).start();
  const summaries = new StreamReader({
    client, streamName: config.streams.summary, pollMs: config.pollIntervalMs, onStatus, backoff, limit: 5000,
    startPosition: { type: "AT_TIMESTAMP", timestamp: new Date(Date.now() - SUMMARY_LOOKBACK_MS) },
    onRecords(records) {
      for (const r of records) {
        const { summary, error } = decodeSummary(r.Data);
        if (error) status.badRecord(`summary: ${error}`);
        else fleet.applySummary(summary);
      }
    },
  }).start();

  // Once a second: fading, removal of long-silent unicorns, panel, popup, banner countdown.
  setInterval(() => {
    fleet.sweep();
    panel.render();
    popup.update();
    status.render();
    document.getElementById("low-count").textContent = String(fleet.counts().low);
    layer.requestRedraw();
  }, 1000);
  panel.render();

  // Read-only diagnostics for support and the browser tests (no secrets: the page holds none).
  window.wildrydesMap = {
    config: { region: config.region, endpoint: config.endpoint, streams: config.streams },
    map,
    fleet,
    layer,
    readers: { source, summaries },
    status,
    unicorn(name) {
      const u = fleet.unicorns.get(name);
      if (!u) return null;
      const p = layer.containerPoint(u);
      return {
        name: u.name, lat: u.lat, lon: u.lon, kmh: u.kmh, mph: u.mph, health: u.health, magic: u.magic,
        statusTime: u.statusTime, low: fleet.isLow(u), silent: fleet.isSilent(u), trail: u.trail.length,
        summary: u.summary, x: p.x, y: p.y,
      };
    },
    names: () => [...fleet.unicorns.keys()],
    select,
  };
  document.body.dataset.ready = "true";
}

main().catch((error) => {
  console.error(error);
  const banner = document.getElementById("banner");
  banner.hidden = false;
  banner.textContent = `The map failed to start: ${error.message}`;
});
