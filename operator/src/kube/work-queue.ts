/**
 * A de-duplicating work queue of keys (here: namespaces), after client-go's:
 *   - a key waiting in the queue is there once, however often it is added;
 *   - a key being processed is never handed out twice at once; added again
 *     meanwhile, it comes back once the worker calls done();
 *   - addRateLimited() re-adds a failed key after an exponential backoff
 *     that grows with its consecutive failures; forget() resets it;
 *   - keys added with priority 'low' (a resync: every namespace again)
 *     wait behind every other key, so a change made meanwhile is not stuck
 *     behind a thousand unchanged namespaces; an ordinary add() of a key
 *     waiting as low moves it to the front line.
 */
import { realClock, type Clock, type ClockTimer } from '../../../common/clock.ts';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';

export interface WorkQueueOptions {
  backoff?: BackoffPolicy;
  /** Called whenever the number of waiting keys changes. */
  onDepth?: (depth: number) => void;
  /** Times addAfter(); default realClock. */
  clock?: Clock;
}

export class WorkQueue {
  readonly #queue: string[] = [];
  readonly #low: string[] = [];
  readonly #dirty = new Set<string>();
  /** Dirty keys added only with priority 'low'. */
  readonly #lowKeys = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #delayed = new Map<string, { at: number; timer: ClockTimer }>();
  readonly #failures = new Map<string, number>();
  readonly #waiters: Array<(key: string | undefined) => void> = [];
  readonly #policy: BackoffPolicy;
  readonly #onDepth: (depth: number) => void;
  readonly #clock: Clock;
  #shutDown = false;

  constructor(o: WorkQueueOptions = {}) {
    this.#policy = o.backoff ?? { baseMs: 200, maxMs: 60_000 };
    this.#onDepth = o.onDepth ?? (() => {});
    this.#clock = o.clock ?? realClock;
  }

  /** Keys waiting to be handed out. */
  get depth(): number {
    return this.#queue.length + this.#low.length;
  }

  get shuttingDown(): boolean {
    return this.#shutDown;
  }

  add(key: string, priority: 'normal' | 'low' = 'normal'): void {
    if (this.#shutDown) return;
    if (this.#dirty.has(key)) {
      if (priority === 'low' || !this.#lowKeys.delete(key)) return;
      const i = this.#low.indexOf(key);
      if (i !== -1) {
        this.#low.splice(i, 1);
        this.#queue.push(key);
      }
      return;
    }
    this.#dirty.add(key);
    if (priority === 'low') this.#lowKeys.add(key);
    if (this.#processing.has(key)) return;
    this.#push(key);
  }

  /** Adds the key after `ms` (a sooner pending add wins). */
  addAfter(key: string, ms: number): void {
    if (this.#shutDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.#clock.now() + ms;
    const pending = this.#delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) this.#clock.clearTimeout(pending.timer);
    const timer = this.#clock.setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.#delayed.set(key, { at, timer });
  }

  /** Moves the waiting keys `keep` does not accept behind every other (priority 'low'). */
  demote(keep: (key: string) => boolean): void {
    const stay: string[] = [];
    for (const key of this.#queue.splice(0)) {
      if (keep(key)) stay.push(key);
      else {
        this.#lowKeys.add(key);
        this.#low.push(key);
      }
    }
    this.#queue.push(...stay);
  }

  /** Re-adds a key that failed, after its backoff; returns the delay. */
  addRateLimited(key: string): number {
    const n = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, n);
    const delay = backoffDelay(n, this.#policy);
    this.addAfter(key, delay);
    return delay;
  }

  /** Consecutive failures of a key so far. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The key succeeded: its backoff starts over. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /**
   * The next key, waiting for one if need be; undefined once the queue shuts
   * down or the signal aborts. The caller must call done(key) after.
   */
  get(signal?: AbortSignal): Promise<string | undefined> {
    if (this.depth) return Promise.resolve(this.#take());
    if (this.#shutDown || signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter = (key: string | undefined) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(key);
      };
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i !== -1) this.#waiters.splice(i, 1);
        resolve(undefined);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key)) this.#push(key);
  }

  /** Hands out nothing more; waiting get() calls resolve to undefined. */
  shutDown(): void {
    this.#shutDown = true;
    for (const d of this.#delayed.values()) this.#clock.clearTimeout(d.timer);
    this.#delayed.clear();
    for (const w of this.#waiters.splice(0)) w(undefined);
  }

  #push(key: string): void {
    (this.#lowKeys.has(key) ? this.#low : this.#queue).push(key);
    const waiter = this.#waiters.shift();
    if (waiter) waiter(this.#take());
    else this.#onDepth(this.depth);
  }

  #take(): string {
    const key = (this.#queue.length ? this.#queue : this.#low).shift()!;
    this.#dirty.delete(key);
    this.#lowKeys.delete(key);
    this.#processing.add(key);
    this.#onDepth(this.depth);
    return key;
  }
}
