/**
 * A token bucket for the operator's writes: `ratePerSecond` tokens a second,
 * at most `burst` saved up; take() resolves once a token is had, in the
 * order asked. After a quiet spell a burst goes out at once (a leader's
 * first reconciles, a handful of changes); a longer run of writes is held
 * to the rate, so a resync of a thousand namespaces cannot flood the API
 * server (client-go's rest.Config QPS/Burst, for writes). ratePerSecond 0:
 * no limit.
 */
import { realClock, type Clock, type ClockTimer } from '../../../common/clock.ts';

export interface TokenBucketOptions {
  ratePerSecond: number;
  burst: number;
  clock?: Clock;
}

export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;
  readonly #waiters: Array<() => void> = [];
  #timer: ClockTimer | undefined;

  constructor(o: TokenBucketOptions) {
    this.#rate = Math.max(0, o.ratePerSecond);
    this.#burst = Math.max(1, Math.floor(o.burst));
    this.#clock = o.clock ?? realClock;
    this.#tokens = this.#burst;
    this.#last = this.#clock.now();
  }

  /** Tokens available now (fractional while refilling). */
  get tokens(): number {
    this.#refill();
    return this.#tokens;
  }

  /** Callers waiting for a token. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Resolves when the caller may write. */
  take(): Promise<void> {
    if (this.#rate === 0) return Promise.resolve();
    this.#refill();
    if (!this.#waiters.length && this.#tokens >= 1) {
      this.#tokens -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.#waiters.push(resolve);
      this.#schedule();
    });
  }

  #refill(): void {
    const now = this.#clock.now();
    if (now > this.#last) {
      this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) * this.#rate) / 1000);
      this.#last = now;
    }
  }

  #schedule(): void {
    if (this.#timer || !this.#waiters.length) return;
    const ms = Math.max(1, Math.ceil(((1 - this.#tokens) * 1000) / this.#rate));
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#refill();
      while (this.#waiters.length && this.#tokens >= 1) {
        this.#tokens -= 1;
        this.#waiters.shift()!();
      }
      this.#schedule();
    }, ms);
    this.#timer.unref();
  }
}
