// TODO: common/clock.ts — the same Clock as there (being added on another
// branch); this file goes once it lands and the imports point there.

/** What Clock.setTimeout hands back. unref(): the process may exit while it waits. */
export interface ClockTimer {
  unref(): unknown;
}

/** Time as the webhook's loops see it; tests move it by hand (jest fake timers reach realClock too). */
export interface Clock {
  /** Milliseconds since the epoch, like Date.now(). */
  now(): number;
  /** Calls fn once, ms from now. */
  setTimeout(fn: () => void, ms: number): ClockTimer;
  /** Cancels a timer of this clock that has not fired yet. */
  clearTimeout(timer: ClockTimer): void;
}

/** Date.now and the global timers, looked up at each call. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};
