/**
 * Time as the long-running loops see it: what time it is, and one-shot
 * timers. Whatever waits or reads the time on its own schedule (the
 * operator's Reflector, WorkQueue and LeaderElector, the webhook's
 * CertRotator) takes a Clock, so that its tests move time by hand instead
 * of sleeping. realClock, the default, is Date.now and the global timers
 * (looked up at each call, so jest.useFakeTimers() reaches it too).
 */

/** What Clock.setTimeout hands back. unref(): the process may exit while it waits. */
export interface ClockTimer {
  unref(): unknown;
}

export interface Clock {
  /** Milliseconds since the epoch, like Date.now(). */
  now(): number;
  /** Calls fn once, ms from now. */
  setTimeout(fn: () => void, ms: number): ClockTimer;
  /** Cancels a timer of this clock that has not fired yet. */
  clearTimeout(timer: ClockTimer): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};

/**
 * Waits ms on the clock. Resolves true when the time has passed, false as
 * soon as the signal aborts (at once if it already has); never rejects.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clock.clearTimeout(timer);
      resolve(false);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
