/**
 * The timeouts of one try, as pure decisions (attempt.ts carries them out).
 *
 * - A non-stream answer arrives whole (headers and body together, after the
 *   whole generation): `firstContent` bounds the wait for it (undici's
 *   headersTimeout), `idle` the gaps within its body.
 * - A stream: `firstByte` is its liveness, the time to the response headers
 *   (undici's headersTimeout) and then to any first byte of the body (a role
 *   chunk, a `: ping` comment, a reasoning event); `firstContent` the time to
 *   its first content chunk, the commit point, gaps before it included
 *   (undici's bodyTimeout); `idle` the gaps after it (StreamSession.watchIdle).
 *
 * A stream has one timer of its own: it fires at firstByte; when bytes have
 * come by then it is set again for the rest of firstContent. Most streams
 * commit before firstByte, so it is set once and cleared. Every timeout is
 * cut to the time left of the total deadline.
 */
import type { Timeouts } from './config/runtime-config.ts';

/** Which of the route's timeouts ended a try (the cause of its abort). */
export type TimeoutCause = 'first-byte' | 'first-content';

/** The stream timer: fire after `ms` and check for `cause`. */
export interface StreamCheck {
  ms: number;
  cause: TimeoutCause;
}

export interface TryTimeouts {
  /** undici's headersTimeout. */
  headersMs: number;
  /** undici's bodyTimeout: the longest gap between two pieces of the body. */
  bodyMs: number;
  /** A stream's own timer; undefined for a non-stream request. */
  stream: StreamCheck | undefined;
}

export function tryTimeouts(t: Timeouts, stream: boolean, remainingMs: number): TryTimeouts {
  const contentMs = Math.min(t.firstContentMs, remainingMs);
  if (!stream) return { headersMs: contentMs, bodyMs: t.idleMs, stream: undefined };
  const byteMs = Math.min(t.firstByteMs, remainingMs);
  // firstContent no longer than firstByte: one check does for both.
  const check: StreamCheck = byteMs < contentMs ? { ms: byteMs, cause: 'first-byte' } : { ms: contentMs, cause: 'first-content' };
  // Before the commit point a gap in the body (a model thinking after its role chunk) is bounded by
  // firstContent, not idle; from the commit point on StreamSession.watchIdle keeps `idle`.
  return { headersMs: byteMs, bodyMs: Math.max(t.idleMs, contentMs), stream: check };
}

/**
 * The stream timer fired `elapsedMs` into the try (whose deadline was
 * `remainingMs` away when it started), checking for `cause`: end the try
 * for that timeout, or check again later for the first content.
 */
export function streamTimerFired(t: Timeouts, remainingMs: number, check: TimeoutCause, elapsedMs: number, sawBytes: boolean): TimeoutCause | StreamCheck {
  if (check === 'first-content' || !sawBytes) return check;
  const left = Math.min(t.firstContentMs, remainingMs) - elapsedMs;
  return left > 0 ? { ms: left, cause: 'first-content' } : 'first-content';
}

/** `15s`, `300ms`, `10m`: how a timeout reads in an error message. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = ms / 1000;
  if (s < 60 || s % 60 !== 0) return `${s}s`;
  return s % 3600 === 0 ? `${s / 3600}h` : `${s / 60}m`;
}

/** What the stream timer reads: whether any byte of the body has come (StreamSession). */
export interface BodyProgress {
  readonly sawBytes: boolean;
}

/**
 * A stream's one timer, carrying out tryTimeouts and streamTimerFired:
 * calls `expire` with the timeout that ran out, unless cancelled first
 * (at the commit point, or when the try ends otherwise).
 */
export class StreamTimer {
  readonly #t: Timeouts;
  readonly #remainingMs: number;
  readonly #body: BodyProgress;
  readonly #expire: (cause: TimeoutCause) => void;
  readonly #now: () => number;
  readonly #started: number;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(t: Timeouts, remainingMs: number, first: StreamCheck, body: BodyProgress, expire: (cause: TimeoutCause) => void, now: () => number = performance.now.bind(performance)) {
    this.#t = t;
    this.#remainingMs = remainingMs;
    this.#body = body;
    this.#expire = expire;
    this.#now = now;
    this.#started = now();
    this.#arm(first);
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(check: StreamCheck): void {
    this.#timer = setTimeout(this.#fired, check.ms, check.cause);
  }

  readonly #fired = (cause: TimeoutCause): void => {
    this.#timer = undefined;
    const next = streamTimerFired(this.#t, this.#remainingMs, cause, this.#now() - this.#started, this.#body.sawBytes);
    if (typeof next === 'string') this.#expire(next);
    else this.#arm(next);
  };
}
