// The popup of one unicorn: name, speed in km/h and mph, health and magic (low values stand out),
// last report and the latest per-minute summary. Kept up to date while it is open.
import L from "leaflet";
import { LOW_VITALS } from "./fleet.js";
import { ago, el, fmt0, fmt1, km, minuteOf } from "./format.js";

export class UnicornPopup {
  constructor(map, fleet, { onClose = () => {} } = {}) {
    this.map = map;
    this.fleet = fleet;
    this.name = null;
    this.popup = L.popup({ className: "unicorn-popup", autoPan: true, offset: [0, -10], maxWidth: 280 });
    this.popup.on("remove", () => {
      if (this.name !== null) {
        this.name = null;
        onClose();
      }
    });
  }

  open(name) {
    const u = this.fleet.unicorns.get(name);
    if (!u) return;
    this.name = name;
    this.popup.setLatLng([u.lat, u.lon]).setContent(this.content(u));
    if (!this.map.hasLayer(this.popup)) this.popup.openOn(this.map);
  }

  close() {
    const open = this.name !== null;
    this.name = null;
    if (open) this.map.closePopup(this.popup);
  }

  /** Refreshes the open popup (position and values). */
  update() {
    if (this.name === null) return;
    const u = this.fleet.unicorns.get(this.name);
    if (!u) {
      this.close();
      return;
    }
    this.popup.setLatLng([u.lat, u.lon]).setContent(this.content(u));
  }

  content(u) {
    const now = this.fleet.now();
    const root = el("div", "popup-body");
    root.dataset.name = u.name;
    const title = el("h3", "popup-name", u.name);
    root.append(title);
    if (this.fleet.isSilent(u, now)) root.append(el("p", "popup-silent", `silent since ${ago(now - u.lastSeen)}`));
    const dl = el("dl");
    const row = (label, value, className, low = false) => {
      dl.append(el("dt", null, label));
      const dd = el("dd", className + (low ? " low" : ""), value);
      dl.append(dd);
    };
    row("Speed", `${fmt1(u.kmh)} km/h · ${fmt1(u.mph)} mph`, "popup-speed");
    row("Health", fmt0(u.health), "popup-health", u.health < LOW_VITALS);
    row("Magic", fmt0(u.magic), "popup-magic", u.magic < LOW_VITALS);
    row("Reported", `${u.statusTime} UTC`, "popup-time");
    const s = u.summary;
    if (s) {
      row(`Minute ${minuteOf(s.statusTime)}`,
        `${km(s.distance)}, health ${fmt0(s.minHealth)}–${fmt0(s.maxHealth)}, magic ${fmt0(s.minMagic)}–${fmt0(s.maxMagic)}`,
        "popup-summary");
    }
    root.append(dl);
    return root;
  }
}
