/**
 * Keeps an ObjectStore in step with the API server: list, then watch from
 * the list's resourceVersion, and again and again. A watch that ends (the
 * server's timeoutSeconds) is reopened from the last resourceVersion seen;
 * 410 Gone / Expired means that version is too old: list afresh (the store
 * reports what changed meanwhile, deletions included). Any other error
 * waits with exponential backoff and tries again; nothing stops the loop
 * but stop().
 */
import { realClock, sleep, type Clock } from '../../../common/clock.ts';
import type { Logger } from '../../../common/log.ts';
import { KubeApiError, WatchClosedError } from '../errors.ts';
import type { WatchEvent } from './kube-client.ts';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';
import type { KubeObject } from './object-store.ts';

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

/** Where a reflector reads from; kube-list-watch.ts has the API server's. */
export interface ListWatchSource<T> {
  list(signal: AbortSignal): Promise<ListResult<T>>;
  /** Resolves when the stream ends; rejects on errors (KubeApiError with expired for 410). */
  watch(resourceVersion: string, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void>;
}

export interface ReflectorSink<T> {
  replace(items: T[]): void;
  upsert(o: T): void;
  remove(o: T): void;
}

export interface ReflectorOptions {
  /** For logs and metrics, e.g. "llmroutes" or "secrets/shop". */
  name: string;
  log: Logger;
  backoff?: BackoffPolicy;
  /** A watch that ends sooner than this after it opened counts as a failure (no busy loop). */
  minWatchMs?: number;
  /** Called on each relist after the first list (reason: expired | error). */
  onRelist?: (reason: 'expired' | 'error') => void;
  /** Called when a list or watch fails. */
  onError?: (err: unknown) => void;
  /** Times the watches and the backoff; default realClock. */
  clock?: Clock;
}

export class Reflector<T extends KubeObject> {
  readonly name: string;
  readonly #source: ListWatchSource<T>;
  readonly #sink: ReflectorSink<T>;
  readonly #o: ReflectorOptions;
  readonly #abort = new AbortController();
  #running: Promise<void> | undefined;
  #synced = false;
  #resolveSynced!: () => void;
  readonly #syncedPromise = new Promise<void>((r) => (this.#resolveSynced = r));

  constructor(source: ListWatchSource<T>, sink: ReflectorSink<T>, o: ReflectorOptions) {
    this.name = o.name;
    this.#source = source;
    this.#sink = sink;
    this.#o = o;
  }

  /** True once the first list has been stored. */
  get synced(): boolean {
    return this.#synced;
  }

  whenSynced(): Promise<void> {
    return this.#syncedPromise;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    const policy = this.#o.backoff ?? { baseMs: 500, maxMs: 30_000 };
    const minWatchMs = this.#o.minWatchMs ?? 1000;
    const clock = this.#o.clock ?? realClock;
    let resourceVersion: string | undefined;
    let failures = 0;
    let relistReason: 'expired' | 'error' | undefined;
    while (!signal.aborted) {
      try {
        if (resourceVersion === undefined) {
          if (relistReason) this.#o.onRelist?.(relistReason);
          const listed = await this.#source.list(signal);
          if (signal.aborted) break;
          this.#sink.replace(listed.items);
          resourceVersion = listed.resourceVersion;
          if (!this.#synced) {
            this.#synced = true;
            this.#resolveSynced();
            this.#o.log.debug('cache synced', { reflector: this.name, objects: listed.items.length });
          }
        }
        const opened = clock.now();
        let rv: string = resourceVersion;
        await this.#source.watch(
          rv,
          (e) => {
            const next = e.object?.metadata?.resourceVersion;
            if (e.type === 'ADDED' || e.type === 'MODIFIED') this.#sink.upsert(e.object);
            else if (e.type === 'DELETED') this.#sink.remove(e.object);
            if (next) rv = next;
          },
          signal,
        );
        resourceVersion = rv;
        if (clock.now() - opened < minWatchMs && !signal.aborted) throw new WatchClosedError();
        failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        this.#o.onError?.(err);
        if (err instanceof KubeApiError && err.expired) {
          // Too old a resourceVersion: list again at once.
          this.#o.log.info('resourceVersion expired, listing again', { reflector: this.name });
          resourceVersion = undefined;
          relistReason = 'expired';
          continue;
        }
        failures++;
        const delay = backoffDelay(failures, policy);
        this.#o.log.warn('list/watch failed, retrying', { reflector: this.name, error: (err as Error).message, code: (err as { code?: string }).code, retryInMs: delay });
        // After repeated failures start over with a list: the watch may never recover from here.
        if (failures >= 3 && resourceVersion !== undefined) {
          resourceVersion = undefined;
          relistReason = 'error';
        }
        if (!(await sleep(clock, delay, signal))) break;
      }
    }
  }
}
