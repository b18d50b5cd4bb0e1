// The side panel: the fleet as a sortable, filterable list (virtualised: only the rows in view exist,
// so 1,000 unicorns cost ~30 rows of DOM) and the latest per-minute summary of the selected unicorn.
import { SORT_KEYS, sortedUnicorns } from "./fleet.js";
import { ago, el, fmt0, km, minuteOf } from "./format.js";

const ROW_HEIGHT = 30;
const OVERSCAN = 6;

export class FleetPanel {
  constructor(root, fleet, { onSelect = () => {}, isSelected = () => false } = {}) {
    Object.assign(this, { root, fleet, onSelect, isSelected });
    this.sortKey = "name";
    this.descending = false;
    this.filter = "";
    this.list = root.querySelector("#fleet-list");
    this.spacer = root.querySelector("#fleet-spacer");
    this.details = root.querySelector("#details");
    this.count = root.querySelector("#fleet-count");
    this.rows = [];
    this.sorted = [];
    for (const button of root.querySelectorAll("[data-sort]")) {
      button.addEventListener("click", () => this.sortBy(button.dataset.sort));
    }
    root.querySelector("#filter").addEventListener("input", (event) => {
      this.filter = event.target.value;
      this.render();
    });
    this.list.addEventListener("scroll", () => this.renderRows(), { passive: true });
    this.list.addEventListener("click", (event) => {
      const row = event.target.closest("[data-name]");
      if (row) this.onSelect(row.dataset.name);
    });
    this.list.addEventListener("keydown", (event) => {
      const row = event.target.closest("[data-name]");
      if (row && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        this.onSelect(row.dataset.name);
      }
    });
    this.updateSortButtons();
  }

  sortBy(key) {
    if (!SORT_KEYS.includes(key)) return;
    // Name sorts A→Z first; speed sorts fastest first; vitals sort weakest first.
    if (this.sortKey === key) this.descending = !this.descending;
    else this.descending = key === "speed";
    this.sortKey = key;
    this.updateSortButtons();
    this.render();
  }

  updateSortButtons() {
    for (const button of this.root.querySelectorAll("[data-sort]")) {
      const active = button.dataset.sort === this.sortKey;
      button.classList.toggle("active", active);
      button.setAttribute("aria-pressed", String(active));
      button.dataset.direction = active ? (this.descending ? "desc" : "asc") : "";
    }
  }

  render() {
    this.sorted = sortedUnicorns(this.fleet, this.sortKey, this.descending, this.filter);
    const counts = this.fleet.counts();
    this.count.textContent = `${counts.total} unicorns` + (this.filter ? ` (${this.sorted.length} shown)` : "");
    this.spacer.style.height = `${this.sorted.length * ROW_HEIGHT}px`;
    this.renderRows();
    this.renderDetails();
  }

  renderRows() {
    const top = this.list.scrollTop;
    const height = this.list.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.sorted.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    const needed = last - first;
    while (this.rows.length < needed) {
      const row = el("div", "row");
      row.setAttribute("role", "listitem");
      row.tabIndex = 0;
      for (const name of ["name", "speed", "health", "magic", "summary"]) row.append(el("span", `cell ${name}`));
      this.spacer.append(row);
      this.rows.push(row);
    }
    const now = this.fleet.now();
    for (let i = 0; i < this.rows.length; i++) {
      const row = this.rows[i];
      const u = this.sorted[first + i];
      if (i >= needed || !u) {
        row.hidden = true;
        continue;
      }
      row.hidden = false;
      row.style.transform = `translateY(${(first + i) * ROW_HEIGHT}px)`;
      row.dataset.name = u.name;
      const silent = this.fleet.isSilent(u, now);
      row.className = "row" + (this.fleet.isLow(u) ? " low" : "") + (silent ? " silent" : "")
        + (this.isSelected(u.name) ? " selected" : "");
      const [name, speed, health, magic, summary] = row.children;
      name.textContent = u.name;
      name.title = silent ? `silent since ${ago(now - u.lastSeen)}` : u.name;
      speed.textContent = `${fmt0(u.kmh)} km/h`;
      health.textContent = fmt0(u.health);
      health.classList.toggle("low", u.health < 100);
      magic.textContent = fmt0(u.magic);
      magic.classList.toggle("low", u.magic < 100);
      const s = u.summary;
      summary.textContent = s ? `${minuteOf(s.statusTime)} ${km(s.distance)}` : "–";
      summary.title = s
        ? `minute ${minuteOf(s.statusTime)} UTC: ${km(s.distance)}, health ${s.minHealth}–${s.maxHealth}, `
          + `magic ${s.minMagic}–${s.maxMagic}` + (s.recordCount != null ? `, ${s.recordCount} records` : "")
        : "no per-minute summary yet";
    }
  }

  renderDetails() {
    const selected = [...this.fleet.unicorns.values()].find((u) => this.isSelected(u.name));
    this.details.replaceChildren();
    if (!selected) {
      this.details.append(el("p", "hint", "Select a unicorn (on the map or in the list) for its latest minute."));
      return;
    }
    this.details.append(el("h3", null, selected.name));
    const s = selected.summary;
    if (!s) {
      this.details.append(el("p", "hint", "No per-minute summary yet (one arrives after each full minute)."));
      return;
    }
    const dl = el("dl", "summary");
    dl.dataset.name = selected.name;
    const add = (label, value, className) => dl.append(el("dt", null, label), el("dd", className, value));
    add("Minute (UTC)", `${s.statusTime.slice(0, 16)}` + (s.windowEnd ? ` – ${s.windowEnd.slice(11, 16)}` : ""), "minute");
    add("Distance", `${km(s.distance)} (avg ${fmt0((s.distance / 60) * 3.6)} km/h)`, "distance");
    add("Health", `${s.minHealth} – ${s.maxHealth}`, "health" + (s.minHealth < 100 ? " low" : ""));
    add("Magic", `${s.minMagic} – ${s.maxMagic}`, "magic" + (s.minMagic < 100 ? " low" : ""));
    if (s.recordCount != null) add("Records", String(s.recordCount), "records");
    this.details.append(dl);
  }
}
