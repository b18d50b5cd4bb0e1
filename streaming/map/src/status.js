// Connection banner and status line. Each stream reader reports {ok, message, retryInMs, attempt}; the
// banner shows while any reader is failing, with a countdown to the next retry, and clears by itself.
import { el } from "./format.js";

export class ConnectionStatus {
  constructor({ banner, line, now = () => Date.now() }) {
    Object.assign(this, { banner, line, now });
    this.readers = new Map(); // stream -> last status
    this.outages = 0;
    this.down = false;
    this.downSince = null;
    this.bad = { count: 0, reasons: new Map() };
  }

  report(status) {
    this.readers.set(status.stream, { ...status, at: this.now() });
    const down = [...this.readers.values()].some((s) => !s.ok);
    if (down && !this.down) {
      this.outages += 1;
      this.downSince = this.now();
    }
    this.down = down;
    this.render();
  }

  clear(stream) {
    this.readers.delete(stream);
    this.down = [...this.readers.values()].some((s) => !s.ok);
    this.render();
  }

  badRecord(reason) {
    this.bad.count += 1;
    this.bad.reasons.set(reason, (this.bad.reasons.get(reason) ?? 0) + 1);
  }

  render() {
    const failing = [...this.readers.values()].filter((s) => !s.ok);
    if (failing.length) {
      const s = failing[0];
      const retryAt = s.at + (s.retryInMs ?? 0);
      const seconds = Math.max(0, Math.ceil((retryAt - this.now()) / 1000));
      this.banner.replaceChildren(
        el("strong", null, "Connection to the stream lost"),
        el("span", null, ` — ${s.message ?? "error"}. Retrying ${seconds > 0 ? `in ${seconds} s` : "now"}`
          + ` (attempt ${s.attempt ?? 1}); the map keeps the last known positions.`),
      );
      this.banner.hidden = false;
      this.banner.dataset.state = "down";
    } else {
      this.banner.hidden = true;
      this.banner.dataset.state = "ok";
    }
    const conn = this.line.querySelector("#conn");
    conn.textContent = failing.length ? "reconnecting" : this.readers.size ? "live" : "connecting";
    conn.className = failing.length ? "down" : this.readers.size ? "ok" : "pending";
    const bad = this.line.querySelector("#bad-count");
    bad.textContent = String(this.bad.count);
    bad.parentElement.classList.toggle("has-bad", this.bad.count > 0);
    bad.parentElement.title = [...this.bad.reasons].map(([r, n]) => `${r}: ${n}`).join("\n") || "no bad records";
  }
}
