/**
 * For unit tests: a Clock (common/clock.ts) whose time moves only when the
 * test says so, so that backoffs, retry periods and deadlines are exercised
 * without sleeping. Timers fire in time order (same instant: in the order
 * they were set); after each, the promise callbacks it set off run before
 * the next one fires.
 *
 *   advance(ms)      moves time by ms, firing what falls due on the way
 *   tick()           moves time to the earliest timer and fires it
 *   whenPending(n)   resolves once n timers wait: the loops under test that
 *                    talk to a real server are all asleep, none mid-request
 */
import type { Clock, ClockTimer } from '../../../common/clock.ts';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

class FakeTimer implements ClockTimer {
  unref(): this {
    return this;
  }
}

/** Lets queued promise callbacks, and I/O already done, run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<ClockTimer, Pending>();
  readonly #waiters: Array<{ n: number; resolve: () => void }> = [];

  constructor(start = Date.parse('2025-06-01T12:00:00Z')) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    const timer = new FakeTimer();
    this.#timers.set(timer, { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn });
    for (const w of this.#waiters.filter((w) => this.#timers.size >= w.n)) {
      this.#waiters.splice(this.#waiters.indexOf(w), 1);
      w.resolve();
    }
    return timer;
  }

  clearTimeout(timer: ClockTimer): void {
    this.#timers.delete(timer);
  }

  /** Timers set and neither fired nor cleared. */
  get pending(): number {
    return this.#timers.size;
  }

  whenPending(n: number): Promise<void> {
    if (this.#timers.size >= n) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ n, resolve }));
  }

  /** Moves time to the earliest timer (if it is due by `limit`), fires it and lets what it set off run; false when none was. */
  async tick(limit = Infinity): Promise<boolean> {
    await settle();
    let first: [ClockTimer, Pending] | undefined;
    for (const entry of this.#timers) {
      const [, p] = entry;
      if (p.at <= limit && (!first || p.at < first[1].at || (p.at === first[1].at && p.seq < first[1].seq))) first = entry;
    }
    if (!first) return false;
    const [timer, p] = first;
    this.#timers.delete(timer);
    this.#now = Math.max(this.#now, p.at);
    p.fn();
    await settle();
    return true;
  }

  /** Moves time forward by ms, firing every timer that falls due meanwhile, those set on the way included. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    while (await this.tick(target));
    this.#now = target;
  }
}
