// Exponential backoff with jitter, for retries against an endpoint that is down.

export class Backoff {
  constructor({ baseMs = 1000, maxMs = 30000, factor = 2, jitter = 0.2, random = Math.random } = {}) {
    Object.assign(this, { baseMs, maxMs, factor, jitter, random });
    this.attempts = 0;
  }

  /** The delay before the next attempt (and counts the attempt). */
  next() {
    const raw = Math.min(this.maxMs, this.baseMs * this.factor ** this.attempts);
    this.attempts += 1;
    const spread = raw * this.jitter;
    return Math.max(0, Math.round(raw - spread + 2 * spread * this.random()));
  }

  reset() {
    this.attempts = 0;
  }
}
